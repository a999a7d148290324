"""Reads of sources, patrols and alarms, always through the grid scope."""

from __future__ import annotations

from datetime import date

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from core.models import User
from grids import selectors as grid_selectors
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
        late = Q(next_patrol_due__lt=on) | Q(online_monitoring=True, next_online_check_due__lt=on)
        qs = qs.filter(late, status=PollutionSource.Status.ACTIVE) if overdue else qs.exclude(late)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(credit_code__icontains=q) | Q(address__icontains=q))
    return qs.select_related("grid").order_by("next_patrol_due", "pk")


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
    return qs.select_related("source", "source__grid").order_by("-raised_at", "-pk")
