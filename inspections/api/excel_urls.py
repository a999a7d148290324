"""Routes under /api/v1/ for the Excel import/export, the inspection ledger and the plans.

Included before ``sources/<int:pk>/`` (``gridsup/api_urls.py``)."""

from django.urls import path

from inspections.api import excel_views as views

urlpatterns = [
    path("sources/import/", views.SourceImportApi.as_view(), name="api-source-import"),
    path(
        "sources/import-template/",
        views.SourceImportTemplateApi.as_view(),
        name="api-source-import-template",
    ),
    path("sources/export/", views.SourceExportApi.as_view(), name="api-source-export"),
    path("ledger/", views.LedgerApi.as_view(), name="api-ledger"),
    path(
        "supervision-plans/",
        views.SupervisionPlanListApi.as_view(),
        name="api-supervision-plan-list",
    ),
    path("patrol-plans/", views.PatrolPlanListApi.as_view(), name="api-patrol-plan-list"),
]
