"""Reads of random-inspection draws (双随机、一公开), scoped.

A draw's list is secret until its inspection date: before that only its organisers see it —
the person who made it, the head, officers and staff of the organising department, and
superusers. From the inspection date on, everyone whose grid scope includes the draw's grid
sees it too. Published draws and their results are public (一公开), without a login.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from core.models import User
from grids import selectors as grid_selectors
from grids.models import DepartmentMembership
from inspections.models_draw import RandomDraw, RandomDrawTarget

ORGANISER_POSITIONS = (
    DepartmentMembership.Position.HEAD,
    DepartmentMembership.Position.OFFICER,
    DepartmentMembership.Position.STAFF,
)
_MAX_ID = 2**63 - 1


def _organiser_memberships(*, user: User, on: date) -> QuerySet[DepartmentMembership]:
    return DepartmentMembership.objects.filter(
        grid_selectors.active_q(on), user=user, position__in=ORGANISER_POSITIONS
    )


def random_draw_visible_q(*, user: User, on: date | None = None) -> Q:
    """The one rule for which draws ``user`` may see on day ``on`` (default today)."""
    if not user or not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    on = on or timezone.localdate()
    departments = _organiser_memberships(user=user, on=on).values("department_id")
    organiser = Q(created_by=user) | Q(department_id__in=departments)
    opened = Q(inspection_date__lte=on) & grid_selectors.grid_scope_q(user=user, prefix="grid__")
    return organiser | opened


def random_draw_is_organiser(*, user: User, draw: RandomDraw, on: date | None = None) -> bool:
    if user.is_superuser or (draw.created_by_id is not None and draw.created_by_id == user.pk):
        return True
    on = on or timezone.localdate()
    return (
        _organiser_memberships(user=user, on=on).filter(department_id=draw.department_id).exists()
    )


def random_draw_list(*, user: User, on: date | None = None) -> QuerySet[RandomDraw]:
    return (
        RandomDraw.objects.filter(random_draw_visible_q(user=user, on=on))
        .select_related("department", "grid", "created_by", "published_by")
        .annotate(
            target_count=Count("targets", distinct=True),
            results_count=Count("targets", filter=~Q(targets__result_outcome=""), distinct=True),
        )
        .order_by("-created_at", "-pk")
    )


def _targets_prefetch(*, with_people: bool) -> Prefetch:
    targets = RandomDrawTarget.objects.select_related("source", "source__grid").order_by(
        "source_id"
    )
    if with_people:
        targets = targets.select_related("result_recorded_by").prefetch_related("officers")
    return Prefetch("targets", queryset=targets)


def random_draw_get(*, user: User, pk: int, on: date | None = None) -> RandomDraw:
    """The draw with its targets and officers, or 404 where it does not exist or ``user`` may
    not see it (yet)."""
    if not 0 < pk <= _MAX_ID:
        raise Http404
    draw = (
        random_draw_list(user=user, on=on)
        .filter(pk=pk)
        .prefetch_related(_targets_prefetch(with_people=True))
        .first()
    )
    if draw is None:
        raise Http404
    return draw


def random_draw_target_get(
    *, user: User, draw_pk: int, target_pk: int, on: date | None = None
) -> RandomDrawTarget:
    draw = random_draw_get(user=user, pk=draw_pk, on=on)
    for target in draw.targets.all():
        if target.pk == target_pk:
            return target
    raise Http404


def random_draws_published() -> QuerySet[RandomDraw]:
    """Published draws with their results, for the public disclosure page (no login): the
    organising department, the sources drawn, and what the inspection found — no officers."""
    return (
        RandomDraw.objects.filter(published_at__isnull=False)
        .select_related("department", "grid")
        .prefetch_related(_targets_prefetch(with_people=False))
        .order_by("-published_at", "-pk")
    )
