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

from django.db.models import BigIntegerField, Expression, F, Q, QuerySet
from django.db.models.lookups import IsNull

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


class AncestorOf(Expression):
    """``CASE WHEN tree_id = t AND lft BETWEEN l AND r THEN id … END`` over the given grids'
    nested-set ranges. Built directly as SQL from two resolved columns, so that a CASE of many
    branches costs no more to build than one (a node lies in a subtree exactly when its ``lft``
    lies within the subtree's range in the same tree)."""

    output_field = BigIntegerField()

    def __init__(self, ranges: tuple[tuple[int, int, int, int], ...], tree, lft):
        super().__init__()
        self.ranges = ranges
        self.tree, self.lft = tree, lft

    def get_source_expressions(self):
        return [self.tree, self.lft]

    def set_source_expressions(self, exprs):
        self.tree, self.lft = exprs

    def as_sql(self, compiler, connection):
        if not self.ranges:
            return "NULL", []
        tree_sql, tree_params = compiler.compile(self.tree)
        lft_sql, lft_params = compiler.compile(self.lft)
        whens, params = [], []
        for pk, tree_id, lft, rght in self.ranges:
            whens.append(f"WHEN {tree_sql} = %s AND {lft_sql} BETWEEN %s AND %s THEN %s")
            params += [*tree_params, tree_id, *lft_params, lft, rght, pk]
        return f"CASE {' '.join(whens)} ELSE NULL END", params


def ancestor_of(*, ancestors: Sequence[Grid], prefix: str = "grid__") -> Expression:
    """An expression giving, for a row whose grid is reached through ``prefix`` (``""`` for a
    grid itself, ``"grid__"`` for a row with a ``grid`` foreign key, ``"department__grid__"``
    …), the id of the one grid of ``ancestors`` whose subtree holds it (the grid itself
    included), or NULL. ``ancestors`` must not nest (e.g. all grids of one level)."""
    ranges = tuple((g.pk, g.tree_id, g.lft, g.rght) for g in ancestors)
    return AncestorOf(ranges, F(f"{prefix}tree_id"), F(f"{prefix}lft"))


def within_q(*, ancestors: Sequence[Grid], prefix: str = "grid__") -> Q:
    """Rows whose grid lies in the subtree of any of ``ancestors``."""
    if not ancestors:
        return Q(pk__in=[])
    return Q(IsNull(ancestor_of(ancestors=ancestors, prefix=prefix), False))


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
