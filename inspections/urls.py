"""The inspection pages, included at the site's root (``path("", include("inspections.urls"))``).

``/sources/<id>/`` is also where the patrol-alarm notifications point."""

from django.urls import path, register_converter

from inspections import views


class RowIdConverter:
    """A row id that fits a 64-bit integer column (a longer number is a 404, not a crash)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(RowIdConverter, "rowid")

urlpatterns = [
    path("sources/", views.source_list, name="source-list"),
    path("sources/due/", views.sources_due, name="sources-due"),
    path("sources/overdue/", views.sources_overdue, name="sources-overdue"),
    path("sources/import/", views.source_import, name="source-import"),
    path("sources/<rowid:pk>/", views.source_detail, name="source-detail"),
    path("sources/<rowid:pk>/confirm/", views.source_confirm, name="source-confirm"),
    path("sources/<rowid:pk>/patrol/", views.patrol_create, name="patrol-create"),
    path("patrols/<rowid:pk>/record/", views.patrol_record_sheet, name="patrol-record"),
    path(
        "patrols/<rowid:pk>/photos/<rowid:photo_pk>/",
        views.patrol_photo,
        name="patrol-photo",
    ),
    path("inspections/ledger/", views.ledger_page, name="inspection-ledger"),
    path("inspections/plans/", views.plans_page, name="inspection-plans"),
]
