"""The office's admin for sources, patrols, plans and the patrol policy.

Sources, patrols and alarms are read here (scoped like everything else) and written through the
API and the pages, which call ``inspections.services``; the policy and the checklists are the
office's data and are edited here, the policy through ``services.patrol_policy_save``.
"""

from django.contrib import admin, messages

from core.errors import DomainError
from grids.admin import ScopedAdminMixin
from inspections import draw_selectors, services
from inspections.models import (
    Checklist,
    Patrol,
    PatrolAlarm,
    PatrolPlan,
    PatrolPolicy,
    PollutionSource,
    RandomDraw,
    RandomDrawTarget,
    SupervisionPlan,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PatrolPolicy)
class PatrolPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "key_days",
        "municipal_days",
        "other_days",
        "online_check_days",
        "tighten_ratio",
        "tighten_days",
    ]

    def has_add_permission(self, request):
        return not PatrolPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        try:
            services.patrol_policy_save(policy=obj)
        except DomainError as exc:
            self.message_user(request, str(exc), level=messages.ERROR)


@admin.register(Checklist)
class ChecklistAdmin(admin.ModelAdmin):
    list_display = ["kind"]


@admin.register(PollutionSource)
class PollutionSourceAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    list_display = ["name", "grid", "control_tier", "kind", "status", "next_patrol_due"]
    list_filter = ["control_tier", "kind", "status", "online_monitoring"]
    search_fields = ["name", "credit_code"]
    list_select_related = ["grid"]


@admin.register(Patrol)
class PatrolAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    grid_prefix = "source__grid__"
    list_display = ["source", "kind", "patrolled_at", "outcome"]
    list_filter = ["kind", "outcome"]
    list_select_related = ["source"]


@admin.register(PatrolAlarm)
class PatrolAlarmAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    grid_prefix = "source__grid__"
    list_display = ["source", "kind", "due_on", "status", "level", "raised_at"]
    list_filter = ["status", "level", "kind"]
    list_select_related = ["source"]


@admin.register(SupervisionPlan)
class SupervisionPlanAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    list_display = ["title", "department", "grid", "year", "inspections_planned"]
    list_select_related = ["department", "grid"]


@admin.register(PatrolPlan)
class PatrolPlanAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    list_display = ["grid", "inspector", "month"]
    list_select_related = ["grid", "inspector"]


class RandomDrawTargetInline(admin.TabularInline):
    model = RandomDrawTarget
    extra = 0
    can_delete = False
    exclude = ["officers"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in RandomDrawTarget._meta.fields if f.name != "officers"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(RandomDraw)
class RandomDrawAdmin(ReadOnlyAdmin):
    """Visible under the same rule as the API: organisers until the inspection date."""

    list_display = ["title", "department", "grid", "inspection_date", "published_at"]
    inlines = [RandomDrawTargetInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(draw_selectors.random_draw_visible_q(user=request.user))
        )
