"""Every write of random inspection (双随机、一公开): the draw, its results, its publication.

The rule (DOMAIN §4, issue 3 item 8): enforcement units draw inspection targets at random from
the source register — a quota per class and period, e.g. a quarter of the key sources and 5 % of
the others — and two officers at random for each, avoiding officers who hold a role over the
source's own grid where possible (random targets, random officers); the list stays with the
organisers until the inspection date, and the results are published afterwards (一公开).

A draw is reproducible: its seed and a SHA-256 of its inputs are stored, and
``random_draw_verify`` recomputes it from the seed and the register as it stands.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict, DomainError, Forbidden
from core.models import User
from grids import selectors as grid_selectors
from grids.models import Department, DepartmentMembership, Grid, GridRole, Role
from inspections import draw_selectors
from inspections.models import Patrol, PollutionSource
from inspections.models_draw import RandomDraw, RandomDrawTarget
from inspections.random_draw import (
    CLASSES,
    OFFICERS_PER_TARGET,
    DrawInputs,
    DrawnTarget,
    draw_run,
    inputs_hash,
    source_class,
)
from inspections.services import ENFORCEMENT_ROLES

DRAW_OFFICER_ROLES = (Role.DIRECT_RESPONSIBLE, Role.OFFICER)
# An inspection's result is what an on-site inspection finds; an abnormal online reading is not.
RESULT_OUTCOMES = frozenset(Patrol.Outcome.values) - {Patrol.Outcome.ABNORMAL_READING}
SEED_MAX_LENGTH = 64


# --- inputs ----------------------------------------------------------------------------------


def _pool_counts(inputs: DrawInputs) -> dict[str, int]:
    """How many candidates each class had and how many officers were eligible."""
    counts = dict.fromkeys(CLASSES, 0)
    for _pk, cls in inputs.sources:
        counts[cls] += 1
    return counts | {"officers": len(inputs.officers)}


def _pool_gather(
    *,
    grid: Grid,
    department: Department,
    on: date,
    quotas: Mapping[str, float],
    period_start: date,
    period_end: date,
    seed: str,
) -> DrawInputs:
    """The draw's inputs as the register stands: active sources in the grid's subtree with
    their class; the officers (active enforcement-officer members of the department, and
    holders of an officer role in the subtree, on day ``on``); and for each source the people
    holding any role on its grid or a grid above it inside the subtree. Four queries."""
    parents = dict(
        Grid.objects.filter(grid_selectors.subtree_q(grid=grid)).values_list("pk", "parent_id")
    )
    sources = list(
        PollutionSource.objects.filter(
            grid_selectors.subtree_q(grid=grid, prefix="grid__"),
            status=PollutionSource.Status.ACTIVE,
        ).values_list("pk", "grid_id", "control_tier", "safety_key")
    )
    holders: dict[int, set[int]] = {}
    officers: set[int] = set()
    for grid_id, user_id, role in GridRole.objects.filter(
        grid_selectors.active_q(on),
        grid_selectors.subtree_q(grid=grid, prefix="grid__"),
        user__is_active=True,
    ).values_list("grid_id", "user_id", "role"):
        holders.setdefault(grid_id, set()).add(user_id)
        if role in DRAW_OFFICER_ROLES:
            officers.add(user_id)
    officers.update(
        DepartmentMembership.objects.filter(
            grid_selectors.active_q(on),
            department=department,
            position=DepartmentMembership.Position.OFFICER,
            user__is_active=True,
        ).values_list("user_id", flat=True)
    )

    def over(grid_id: int | None) -> frozenset[int]:
        # Walk up to the draw's grid (the subtree's root, whose parent lies outside it).
        people: set[int] = set()
        while grid_id in parents:
            people |= holders.get(grid_id, set())
            grid_id = parents[grid_id]
        return frozenset(people)

    above = {grid_id: over(grid_id) for grid_id in {row[1] for row in sources}}
    return DrawInputs(
        sources=sorted(
            (pk, source_class(control_tier=tier, safety_key=key))
            for pk, _grid, tier, key in sources
        ),
        officers=sorted(officers),
        quotas={cls: float(quotas.get(cls, 0)) for cls in CLASSES},
        period_start=period_start,
        period_end=period_end,
        seed=seed,
        conflicts={pk: above[grid_id] & officers for pk, grid_id, *_rest in sources},
    )


def _quotas_clean(quotas) -> dict[str, float]:
    if not isinstance(quotas, Mapping):
        raise DomainError(
            _('Quotas are a share per class, e.g. {"key": 0.25, "other": 0.05}.'),
            quotas=[_("Not a mapping.")],
        )
    unknown = sorted(str(k) for k in quotas if k not in CLASSES)
    if unknown:
        raise DomainError(
            _("Unknown source class %(cls)s; the classes are %(classes)s.")
            % {"cls": ", ".join(unknown), "classes": ", ".join(CLASSES)},
            quotas=[_("Unknown class.")],
        )
    clean = {}
    for cls in CLASSES:
        value = quotas.get(cls, 0)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise DomainError(
                _("The quota for %(cls)s is not a number.") % {"cls": cls},
                quotas=[_("Not a number.")],
            )
        if not (0 <= value <= 1) or math.isnan(value):
            raise DomainError(
                _("The quota for %(cls)s must lie between 0 and 1.") % {"cls": cls},
                quotas=[_("Between 0 and 1.")],
            )
        clean[cls] = float(value)
    return clean


def _validate(
    *,
    department: Department,
    grid: Grid,
    title: str,
    period_start: date,
    period_end: date,
    inspection_date: date,
    seed: str,
    today: date,
) -> None:
    errors: dict[str, list[str]] = {}
    if not title:
        errors["title"] = [_("A draw needs a title.")]
    elif len(title) > 200:
        errors["title"] = [_("At most 200 characters.")]
    if period_end < period_start:
        errors["period_end"] = [_("The period cannot end before it starts.")]
    if inspection_date < period_start:
        errors["inspection_date"] = [_("The inspection date lies within or after the period.")]
    elif inspection_date < today:
        # A draw made after its own inspection date would never have been secret.
        errors["inspection_date"] = [_("The inspection date cannot lie in the past.")]
    if not seed or len(seed) > SEED_MAX_LENGTH:
        errors["seed"] = [_("A seed has 1 to %(n)s characters.") % {"n": SEED_MAX_LENGTH}]
    if not department.active:
        errors["department"] = [_("This department is no longer active.")]
    elif not Grid.objects.filter(
        grid_selectors.subtree_q(grid=Grid.objects.get(pk=department.grid_id)), pk=grid.pk
    ).exists():
        errors["grid"] = [_("The grid lies outside the organising department's area.")]
    if errors:
        raise DomainError(_("The draw has errors; nothing was stored."), **errors)


def _targets_store(*, draw: RandomDraw, drawn: list[DrawnTarget]) -> None:
    targets = RandomDrawTarget.objects.bulk_create(
        [
            RandomDrawTarget(
                draw=draw,
                source_id=t.source_id,
                source_class=t.source_class,
                officers_fallback=t.fallback,
            )
            for t in drawn
        ]
    )
    through = RandomDrawTarget.officers.through
    through.objects.bulk_create(
        [
            through(randomdrawtarget_id=target.pk, user_id=user_id)
            for target, t in zip(targets, drawn, strict=True)
            for user_id in t.officer_ids
        ]
    )


# --- the draw --------------------------------------------------------------------------------


@transaction.atomic
def random_draw_create(
    *,
    department: Department,
    grid: Grid,
    title: str,
    period_start: date,
    period_end: date,
    inspection_date: date,
    quotas: Mapping[str, float],
    actor: User,
    seed: str | None = None,
    now: datetime | None = None,
) -> RandomDraw:
    """Draw the targets and officers of a random inspection (双随机) and store them.

    Eligible sources are the active sources in ``grid``'s subtree; each class gives
    ``ceil(quota × count)`` of them. Eligible officers are the department's current
    enforcement officers and the holders of an officer role in the subtree; at least two are
    needed. The actor needs an enforcement role over ``grid``.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    # Tree positions from the database: a Grid held in memory may predate later inserts.
    grid = Grid.objects.get(pk=grid.pk)
    held = grid_selectors.user_roles_over(user=actor, grid=grid)
    if not held & ENFORCEMENT_ROLES:
        raise Forbidden(_("You may not organise random inspections in this grid."))
    title = (title or "").strip()
    seed = secrets.token_hex(8) if seed is None else str(seed).strip()
    clean_quotas = _quotas_clean(quotas)
    _validate(
        department=department,
        grid=grid,
        title=title,
        period_start=period_start,
        period_end=period_end,
        inspection_date=inspection_date,
        seed=seed,
        today=today,
    )
    inputs = _pool_gather(
        grid=grid,
        department=department,
        on=today,
        quotas=clean_quotas,
        period_start=period_start,
        period_end=period_end,
        seed=seed,
    )
    if len(inputs.officers) < OFFICERS_PER_TARGET:
        raise DomainError(
            _("A random inspection needs at least two officers; %(n)s found.")
            % {"n": len(inputs.officers)},
            officers=[_("Too few officers.")],
        )
    drawn = draw_run(inputs)
    if not drawn:
        raise DomainError(
            _("These quotas draw no source from this grid's active sources."),
            quotas=[_("Nothing drawn.")],
        )
    draw = RandomDraw.objects.create(
        title=title,
        department=department,
        grid=grid,
        period_start=period_start,
        period_end=period_end,
        inspection_date=inspection_date,
        quotas=clean_quotas,
        pool=_pool_counts(inputs),
        seed=seed,
        inputs_hash=inputs_hash(inputs),
        created_by=actor,
        created_at=now,
    )
    _targets_store(draw=draw, drawn=drawn)
    return draw


def _stored_result(draw: RandomDraw) -> set[tuple[int, str, frozenset[int], bool]]:
    through = RandomDrawTarget.officers.through
    officers: dict[int, set[int]] = {}
    for target_id, user_id in through.objects.filter(randomdrawtarget__draw=draw).values_list(
        "randomdrawtarget_id", "user_id"
    ):
        officers.setdefault(target_id, set()).add(user_id)
    return {
        (source_id, cls, frozenset(officers.get(pk, ())), fallback)
        for pk, source_id, cls, fallback in draw.targets.values_list(
            "pk", "source_id", "source_class", "officers_fallback"
        )
    }


def random_draw_verify(draw: RandomDraw) -> bool:
    """Recompute the draw from its stored seed, quotas and period and the register as it
    stands now (people's roles as they stood on the day of the draw); true when both the
    inputs hash and the drawn targets and officers match what was stored."""
    inputs = _pool_gather(
        grid=draw.grid,
        department=draw.department,
        on=timezone.localdate(draw.created_at),
        quotas=draw.quotas,
        period_start=draw.period_start,
        period_end=draw.period_end,
        seed=draw.seed,
    )
    if inputs_hash(inputs) != draw.inputs_hash:
        return False
    recomputed = {
        (t.source_id, t.source_class, frozenset(t.officer_ids), t.fallback)
        for t in draw_run(inputs)
    }
    return recomputed == _stored_result(draw)


# --- results and publication -----------------------------------------------------------------


def _draw_locked(draw_id: int) -> RandomDraw:
    return RandomDraw.objects.select_for_update().get(pk=draw_id)


@transaction.atomic
def random_draw_result_record(
    *,
    target: RandomDrawTarget,
    outcome: str,
    result: str,
    actor: User,
    patrol: Patrol | None = None,
    now: datetime | None = None,
) -> RandomDrawTarget:
    """An officer drawn for this source records what the inspection found, from the inspection
    date on and until the draw is published; a linked inspection record must be an on-site
    enforcement inspection of the same source with the same outcome."""
    now = now or timezone.now()
    draw = _draw_locked(target.draw_id)
    target = RandomDrawTarget.objects.select_for_update().get(pk=target.pk)
    if not target.officers.filter(pk=actor.pk).exists():
        raise Forbidden(_("Only an officer drawn for this source records its result."))
    if timezone.localdate(now) < draw.inspection_date:
        raise DomainError(_("Results are recorded from the inspection date on."))
    if draw.published_at is not None:
        raise Conflict(_("The draw is published; its results can no longer change."))
    errors: dict[str, list[str]] = {}
    if outcome not in RESULT_OUTCOMES:
        errors["outcome"] = [
            _("Unknown outcome %(o)r; one of %(all)s.")
            % {"o": outcome, "all": ", ".join(sorted(RESULT_OUTCOMES))}
        ]
    result = (result or "").strip()
    if not result:
        errors["result"] = [_("Say what the inspection found.")]
    if patrol is not None:
        if patrol.source_id != target.source_id:
            errors["patrol"] = [_("The inspection record is of another source.")]
        elif patrol.kind != Patrol.Kind.INSPECTION:
            errors["patrol"] = [_("Link an on-site enforcement inspection.")]
        elif timezone.localdate(patrol.patrolled_at) < timezone.localdate(draw.created_at):
            errors["patrol"] = [_("The inspection record predates the draw.")]
        elif patrol.outcome != outcome:
            errors["outcome"] = [_("The outcome differs from the inspection record's.")]
    if errors:
        raise DomainError(_("The result has errors; nothing was stored."), **errors)
    target.result_outcome = outcome
    target.result = result
    target.patrol = patrol
    target.result_recorded_by = actor
    target.result_recorded_at = now
    target.save(
        update_fields=[
            "result_outcome",
            "result",
            "patrol",
            "result_recorded_by",
            "result_recorded_at",
        ]
    )
    return target


@transaction.atomic
def random_draw_publish(
    *, draw: RandomDraw, actor: User, now: datetime | None = None
) -> RandomDraw:
    """The organisers publish the draw and its results (一公开) once the inspection date has
    passed and every target has a result; a published draw is public and no longer changes."""
    now = now or timezone.now()
    draw = _draw_locked(draw.pk)
    if not draw_selectors.random_draw_is_organiser(
        user=actor, draw=draw, on=timezone.localdate(now)
    ):
        raise Forbidden(_("Only the organisers publish a draw."))
    if draw.published_at is not None:
        raise Conflict(_("The draw is already published."))
    if timezone.localdate(now) <= draw.inspection_date:
        raise DomainError(
            _("A draw is published after its inspection date (%(d)s).")
            % {"d": draw.inspection_date.isoformat()}
        )
    missing = list(
        draw.targets.filter(result_outcome="")
        .order_by("source_id")
        .values_list("source__name", flat=True)
    )
    if missing:
        raise Conflict(
            _("Every target needs a result before publication; missing: %(names)s.")
            % {"names": ", ".join(missing)},
            missing=missing,
        )
    draw.published_at = now
    draw.published_by = actor
    draw.save(update_fields=["published_at", "published_by"])
    return draw
