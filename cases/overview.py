"""The dashboard's reads of cases (selectors kept apart from ``cases.selectors`` because they
aggregate rather than list): counts in the user's scope, grouped set-based."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from cases.models import OPEN_STATES, Case
from cases.selectors import case_scope_q, overdue_q
from core.models import User
from grids.county import ancestor_of
from grids.models import Grid


@dataclass
class CaseOverview:
    by_status: dict[str, int]
    open: int
    overdue: int
    # area grid id → {"open": n, "overdue": n}
    by_area: dict[int, dict[str, int]]
    # the last ``days`` local dates, oldest first, with the cases reported on each
    received: list[tuple[date, int]]


def case_overview(
    *, user: User, areas: Sequence[Grid], now: datetime, days: int = 30
) -> CaseOverview:
    """The dashboard's case figures in the user's scope, set-based: open cases by state, the
    overdue ones, both per area (``areas``: grids that do not nest, e.g. the counties), and the
    cases reported per day. Four queries whatever the number of cases; the open-state and
    reported-at indexes serve them."""

    scoped = Case.objects.filter(case_scope_q(user=user))
    late = overdue_q(now=now)
    open_cases = scoped.filter(status__in=OPEN_STATES)
    by_status = dict(
        open_cases.order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    overdue = open_cases.filter(late).count()
    by_area: dict[int, dict[str, int]] = {}
    if areas:
        rows = (
            open_cases.annotate(area=ancestor_of(ancestors=areas))
            .order_by()
            .values("area")
            .annotate(open=Count("pk"), overdue=Count("pk", filter=late))
        )
        by_area = {
            r["area"]: {"open": r["open"], "overdue": r["overdue"]} for r in rows if r["area"]
        }
    today = timezone.localdate(now)
    first = today - timedelta(days=days - 1)
    start = timezone.make_aware(datetime.combine(first, time.min))
    counted = dict(
        scoped.filter(reported_at__gte=start)
        .annotate(day=TruncDate("reported_at"))
        .order_by()
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    received = [
        (first + timedelta(days=i), counted.get(first + timedelta(days=i), 0)) for i in range(days)
    ]
    return CaseOverview(
        by_status=by_status,
        open=sum(by_status.values()),
        overdue=overdue,
        by_area=by_area,
        received=received,
    )
