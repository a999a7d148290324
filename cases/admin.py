"""Admin for the problem categories and the duty matrix (reference data the office edits)."""

from django.contrib import admin

from cases.models import DutyRule, ProblemCategory


class DutyRuleInline(admin.TabularInline):
    model = DutyRule
    extra = 0
    fields = ("level", "sector")
    ordering = ("level",)


@admin.register(ProblemCategory)
class ProblemCategoryAdmin(admin.ModelAdmin):
    inlines = [DutyRuleInline]
    list_display = (
        "name",
        "code",
        "name_en",
        "handling_limit_days",
        "is_emergency",
        "active",
        "sort_order",
    )
    list_filter = ("is_emergency", "active")
    search_fields = ("code", "name", "name_en")
    ordering = ("sort_order", "code")
