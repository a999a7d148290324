"""Periodic and deferred work of the assessment app: thin, idempotent, by id.

Beat schedule (``gridsup/settings/base.py``):
- ``half_year_reports_remind`` daily: reminds county principals of a half-yearly report due
  within a week, and once more when it is overdue (one notification per grid, report, stage);
- ``assessment_run_previous_year`` on 15 January, 15 February and 15 March: the yearly run
  in Q1 for the year before (after the 10 January reports), until the office locks it.
"""

from celery import shared_task
from django.utils import timezone

from assessment import performance, services
from assessment.models import PerformancePeriod, RuleSet


@shared_task
def half_year_reports_remind() -> int:
    return services.half_year_reports_remind()


@shared_task
def assessment_run_previous_year() -> int:
    """Score the previous year again unless it is locked (or has no rule set)."""
    year = timezone.localdate().year - 1
    if not RuleSet.objects.filter(year=year, locked_at__isnull=True).exists():
        return 0
    return len(services.assessment_run(year=year, actor=None))


@shared_task
def performance_cases_assess(period_id: int) -> int:
    """Mark a locked period's evaluated cases ``assessed`` (a retry does nothing more)."""
    return performance.performance_cases_assess(period=PerformancePeriod.objects.get(pk=period_id))
