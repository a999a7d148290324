"""Which county-level grid (or grid of any level) a row belongs to, set-based.

The yearly assessment (DOMAIN §7.1) and the performance figures group everything — cases,
sources, patrols, roles, departments, sub-grids — by the second-level grid it lies in. Doing
that row by row would cost a query per row; instead ``ancestor_of`` builds one SQL ``CASE``
expression that maps a row's grid to the id of its ancestor at a level, from the nested-set
ranges of the few grids of that level, so one query can group a million rows by county.

The nested-set columns stay inside the grids app: other apps pass a ``prefix`` (how their row
reaches its grid) and get an expression or a ``Q`` back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from django.db.models import BigIntegerField, Case, F, Q, QuerySet, Value, When

from grids.models import Grid


def _active_on(on: date | None) -> Q:
    if on is None:
        return Q()
    return (Q(active_from__isnull=True) | Q(active_from__lte=on)) & (
        Q(active_until__isnull=True) | Q(active_until__gte=on)
    )


def grids_at_level(*, level: int, on: date | None = None) -> list[Grid]:
    """The grids of ``level`` (the county-level grids for ``level=2``) active on ``on``, in
    code order; one query."""
    return list(Grid.objects.filter(_active_on(on), level=level).order_by("tree_id", "code"))


def _range_q(grid: Grid, prefix: str) -> Q:
    return Q(
        **{
            f"{prefix}tree_id": grid.tree_id,
            f"{prefix}lft__gte": grid.lft,
            f"{prefix}rght__lte": grid.rght,
        }
    )


def ancestor_of(*, ancestors: Sequence[Grid], prefix: str = "grid__") -> Case:
    """An expression giving, for a row whose grid is reached through ``prefix`` (``""`` for a
    grid itself, ``"grid__"`` for a row with a ``grid`` foreign key, ``"department__grid__"``
    …), the id of the one grid of ``ancestors`` whose subtree holds it (the grid itself
    included), or NULL. ``ancestors`` must not nest (e.g. all grids of one level)."""
    whens = [When(_range_q(g, prefix), then=Value(g.pk)) for g in ancestors]
    if not whens:
        return Case(default=Value(None), output_field=BigIntegerField())
    return Case(*whens, default=Value(None), output_field=BigIntegerField())


def within_q(*, ancestors: Sequence[Grid], prefix: str = "grid__") -> Q:
    """Rows whose grid lies in the subtree of any of ``ancestors``."""
    q = Q(**{f"{prefix}pk__in": []})
    for grid in ancestors:
        q |= _range_q(grid, prefix)
    return q


def leaf_q(*, prefix: str = "") -> Q:
    """Grids (through ``prefix``) without children: the base grids of the tree."""
    return Q(**{f"{prefix}rght": F(f"{prefix}lft") + 1})


def annotate_ancestor(
    qs: QuerySet, *, ancestors: Sequence[Grid], prefix: str = "grid__", name: str = "county_id"
) -> QuerySet:
    """``qs`` restricted to rows below ``ancestors`` and annotated with the ancestor's id."""
    return qs.filter(within_q(ancestors=ancestors, prefix=prefix)).annotate(
        **{name: ancestor_of(ancestors=ancestors, prefix=prefix)}
    )


def ancestor_map(*, level: int, grid_ids: Iterable[int] | None = None) -> dict[int, int]:
    """``{grid id: id of its ancestor at level}`` for every grid at ``level`` or below it (or
    only for ``grid_ids``); two queries whatever the size of the tree."""
    ancestors = grids_at_level(level=level)
    qs = Grid.objects.filter(level__gte=level)
    if grid_ids is not None:
        qs = qs.filter(pk__in=list(grid_ids))
    rows = annotate_ancestor(qs, ancestors=ancestors, prefix="", name="anc").values_list(
        "pk", "anc"
    )
    return {pk: anc for pk, anc in rows if anc is not None}
