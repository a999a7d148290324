"""Reads of the grid tree, scoped. ``user_scope`` is the one rule for who may see what.

A person sees the subtrees of the grids where they hold a current role (DOMAIN §2), and the
departments they belong to plus the departments of the grids they see; a superuser sees
everything. (Cases dispatched to a member's department join this rule with the cases app.)
Every list, detail, API view, page and admin queryset filters through ``grid_scope_q`` (for
grids and anything that has a grid) and ``department_scope_q``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from core import db
from core.models import User
from grids import geometry
from grids.models import (
    OFFICER_ROLES,
    Department,
    DepartmentMembership,
    Grid,
    GridLevel,
    GridRole,
    Role,
)


@dataclass(frozen=True)
class Scope:
    everything: bool
    # (tree_id, lft, rght) of each grid whose subtree is visible.
    ranges: tuple[tuple[int, int, int], ...]
    department_ids: frozenset[int]

    @property
    def empty(self) -> bool:
        return not self.everything and not self.ranges and not self.department_ids


def active_q(on: date, prefix: str = "") -> Q:
    return Q(**{f"{prefix}starts_on__lte": on}) & (
        Q(**{f"{prefix}ends_on__isnull": True}) | Q(**{f"{prefix}ends_on__gte": on})
    )


def user_scope(*, user: User, on: date | None = None) -> Scope:
    """What ``user`` may see: one query, cached on the user object for the request.

    Every request of every page and API call asks this, so it is one statement written
    out (``_SCOPE_SQL``) rather than two ORM queries compiled per request; the rule it
    states is ``active_q``'s, on current roles and memberships of active departments."""
    cached = getattr(user, "_gridsup_scope", None)
    if cached is not None and on is None:
        return cached
    if not user or not user.is_authenticated or not user.is_active:
        return Scope(False, (), frozenset())
    if user.is_superuser:
        scope = Scope(True, (), frozenset())
    else:
        on = on or timezone.localdate()
        ranges, departments = set(), set()
        for kind, a, b, c in _scope_statement().rows({"user": user.pk, "on": on}):
            if kind == 0:
                ranges.add((a, b, c))
            else:
                departments.add(a)
        scope = Scope(False, _outermost(ranges), frozenset(departments))
    user._gridsup_scope = scope
    return scope


# The user's current roles as the ranges of their grids (kind 0), and the active departments
# they currently belong to (kind 1, the id in the second column).
_SCOPE_SQL = """
    SELECT 0, g.tree_id, g.lft, g.rght FROM {role} r JOIN {grid} g ON g.id = r.grid_id
    WHERE r.user_id = %(user)s AND r.starts_on <= %(on)s
      AND (r.ends_on IS NULL OR r.ends_on >= %(on)s)
    UNION ALL
    SELECT 1, m.department_id, 0, 0 FROM {membership} m JOIN {department} d
      ON d.id = m.department_id
    WHERE m.user_id = %(user)s AND d.active AND m.starts_on <= %(on)s
      AND (m.ends_on IS NULL OR m.ends_on >= %(on)s)
"""


@lru_cache(maxsize=1)
def _scope_statement() -> db.Prepared:
    tables = {
        "role": GridRole._meta.db_table,
        "grid": Grid._meta.db_table,
        "membership": DepartmentMembership._meta.db_table,
        "department": Department._meta.db_table,
    }
    # (planning this statement took longer than running it: prepared once per connection)
    return db.Prepared("user_scope", _SCOPE_SQL.format(**tables), ("user", "on"))


def _outermost(ranges: set[tuple[int, int, int]]) -> tuple[tuple[int, int, int], ...]:
    """Drop ranges nested in another one, so the filter stays short."""
    kept: list[tuple[int, int, int]] = []
    for tree_id, lft, rght in sorted(ranges, key=lambda r: (r[0], r[1], -r[2])):
        if kept and kept[-1][0] == tree_id and kept[-1][1] <= lft and rght <= kept[-1][2]:
            continue
        kept.append((tree_id, lft, rght))
    return tuple(kept)


def grid_scope_q(*, user: User, prefix: str = "") -> Q:
    """A filter for grids (``prefix=""``) or for rows that have a grid (``prefix="grid__"``)."""
    scope = user_scope(user=user)
    if scope.everything:
        return Q()
    q = Q(**{f"{prefix}pk__in": []})
    for tree_id, lft, rght in scope.ranges:
        q |= Q(
            **{f"{prefix}tree_id": tree_id, f"{prefix}lft__gte": lft, f"{prefix}rght__lte": rght}
        )
    return q


def department_scope_q(*, user: User, prefix: str = "") -> Q:
    """Departments the user belongs to, or whose grid lies in the user's grid scope."""
    scope = user_scope(user=user)
    if scope.everything:
        return Q()
    return Q(**{f"{prefix}pk__in": list(scope.department_ids)}) | grid_scope_q(
        user=user, prefix=f"{prefix}grid__"
    )


def subtree_q(*, grid: Grid, prefix: str = "") -> Q:
    """Rows whose grid is ``grid`` or below it."""
    return Q(
        **{
            f"{prefix}tree_id": grid.tree_id,
            f"{prefix}lft__gte": grid.lft,
            f"{prefix}rght__lte": grid.rght,
        }
    )


def grids_visible(*, user: User) -> QuerySet[Grid]:
    return Grid.objects.filter(grid_scope_q(user=user))


def grid_list(
    *, user: User, level: int | None = None, parent: str | None = None, q: str | None = None
) -> QuerySet[Grid]:
    children = (
        Grid.objects.filter(parent=OuterRef("pk"))
        .order_by()
        .values("parent")
        .annotate(n=Count("pk"))
        .values("n")
    )
    qs = (
        grids_visible(user=user)
        .select_related("parent")
        .annotate(children_count=Coalesce(Subquery(children, output_field=IntegerField()), 0))
        .order_by("tree_id", "lft")
    )
    if level is not None:
        qs = qs.filter(level=level)
    if parent:
        qs = qs.filter(parent__code=parent)
    if q:
        qs = qs.filter(name__icontains=q)
    return qs


def grid_get(*, user: User, code: str) -> Grid:
    """The grid with this code, or 404 if it does not exist or lies outside the user's scope."""
    grid = grid_list(user=user).filter(code=code).first()
    if grid is None:
        raise Http404
    return grid


def grid_roles_current(*, grids: list[Grid], on: date | None = None) -> dict[int, list[GridRole]]:
    """Current responsible people of these grids, in one query."""
    on = on or timezone.localdate()
    out: dict[int, list[GridRole]] = {g.pk: [] for g in grids}
    for role in (
        GridRole.objects.filter(active_q(on), grid__in=grids)
        .select_related("user", "department")
        .order_by("grid_id", "role", "user__username")
    ):
        out[role.grid_id].append(role)
    return out


def grid_ancestors(*, grid: Grid) -> QuerySet[Grid]:
    return grid.get_ancestors()


def grid_children(*, user: User, grid: Grid) -> QuerySet[Grid]:
    return grid_list(user=user).filter(parent=grid)


def grid_at_level(*, grid: Grid, level: int) -> Grid | None:
    """The grid itself or its ancestor at ``level``."""
    if grid.level == level:
        return grid
    return grid.get_ancestors().filter(level=level).first()


def _visible_sql(scope: Scope) -> tuple[str, dict]:
    """The condition "inside one of the scope's subtrees" on ``grids_grid``, written out, with
    its parameters (``t0``, ``l0``, ``r0``, … per range); for a scope with at least one range
    or the whole city."""
    if scope.everything:
        return "", {}
    sql = " OR ".join(
        f"(tree_id = %(t{i})s AND lft >= %(l{i})s AND rght <= %(r{i})s)"
        for i in range(len(scope.ranges))
    )
    params = {}
    for i, (tree_id, lft, rght) in enumerate(scope.ranges):
        params.update({f"t{i}": tree_id, f"l{i}": lft, f"r{i}": rght})
    return f" AND ({sql})", params


def _grid_columns() -> db.Columns:
    """Grid's columns without ``boundary`` (a village's outline is tens of KB)."""
    return db.columns(Grid, exclude=("boundary",))


@lru_cache(maxsize=64)
def _grid_statement(kind: str, ranges: int | None) -> db.Prepared:
    """The written-out grid lookups, one per kind and number of scope ranges (``None``: the
    whole city), each prepared once per connection."""
    scope = Scope(ranges is None, ((0, 0, 0),) * (ranges or 0), frozenset())
    visible, range_params = _visible_sql(scope)
    head = f"SELECT {_grid_columns().sql} FROM {Grid._meta.db_table}"  # noqa: S608 - names from _meta
    if kind == "code":
        sql, params = f"{head} WHERE code = %(code)s{visible}", ("code",)
    else:
        if connection.vendor == "postgresql":
            # the GiST index of migration 0004, which answers box-in-box (with PostgreSQL's
            # geometric tolerance of 1e-6 degrees: shapely decides at the edges)
            at = "point(%(lng)s, %(lat)s)"
            holds = f"box(point(min_lng, min_lat), point(max_lng, max_lat)) @> box({at}, {at})"
        else:
            holds = (
                "min_lng <= %(lng)s AND max_lng >= %(lng)s"
                " AND min_lat <= %(lat)s AND max_lat >= %(lat)s"
            )
        sql = (
            f"{head} WHERE boundary IS NOT NULL AND {holds}"
            f" AND (active_until IS NULL OR active_until >= %(today)s){visible}"
            " ORDER BY level DESC, code"
        )
        params = ("lng", "lat", "today")
    return db.Prepared(f"grid_{kind}_{ranges or 'all'}", sql, (*params, *range_params))


def _grid_rows(kind: str, scope: Scope, values: dict) -> list[tuple]:
    """Rows of a written-out grid lookup (``db.columns(Grid, exclude=("boundary",))``)."""
    if not scope.everything and not scope.ranges:  # a department's member: no grid of theirs
        return []
    _visible, range_values = _visible_sql(scope)
    statement = _grid_statement(kind, None if scope.everything else len(scope.ranges))
    return statement.rows({**values, **range_values})


@lru_cache(maxsize=1)
def _version_at() -> tuple[int, ...]:
    """Where a grid row has its id, ``updated_at`` and bounding box (``_grid_shape``'s key)."""
    names = _grid_columns().attnames
    return tuple(
        names.index(n) for n in ("id", "updated_at", "min_lng", "min_lat", "max_lng", "max_lat")
    )


def grid_visible_by_code(*, user: User, code: str) -> Grid | None:
    """The visible grid with this code (active or not), without its boundary; ``None`` when
    there is none. Written out like ``grid_locate``: the intake asks it on every report that
    names its grid."""
    scope = user_scope(user=user)
    if scope.empty:
        return None
    found = _grid_rows("code", scope, {"code": code})
    return _grid_columns().instance(found[0]) if found else None


def grid_locate(*, user: User, lat: float, lng: float) -> Grid:
    """The deepest visible, active grid whose boundary holds the point; 404 where none does.

    An indexed bounding-box query finds the few candidates (without their boundaries);
    shapely decides, on each candidate's boundary parsed and prepared once per process and
    version (``_grid_shape``), so a busy intake does not parse a county's outline per report.
    Written out (and prepared once per connection): asked on every report located by its
    point, and the ORM's compiling of the scope's ranges cost more than the query itself.
    """
    scope = user_scope(user=user)
    if scope.empty:
        raise Http404
    candidates = _grid_rows("point", scope, {"lng": lng, "lat": lat, "today": timezone.localdate()})
    where = geometry.point(lat=lat, lng=lng)
    pk_at, *version_at = _version_at()
    for row in candidates:  # deepest first; only the one that holds the point is made a Grid
        shape = _grid_shape(row[pk_at], tuple(row[i] for i in version_at))
        if shape is not None and shape.covers(where):
            return _grid_columns().instance(row)
    raise Http404


OUTLINES_KEPT = 4096  # outlines each process keeps prepared (``_grid_shape``)


@lru_cache(maxsize=OUTLINES_KEPT)
def _grid_shape(pk: int, version: tuple):
    """A grid's boundary, prepared for point tests. ``version`` (the grid's ``updated_at`` and
    bounding box, which every boundary change through ``grids.services`` renews) keys the
    cache, so a changed boundary is read again."""
    return _shape_prepared(pk)


# Outlines read by ``outlines_warm`` for ``_grid_shape`` to take instead of reading them itself.
_warmed: dict[int, str] = {}


def outlines_warm(*, limit: int = OUTLINES_KEPT) -> int:
    """Read the outlines of the active grids, deepest first (the villages a reported point
    falls in), up to ``limit``, and keep them prepared in this process as ``grid_locate``
    would: a web worker calls this when it starts (``gunicorn.conf.py``), so the first
    reports after a deploy do not each wait for an outline read and parsed. Returns how many
    are kept."""
    columns = _grid_columns()
    pk_at, *version_at = _version_at()
    rows = _outlines_statement().rows({"today": timezone.localdate(), "limit": limit})
    for row in rows:
        _warmed[row[pk_at]] = row[len(columns.attnames)]
        _grid_shape(row[pk_at], tuple(row[i] for i in version_at))
    _warmed.clear()
    return len(rows)


@lru_cache(maxsize=1)
def _outlines_statement() -> db.Prepared:
    table = Grid._meta.db_table
    return db.Prepared(
        "grid_outlines",
        f"SELECT {_grid_columns().sql}, boundary FROM {table}"  # noqa: S608 - names from _meta
        " WHERE boundary IS NOT NULL AND (active_until IS NULL OR active_until >= %(today)s)"
        " ORDER BY level DESC, code LIMIT %(limit)s",
        ("today", "limit"),
    )


def _shape_prepared(pk: int):
    """A grid's boundary read (one prepared statement) and prepared for point tests; ``None``
    for a grid without one. Callers cache it by the grid's version."""
    if pk in _warmed:
        boundary = _warmed[pk]
    else:
        row = _BOUNDARY.row([pk])
        boundary = row[0] if row else None  # the JSON text, as both databases hand it over
    if isinstance(boundary, dict):
        boundary = json.dumps(boundary)
    if not boundary or boundary == "null":
        return None
    return geometry.prepared_from_text(boundary)


# (read once per grid and version by every worker process)
_BOUNDARY = db.Prepared(
    "grid_boundary",
    f"SELECT boundary FROM {Grid._meta.db_table} WHERE id = %s",  # noqa: S608 - name from _meta
    1,
)


def department_list(*, user: User) -> QuerySet[Department]:
    return (
        Department.objects.filter(department_scope_q(user=user), active=True)
        .select_related("grid", "sector")
        .order_by("level", "code")
    )


# --- grid health ---------------------------------------------------------------------------


@dataclass
class GridHealthRow:
    grid: Grid
    missing_roles: list[str]
    officers: int
    is_base: bool
    no_officer_or_supervisor: bool

    @property
    def too_few_officers(self) -> bool:
        return self.is_base and self.officers < 2


@dataclass
class GridHealth:
    rows: list[GridHealthRow]

    @property
    def missing_roles(self) -> list[GridHealthRow]:
        return [r for r in self.rows if r.missing_roles]

    @property
    def too_few_officers(self) -> list[GridHealthRow]:
        return [r for r in self.rows if r.too_few_officers]

    @property
    def no_officer_or_supervisor(self) -> list[GridHealthRow]:
        return [r for r in self.rows if r.no_officer_or_supervisor]

    def counts(self) -> dict[str, int]:
        return {
            "grids": len(self.rows),
            "missing_roles": len(self.missing_roles),
            "too_few_officers": len(self.too_few_officers),
            "no_officer_or_supervisor": len(self.no_officer_or_supervisor),
        }


def grid_health(
    *, user: User | None, root: Grid | None = None, on: date | None = None
) -> GridHealth:
    """Grids missing a role their level requires, base grids (leaves) with fewer than two
    enforcement officers (Zhejiang: one agency, at least two officers per base grid), and grids
    with neither an enforcement officer nor a supervisor (Hefei). One query over the grids with
    conditional counts of their current roles.
    """
    on = on or timezone.localdate()
    current = active_q(on, prefix="roles__")
    # ``user=None`` is the system itself (the daily snapshot): the whole city.
    annotations = {
        f"n_{role}": Count("roles__user", filter=current & Q(roles__role=role), distinct=True)
        for role in Role.values
    }
    annotations["n_officers"] = Count(
        "roles__user", filter=current & Q(roles__role__in=OFFICER_ROLES), distinct=True
    )
    base = Grid.objects.all() if user is None else grids_visible(user=user)
    qs = base.filter(Q(active_until__isnull=True) | Q(active_until__gte=on))
    if root is not None:
        qs = qs.filter(subtree_q(grid=root))
    qs = qs.annotate(**annotations).order_by("tree_id", "lft")
    required = {lvl.number: list(lvl.required_roles) for lvl in GridLevel.objects.all()}
    rows = []
    for grid in qs:
        missing = [r for r in required.get(grid.level, []) if getattr(grid, f"n_{r}", 0) == 0]
        rows.append(
            GridHealthRow(
                grid=grid,
                missing_roles=missing,
                officers=grid.n_officers,
                is_base=grid.is_leaf_node(),
                no_officer_or_supervisor=grid.n_officers == 0 and grid.n_supervisor == 0,
            )
        )
    return GridHealth(rows=rows)


def user_roles_over(*, user: User, grid: Grid, on: date | None = None) -> set[str]:
    """The roles ``user`` currently holds on ``grid`` or any grid above it (one query)."""
    if user.is_superuser:
        return set(Role.values)
    on = on or timezone.localdate()
    return set(
        GridRole.objects.filter(
            active_q(on),
            user=user,
            grid__tree_id=grid.tree_id,
            grid__lft__lte=grid.lft,
            grid__rght__gte=grid.rght,
        ).values_list("role", flat=True)
    )


def point_in_city(*, grid: Grid, lat: float, lng: float) -> bool:
    """Whether the point lies inside the boundary of the city (the root of ``grid``'s tree).
    A city without a boundary accepts every point. The parsed boundary is cached per root and
    version, so a bulk import does not parse it again for every row."""
    root = (
        Grid.objects.filter(tree_id=grid.tree_id, parent__isnull=True)
        .values_list("pk", "updated_at")
        .first()
    )
    if root is None:
        return True
    shape = _root_shape(root[0], root[1])
    return shape is None or shape.covers(geometry.point(lat=lat, lng=lng))


@lru_cache(maxsize=16)
def _root_shape(pk: int, version: datetime):
    return _shape_prepared(pk)


def nearest_role_holders_join(*, grid_id: str, role: str, on: date, alias: str = "holder") -> str:
    """A SQL JOIN fragment (for set-based writes elsewhere) adding ``{alias}.user_id``: the
    people holding ``role`` on the nearest grid at or above the grid whose id is the SQL
    expression ``grid_id``. The nearest holder is found among the few role holders (a scalar
    subquery over them), never by walking the tree, so the plan stays cheap whatever the
    planner's statistics say; portable to SQLite. Kept here so that no other app reads the
    tree's nested-set columns. ``role`` and ``on`` are checked and inlined as literals."""
    if role not in Role.values:
        raise ValueError(role)
    if not alias.isidentifier():
        raise ValueError(alias)
    day = f"'{date.fromisoformat(on.isoformat()).isoformat()}'"
    g, r = Grid._meta.db_table, GridRole._meta.db_table

    def held(a: str) -> str:
        return (
            f"{a}.role = '{role}' AND {a}.starts_on <= {day} "
            f"AND ({a}.ends_on IS NULL OR {a}.ends_on >= {day})"
        )

    me = f"{alias}_me"
    return f"""
        JOIN {g} {me} ON {me}.id = {grid_id}
        JOIN (SELECT hr.user_id, hg.tree_id, hg.lft FROM {r} hr JOIN {g} hg ON hg.id = hr.grid_id
              WHERE {held("hr")}) {alias}
          ON {alias}.tree_id = {me}.tree_id
         AND {alias}.lft = (
              SELECT MAX(ng.lft) FROM {r} nr JOIN {g} ng ON ng.id = nr.grid_id
              WHERE {held("nr")} AND ng.tree_id = {me}.tree_id
                AND ng.lft <= {me}.lft AND ng.rght >= {me}.rght)
    """  # noqa: S608 - table names from _meta, role, alias and date checked literals


def nearest_role_holders_sql(*, grid_id: str, role: str, on: date) -> str:
    """The same people as a correlated subquery selecting ``user_id`` (prefer the join form in
    set-based statements: PostgreSQL plans it far better)."""
    g = Grid._meta.db_table
    join = nearest_role_holders_join(grid_id=grid_id, role=role, on=on)
    return f"SELECT holder.user_id FROM {g} holder_root {join} WHERE holder_root.id = {grid_id}"  # noqa: S608


def nearest_role_holders_rows(
    *, rows: str, key: str, grid_id: str, columns: list[str], role: str, on: date
) -> str:
    """A SELECT (to use as a derived table, ``FROM (…) n``) giving ``columns`` of every row of
    ``rows`` once per person holding ``role`` on ``on`` on the nearest grid at or above the
    row's grid, that person as ``holder_user_id``; a row with no such grid is left out.

    ``rows`` is an SQL relation (a table, a CTE or a parenthesised subquery) whose rows are told
    apart by the column ``key`` and placed by the grid id in the column ``grid_id``. The few
    holders of the role and the rows with their grid's position are both materialised and then
    compared by range: nothing is joined back by key and nothing searches the grid tree, so the
    work is rows × holders whatever the planner believes about the number of rows (a set-based
    sweep over tables whose statistics lag behind). Portable to SQLite 3.35+.
    ``role`` and ``on`` are checked and inlined as literals; names must be identifiers."""
    if role not in Role.values:
        raise ValueError(role)
    for name in (key, grid_id, *columns):
        if not name.isidentifier():
            raise ValueError(name)
    day = f"'{date.fromisoformat(on.isoformat()).isoformat()}'"
    g, r = Grid._meta.db_table, GridRole._meta.db_table
    picked = ", ".join(f"p.{c}" for c in columns)
    return f"""
        WITH nearest_holders AS MATERIALIZED (
            SELECT hr.user_id, hg.tree_id, hg.lft, hg.rght
            FROM {r} hr JOIN {g} hg ON hg.id = hr.grid_id
            WHERE hr.role = '{role}' AND hr.starts_on <= {day}
              AND (hr.ends_on IS NULL OR hr.ends_on >= {day})
        ),
        nearest_placed AS MATERIALIZED (
            SELECT {", ".join(f"r.{c}" for c in columns)}, r.{key} AS row_key_,
                   me.tree_id AS tree_id_, me.lft AS lft_, me.rght AS rght_
            FROM {rows} r JOIN {g} me ON me.id = r.{grid_id}
        ),
        nearest_ranked AS (
            SELECT {picked}, h.user_id AS holder_user_id,
                   rank() OVER (PARTITION BY p.row_key_ ORDER BY h.lft DESC) AS nearness_
            FROM nearest_placed p JOIN nearest_holders h
              ON h.tree_id = p.tree_id_ AND h.lft <= p.lft_ AND h.rght >= p.rght_
        )
        SELECT {", ".join(columns)}, holder_user_id FROM nearest_ranked WHERE nearness_ = 1
    """  # noqa: S608 - table names from _meta, role and date checked literals, names identifiers


# --- who holds what (for pages and forms of other apps) -----------------------------------------


def roles_held(*, user: User, roles: Iterable[str], on: date) -> list[GridRole]:
    """The user's roles among ``roles`` active on ``on``, with their grids (one query)."""
    return list(
        GridRole.objects.filter(active_q(on), user=user, role__in=list(roles)).select_related(
            "grid"
        )
    )


def role_holders_over(
    *, grid: Grid, roles: Iterable[str], on: date, exclude: User | None = None
) -> list[User]:
    """Active people holding one of ``roles`` on ``grid`` or above it on ``on``, nearest grid
    first, each once (one query)."""
    held = (
        GridRole.objects.filter(
            active_q(on),
            Q(grid=grid) | Q(grid__in=grid_ancestors(grid=grid)),
            role__in=list(roles),
            user__is_active=True,
        )
        .select_related("user")
        .order_by("-grid__level", "user__full_name", "user__username")
    )
    if exclude is not None:
        held = held.exclude(user=exclude)
    seen: dict[int, User] = {}
    for role in held:
        seen.setdefault(role.user_id, role.user)
    return list(seen.values())


def departments_serving(*, user: User, grid: Grid, on: date) -> list[Department]:
    """The active departments ``user`` works for on ``grid``: those the user belongs to, and
    those the user is stationed from on ``grid`` or above it (one query)."""
    member_of = DepartmentMembership.objects.filter(active_q(on), user=user).values("department_id")
    stationed = GridRole.objects.filter(
        active_q(on),
        Q(grid=grid) | Q(grid__in=grid_ancestors(grid=grid)),
        user=user,
        department__isnull=False,
    ).values("department_id")
    return list(
        Department.objects.filter(Q(pk__in=member_of) | Q(pk__in=stationed), active=True).order_by(
            "level", "code"
        )
    )
