"""Reads of sources, patrols and alarms, always through the grid scope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from core.models import User
from grids import selectors as grid_selectors
from grids.county import ancestor_of
from grids.models import Grid
from inspections.models import Patrol, PatrolAlarm, PatrolPhoto, PollutionSource


def source_list(
    *,
    user: User,
    grid: Grid | None = None,
    control_tier: str | None = None,
    kind: str | None = None,
    status: str | None = None,
    overdue: bool | None = None,
    q: str | None = None,
    on: date | None = None,
) -> QuerySet[PollutionSource]:
    qs = PollutionSource.objects.filter(grid_selectors.grid_scope_q(user=user, prefix="grid__"))
    if grid is not None:
        qs = qs.filter(grid_selectors.subtree_q(grid=grid, prefix="grid__"))
    if control_tier:
        qs = qs.filter(control_tier=control_tier)
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    if overdue is not None:
        on = on or timezone.localdate()
        late = _late_q(on)
        qs = qs.filter(late, status=PollutionSource.Status.ACTIVE) if overdue else qs.exclude(late)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(credit_code__icontains=q) | Q(address__icontains=q))
    # the grid's outline (tens of KB for a real village) is not read for a list of sources
    return qs.select_related("grid").defer("grid__boundary").order_by("next_patrol_due", "pk")


def source_get(*, user: User, pk: int) -> PollutionSource:
    source = source_list(user=user).filter(pk=pk).first()
    if source is None:
        raise Http404
    return source


def sources_due(
    *, user: User, on: date | None = None, within_days: int = 3
) -> QuerySet[PollutionSource]:
    """The inspector's "my sources due": active sources in scope due within a few days, most
    urgent (longest overdue) first."""
    on = on or timezone.localdate()
    horizon = date.fromordinal(on.toordinal() + within_days)
    return (
        source_list(user=user, status=PollutionSource.Status.ACTIVE)
        .filter(
            Q(next_patrol_due__lte=horizon)
            | Q(online_monitoring=True, next_online_check_due__lte=horizon)
        )
        .order_by("next_patrol_due", "pk")
    )


def patrol_list(*, user: User, source: PollutionSource | None = None) -> QuerySet[Patrol]:
    qs = Patrol.objects.filter(grid_selectors.grid_scope_q(user=user, prefix="source__grid__"))
    if source is not None:
        qs = qs.filter(source=source)
    return (
        qs.select_related("source", "recorded_by", "department")
        .prefetch_related(
            "officers", Prefetch("photos", queryset=PatrolPhoto.objects.order_by("pk"))
        )
        .order_by("-patrolled_at", "-pk")
    )


def patrol_alarm_list(*, user: User, status: str | None = None) -> QuerySet[PatrolAlarm]:
    qs = PatrolAlarm.objects.filter(grid_selectors.grid_scope_q(user=user, prefix="source__grid__"))
    if status:
        qs = qs.filter(status=status)
    return (
        qs.select_related("source", "source__grid")
        .defer("source__grid__boundary")
        .order_by("-raised_at", "-pk")
    )


# --- the dashboard ------------------------------------------------------------------------------


@dataclass
class SourceOverview:
    active: int
    overdue: int
    # control tier → {"active": n, "overdue": n}
    by_tier: dict[str, dict[str, int]]
    # area grid id → {"active": n, "overdue": n}
    by_area: dict[int, dict[str, int]]
    open_alarms: int
    escalated_alarms: int
    patrols_recent: int


def _late_q(on: date) -> Q:
    return Q(next_patrol_due__lt=on) | Q(online_monitoring=True, next_online_check_due__lt=on)


def source_overview(
    *, user: User, areas: Sequence[Grid], on: date, recent_days: int = 30
) -> SourceOverview:
    """The dashboard's source and patrol figures in the user's scope, set-based: active and
    overdue sources per control tier and per area (``areas`` must not nest), open alarms and
    the patrols of the last ``recent_days`` days. At most four queries whatever the register's
    size."""
    active = PollutionSource.objects.filter(
        grid_selectors.grid_scope_q(user=user, prefix="grid__"),
        status=PollutionSource.Status.ACTIVE,
    ).order_by()
    late = _late_q(on)
    by_tier = {
        row["control_tier"]: {"active": row["active"], "overdue": row["overdue"]}
        for row in active.values("control_tier").annotate(
            active=Count("pk"), overdue=Count("pk", filter=late)
        )
    }
    by_area: dict[int, dict[str, int]] = {}
    if areas:
        rows = (
            active.annotate(area=ancestor_of(ancestors=areas))
            .values("area")
            .annotate(active=Count("pk"), overdue=Count("pk", filter=late))
        )
        by_area = {
            r["area"]: {"active": r["active"], "overdue": r["overdue"]} for r in rows if r["area"]
        }
    alarms = PatrolAlarm.objects.filter(
        grid_selectors.grid_scope_q(user=user, prefix="source__grid__"),
        status=PatrolAlarm.Status.OPEN,
    ).aggregate(
        open=Count("pk"), escalated=Count("pk", filter=Q(level=PatrolAlarm.Level.PRINCIPAL))
    )
    since = timezone.make_aware(datetime.combine(on - timedelta(days=recent_days - 1), time.min))
    patrols = Patrol.objects.filter(
        grid_selectors.grid_scope_q(user=user, prefix="source__grid__"), patrolled_at__gte=since
    ).count()
    return SourceOverview(
        active=sum(t["active"] for t in by_tier.values()),
        overdue=sum(t["overdue"] for t in by_tier.values()),
        by_tier=by_tier,
        by_area=by_area,
        open_alarms=alarms["open"],
        escalated_alarms=alarms["escalated"],
        patrols_recent=patrols,
    )
