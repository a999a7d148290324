"""Every write to the grid tree, its people, departments and plans.

Tree writes lock the tree's root row first (the documented lock order is grid → source → case),
record a ``GridChange`` with the values before and after, and never touch the nested-set
columns by hand: django-mptt maintains them, and bulk loads rebuild them once at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.models import User
from grids import geometry
from grids.models import (
    Department,
    DepartmentMembership,
    DivisionPlan,
    Grid,
    GridChange,
    GridHealthSnapshot,
    GridKind,
    GridLevel,
    GridRole,
    Role,
    Sector,
)

ADMIN_CODE_LENGTH = 12
SUB_CODE_LENGTH = 15


def _snapshot(grid: Grid) -> dict:
    return {
        "code": grid.code,
        "name": grid.name,
        "level": grid.level,
        "kind": grid.kind,
        "parent": grid.parent.code if grid.parent_id else None,
        "active_from": grid.active_from.isoformat() if grid.active_from else None,
        "active_until": grid.active_until.isoformat() if grid.active_until else None,
        "boundary_bbox": (
            [grid.min_lng, grid.min_lat, grid.max_lng, grid.max_lat] if grid.boundary else None
        ),
    }


def _lock_tree(grid: Grid | None) -> None:
    """Serialise writers of one tree by locking its root row (django-mptt is not safe for
    concurrent writes to the same tree)."""
    if grid is None:
        return
    list(Grid.objects.select_for_update().filter(tree_id=grid.tree_id, parent__isnull=True))


def configured_levels() -> dict[int, GridLevel]:
    return {lvl.number: lvl for lvl in GridLevel.objects.all()}


def admin_code(division_code: str) -> str:
    """The 12-digit statistical code NBS prints: pad the native code with zeros."""
    return division_code.ljust(ADMIN_CODE_LENGTH, "0")


def _code_prefix(code: str) -> str:
    """The significant part of a 12-digit administrative code: its trailing all-zero segments
    (NBS layout 2 + 2 + 2 + 3 + 3 digits) cut off, so 371302000000 → 371302."""
    prefix = code
    for start, end in ((9, 12), (6, 9), (4, 6), (2, 4)):
        if len(prefix) == end and code[start:end].strip("0") == "":
            prefix = code[:start]
    return prefix


def sub_grid_code_next(*, parent: Grid) -> str:
    """Parent's 12-digit code plus the next free 3-digit sequence (the 15-digit layout)."""
    base = parent.code[:ADMIN_CODE_LENGTH]
    taken = (
        Grid.objects.filter(code__startswith=base, code__regex=r"^\d{15}$")
        .aggregate(m=Max("code"))
        .get("m")
    )
    seq = int(taken[ADMIN_CODE_LENGTH:]) + 1 if taken else 1
    if seq > 999:
        raise DomainError(_("No free code left below %(code)s.") % {"code": base})
    return f"{base}{seq:03d}"


@dataclass
class GridInput:
    name: str
    kind: str = GridKind.ADMINISTRATIVE
    code: str | None = None
    level: int | None = None
    boundary: dict | None = None
    active_from: date | None = None
    active_until: date | None = None


def _validate_code(*, code: str, parent: Grid | None, exclude_pk: int | None) -> None:
    if not code.isdigit() or len(code) not in (ADMIN_CODE_LENGTH, SUB_CODE_LENGTH):
        raise DomainError(
            _("A grid code has 12 digits (a division code) or 15 digits (parent code + 3)."),
            code=[_("Invalid code.")],
        )
    if parent is not None:
        prefix = (
            _code_prefix(parent.code) if len(parent.code) == ADMIN_CODE_LENGTH else parent.code[:12]
        )
        if not code.startswith(prefix) or code == parent.code:
            raise DomainError(
                _("Code %(code)s does not lie below the parent's code %(parent)s.")
                % {"code": code, "parent": parent.code},
                code=[_("Code does not match the parent grid.")],
            )
    clash = Grid.objects.filter(code=code)
    if exclude_pk:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise DomainError(
            _("A grid with code %(code)s already exists.") % {"code": code},
            code=[_("Duplicate code.")],
        )


def _validate_level(*, level: int, parent: Grid | None) -> None:
    levels = configured_levels()
    if level not in levels:
        raise DomainError(
            _("Level %(level)s is not one of the configured levels %(levels)s.")
            % {"level": level, "levels": sorted(levels)},
            level=[_("Unknown level.")],
        )
    expected = parent.level + 1 if parent else min(levels)
    if level != expected:
        raise DomainError(
            _("A grid below a level-%(parent)s grid must be of level %(expected)s, not %(level)s.")
            % {"parent": parent.level if parent else "-", "expected": expected, "level": level},
            level=[_("Wrong level for this parent.")],
        )


def _apply_boundary(grid: Grid, boundary: dict | None) -> None:
    if boundary is None:
        grid.boundary = None
        grid.min_lng = grid.min_lat = grid.max_lng = grid.max_lat = None
        return
    clean, bbox = geometry.boundary_clean(boundary)
    grid.boundary = clean
    grid.min_lng, grid.min_lat, grid.max_lng, grid.max_lat = (
        bbox.min_lng,
        bbox.min_lat,
        bbox.max_lng,
        bbox.max_lat,
    )


def _validate_dates(active_from: date | None, active_until: date | None) -> None:
    if active_from and active_until and active_until < active_from:
        raise DomainError(
            _("A grid cannot end before it starts."), active_until=[_("Before start.")]
        )


@transaction.atomic
def grid_create(*, parent: Grid | None, data: GridInput, actor: User | None) -> Grid:
    """Add one grid. Administrative grids take their 12-digit division code; other grids (and
    grids below a village) take the parent's code plus a 3-digit sequence when none is given."""
    if parent is not None:
        parent = Grid.objects.get(pk=parent.pk)
        _lock_tree(parent)
    level = data.level if data.level is not None else (parent.level + 1 if parent else 1)
    _validate_level(level=level, parent=parent)
    code = data.code or (sub_grid_code_next(parent=parent) if parent else None)
    if not code:
        raise DomainError(_("A root grid needs a code."), code=[_("Required.")])
    _validate_code(code=code, parent=parent, exclude_pk=None)
    _validate_dates(data.active_from, data.active_until)
    if data.kind not in GridKind.values:
        raise DomainError(
            _("Unknown grid kind %(kind)s.") % {"kind": data.kind}, kind=[_("Unknown.")]
        )
    grid = Grid(
        code=code,
        name=data.name.strip(),
        level=level,
        kind=data.kind,
        parent=parent,
        active_from=data.active_from,
        active_until=data.active_until,
    )
    if not grid.name:
        raise DomainError(_("A grid needs a name."), name=[_("Required.")])
    _apply_boundary(grid, data.boundary)
    try:
        with transaction.atomic():
            grid.save()
    except IntegrityError as exc:
        raise DomainError(_("A grid with code %(code)s already exists.") % {"code": code}) from exc
    GridChange.objects.create(
        grid=grid, action=GridChange.Action.CREATE, actor=actor, after=_snapshot(grid)
    )
    return grid


UPDATABLE_FIELDS = {"name", "kind", "boundary", "active_from", "active_until"}


@transaction.atomic
def grid_update(*, grid: Grid, actor: User | None, note: str = "", **changes) -> Grid:
    """Change a grid's name, kind, boundary or active dates. Code and place in the tree are
    stable here; moving is ``grid_move``."""
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise DomainError(
            _("These fields cannot be changed here: %(f)s") % {"f": ", ".join(sorted(unknown))}
        )
    _lock_tree(grid)
    grid = Grid.objects.select_related("parent").get(pk=grid.pk)
    before = _snapshot(grid)
    new_boundary = "boundary" in changes
    if new_boundary:
        _apply_boundary(grid, changes.pop("boundary"))
    for name, value in changes.items():
        setattr(grid, name, value.strip() if isinstance(value, str) else value)
    if grid.kind not in GridKind.values:
        raise DomainError(
            _("Unknown grid kind %(kind)s.") % {"kind": grid.kind}, kind=[_("Unknown.")]
        )
    if not grid.name:
        raise DomainError(_("A grid needs a name."), name=[_("Required.")])
    _validate_dates(grid.active_from, grid.active_until)
    after = _snapshot(grid)
    if after == before and not new_boundary:
        grid.save()
        return grid
    grid.updated_at = timezone.now()
    grid.save()
    GridChange.objects.create(
        grid=grid,
        action=GridChange.Action.UPDATE,
        actor=actor,
        before=before,
        after=after,
        note=note,
    )
    return grid


@transaction.atomic
def grid_move(*, grid: Grid, new_parent: Grid, actor: User | None, note: str = "") -> Grid:
    """Re-hang a grid (with its subtree) below another grid of the same level as its parent.

    The code stays as it is: codes are stable identifiers, even when the tree is reorganised.
    """
    _lock_tree(grid)
    if new_parent.tree_id != grid.tree_id:
        _lock_tree(new_parent)
    grid = Grid.objects.select_related("parent").get(pk=grid.pk)
    new_parent = Grid.objects.get(pk=new_parent.pk)
    if new_parent.pk == grid.pk or new_parent.is_descendant_of(grid):
        raise DomainError(
            _("%(grid)s cannot be moved below itself or one of its own sub-grids (a cycle).")
            % {"grid": grid.name},
            parent=[_("That would make a cycle.")],
        )
    if new_parent.level + 1 != grid.level:
        raise DomainError(
            _("A level-%(level)s grid cannot hang below a level-%(parent)s grid.")
            % {"level": grid.level, "parent": new_parent.level},
            parent=[_("Wrong level for this parent.")],
        )
    if grid.parent_id == new_parent.pk:
        return grid
    before = _snapshot(grid)
    grid.parent = new_parent
    grid.updated_at = timezone.now()
    grid.save()
    GridChange.objects.create(
        grid=grid,
        action=GridChange.Action.MOVE,
        actor=actor,
        before=before,
        after=_snapshot(grid),
        note=note,
    )
    return grid


def grid_deactivate(*, grid: Grid, on: date, actor: User | None, note: str = "") -> Grid:
    """Grids are never deleted (history and old cases point at them); they end."""
    return grid_update(grid=grid, actor=actor, note=note, active_until=on)


# --- responsible people ------------------------------------------------------------------


@transaction.atomic
def grid_role_assign(
    *,
    grid: Grid,
    user: User,
    role: str,
    starts_on: date | None = None,
    ends_on: date | None = None,
    employment: str = "",
    department: Department | None = None,
) -> GridRole:
    if role not in Role.values:
        raise DomainError(_("Unknown role %(role)s.") % {"role": role}, role=[_("Unknown.")])
    if role == Role.INSPECTOR and employment not in GridRole.Employment.values:
        raise DomainError(
            _("An inspector is full-time or part-time."), employment=[_("Required for inspectors.")]
        )
    starts_on = starts_on or timezone.localdate()
    if ends_on and ends_on < starts_on:
        raise DomainError(_("A role cannot end before it starts."), ends_on=[_("Before start.")])
    assignment, _created = GridRole.objects.get_or_create(
        grid=grid,
        user=user,
        role=role,
        starts_on=starts_on,
        defaults={"ends_on": ends_on, "employment": employment, "department": department},
    )
    return assignment


def grid_role_assign_many(
    *,
    grids: list[Grid],
    user: User,
    role: str,
    starts_on: date | None = None,
    employment: str = "",
    department: Department | None = None,
) -> int:
    """``grid_role_assign`` for one person on many grids at once (e.g. an officer stationed in
    every village of a township): the same checks, one INSERT; an assignment that already
    exists is left as it is. Returns how many grids were asked for."""
    if role not in Role.values:
        raise DomainError(_("Unknown role %(role)s.") % {"role": role}, role=[_("Unknown.")])
    if role == Role.INSPECTOR and employment not in GridRole.Employment.values:
        raise DomainError(
            _("An inspector is full-time or part-time."), employment=[_("Required for inspectors.")]
        )
    starts_on = starts_on or timezone.localdate()
    GridRole.objects.bulk_create(
        [
            GridRole(
                grid=grid,
                user=user,
                role=role,
                starts_on=starts_on,
                employment=employment,
                department=department,
            )
            for grid in grids
        ],
        ignore_conflicts=True,
    )
    return len(grids)


def grid_role_end(*, assignment: GridRole, on: date) -> GridRole:
    if on < assignment.starts_on:
        raise DomainError(_("A role cannot end before it starts."), ends_on=[_("Before start.")])
    assignment.ends_on = on
    assignment.save(update_fields=["ends_on"])
    return assignment


# --- departments and plans ----------------------------------------------------------------


def department_create(*, code: str, name: str, sector: Sector, grid: Grid) -> Department:
    if Department.objects.filter(code=code).exists():
        raise DomainError(_("A department with code %(code)s already exists.") % {"code": code})
    return Department.objects.create(
        code=code, name=name, sector=sector, level=grid.level, grid=grid
    )


def department_update(*, department: Department, name: str, active: bool) -> Department:
    """Rename a department or close it (a closed one keeps its history and is offered no more
    on the duty matrix); its code, sector and grid never change."""
    name = (name or "").strip()
    if not name:
        raise DomainError(_("A department needs a name."), name=[_("Required.")])
    department.name, department.active = name, active
    department.save(update_fields=["name", "active"])
    return department


def department_member_add(
    *,
    department: Department,
    user: User,
    position: str,
    starts_on: date | None = None,
    ends_on: date | None = None,
) -> DepartmentMembership:
    if position not in DepartmentMembership.Position.values:
        raise DomainError(_("Unknown position %(p)s.") % {"p": position})
    membership, _created = DepartmentMembership.objects.get_or_create(
        department=department,
        user=user,
        position=position,
        starts_on=starts_on or timezone.localdate(),
    )
    if ends_on is not None:
        membership = department_member_end(membership=membership, on=ends_on)
    return membership


def department_member_end(
    *, membership: DepartmentMembership, on: date | None
) -> DepartmentMembership:
    """End a membership on ``on`` (``None`` reopens it); nothing is deleted."""
    if on is not None and on < membership.starts_on:
        raise DomainError(
            _("A membership cannot end before it starts."), ends_on=[_("Before start.")]
        )
    membership.ends_on = on
    membership.save(update_fields=["ends_on"])
    return membership


def _plan_dates_check(
    *, adopted_on: date, filed_on: date | None, published_on: date | None
) -> None:
    today = timezone.localdate()
    for label, value in (
        ("adopted_on", adopted_on),
        ("filed_on", filed_on),
        ("published_on", published_on),
    ):
        if value and value > today:
            raise DomainError(
                _("A plan date cannot lie in the future."), **{label: [_("In the future.")]}
            )
    if filed_on and filed_on < adopted_on:
        raise DomainError(
            _("A plan cannot be filed before it is adopted."), filed_on=[_("Before adoption.")]
        )
    if published_on and published_on < adopted_on:
        raise DomainError(
            _("A plan cannot be published before it is adopted."),
            published_on=[_("Before adoption.")],
        )


@transaction.atomic
def division_plan_record(
    *,
    grid: Grid,
    title: str,
    adopted_on: date,
    filed_on: date | None = None,
    filed_with: str = "",
    published_on: date | None = None,
    published_url: str = "",
    actor: User | None = None,
) -> DivisionPlan:
    """Record a new version of a grid's division plan (the next version number)."""
    _plan_dates_check(adopted_on=adopted_on, filed_on=filed_on, published_on=published_on)
    _lock_tree(grid)
    last = DivisionPlan.objects.filter(grid=grid).aggregate(v=Max("version"))["v"] or 0
    return DivisionPlan.objects.create(
        grid=grid,
        version=last + 1,
        title=title,
        adopted_on=adopted_on,
        filed_on=filed_on,
        filed_with=filed_with,
        published_on=published_on,
        published_url=published_url,
        created_by=actor,
    )


@transaction.atomic
def division_plan_update(
    *,
    plan: DivisionPlan,
    title: str,
    filed_on: date | None,
    filed_with: str,
    published_on: date | None,
    published_url: str,
    notes: str = "",
) -> DivisionPlan:
    """Filing and publishing come after adoption: record them (and corrections to the title
    or notes) on an existing version. The grid, version and adoption date never change."""
    plan = DivisionPlan.objects.select_for_update().get(pk=plan.pk)
    _plan_dates_check(adopted_on=plan.adopted_on, filed_on=filed_on, published_on=published_on)
    plan.title, plan.filed_on, plan.filed_with = title, filed_on, filed_with or ""
    plan.published_on, plan.published_url, plan.notes = published_on, published_url or "", notes
    plan.save(
        update_fields=["title", "filed_on", "filed_with", "published_on", "published_url", "notes"]
    )
    return plan


# --- bulk load of administrative divisions ------------------------------------------------


@dataclass
class DivisionRow:
    line: int
    code: str
    name: str
    level: int
    parent_code: str


@dataclass
class LoadResult:
    created: int = 0
    skipped: list[str] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)


PLACEHOLDER_NAMES = {"市辖区"}


@transaction.atomic
def divisions_load(
    *,
    rows: list[DivisionRow],
    actor: User | None,
    under: Grid | None = None,
    boundaries: dict[str, dict] | None = None,
) -> LoadResult:
    """Load administrative divisions in one transaction with one rebuild per tree.

    Each row becomes an administrative grid with its 12-digit code. A row whose parent is not in
    the file hangs below ``under`` or below an existing grid with that parent code, or becomes a
    root. The grid level follows the tree (a 3-level city such as Xicheng gets 1 / 2 / 3), and the
    file's own level must grow along every path. Childless 市辖区 rows are NBS placeholders, not
    territory, and are skipped. ``boundaries`` maps 12-digit codes to GeoJSON. Any bad row stops
    the load: nothing is stored.
    """
    errors: list[str] = []
    by_code: dict[str, DivisionRow] = {}
    has_children: set[str] = {row.parent_code for row in rows}
    for row in rows:
        if row.code in by_code:
            errors.append(
                _("line %(line)s: code %(code)s appears twice")
                % {"line": row.line, "code": row.code}
            )
        by_code[row.code] = row
    levels = configured_levels()
    if not levels:
        raise DomainError(_("No grid levels are configured."))
    max_level = max(levels)

    existing = set(
        Grid.objects.filter(code__in=[admin_code(r.code) for r in rows]).values_list(
            "code", flat=True
        )
    )
    outside_parents = {
        admin_code(r.parent_code): None
        for r in rows
        if r.parent_code not in by_code and r.parent_code
    }
    parents_in_db = {g.code: g for g in Grid.objects.filter(code__in=list(outside_parents))}
    result = LoadResult()
    new_level: dict[str, int] = {}
    anchor: dict[str, Grid | None] = {}
    keep: list[DivisionRow] = []
    for row in rows:  # rows are in parent-before-child order (sorted by code)
        if row.name in PLACEHOLDER_NAMES and row.code not in has_children:
            result.skipped.append(f"{row.code} {row.name}")
            continue
        code12 = admin_code(row.code)
        if code12 in existing:
            errors.append(
                _("line %(line)s: a grid with code %(code)s already exists")
                % {"line": row.line, "code": code12}
            )
            continue
        parent_row = by_code.get(row.parent_code)
        if parent_row is not None:
            if row.parent_code not in new_level:
                errors.append(
                    _("line %(line)s: parent %(parent)s must come before its child")
                    % {"line": row.line, "parent": row.parent_code}
                )
                continue
            if row.level <= parent_row.level:
                errors.append(
                    _("line %(line)s: level %(level)s below a parent of level %(plevel)s")
                    % {"line": row.line, "level": row.level, "plevel": parent_row.level}
                )
                continue
            if not row.code.startswith(row.parent_code):
                errors.append(
                    _(
                        "line %(line)s: code %(code)s does not start with its parent's code %(parent)s"
                    )
                    % {"line": row.line, "code": row.code, "parent": row.parent_code}
                )
                continue
            level = new_level[row.parent_code] + 1
            anchor[row.code] = anchor[row.parent_code]
        else:
            parent = under or parents_in_db.get(admin_code(row.parent_code))
            level = parent.level + 1 if parent else min(levels)
            anchor[row.code] = parent
            if parent is None:
                result.roots.append(code12)
        if level > max_level:
            errors.append(
                _(
                    "line %(line)s: %(name)s would be level %(level)s, deeper than the %(max)s configured levels"
                )
                % {"line": row.line, "name": row.name, "level": level, "max": max_level}
            )
            continue
        new_level[row.code] = level
        keep.append(row)
    if errors:
        raise DomainError(_("The division file has errors; nothing was loaded."), errors=errors)

    # Bulk insert with the tree bookkeeping switched off. A new tree gets its nested-set values
    # computed here in one walk (children in code order, as ``order_insertion_by`` keeps them);
    # rows hung below an existing grid are placed by one rebuild of that tree afterwards.
    next_tree = (Grid.objects.aggregate(m=Max("tree_id"))["m"] or 0) + 1
    now = timezone.now()
    created: dict[str, Grid] = {}
    children: dict[str, list[str]] = {}
    trees_to_rebuild: set[int] = set()
    for row in keep:
        inside = row.parent_code in by_code
        parent = created[row.parent_code] if inside else anchor[row.code]
        if parent is None:
            tree_id, next_tree = next_tree, next_tree + 1
        else:
            tree_id = parent.tree_id
            if not inside:
                trees_to_rebuild.add(tree_id)
        if inside:
            children.setdefault(row.parent_code, []).append(row.code)
        created[row.code] = Grid(
            code=admin_code(row.code),
            name=row.name.strip(),
            level=new_level[row.code],
            kind=GridKind.ADMINISTRATIVE,
            parent=parent,
            tree_id=tree_id,
            lft=0,
            rght=0,
            depth=(parent.depth + 1) if parent is not None else 0,
            created_at=now,
            updated_at=now,
        )
        if boundaries and admin_code(row.code) in boundaries:
            _apply_boundary(created[row.code], boundaries[admin_code(row.code)])

    def number(code: str, left: int) -> int:
        node = created[code]
        node.lft = left
        right = left + 1
        for child in sorted(children.get(code, [])):
            created[child].depth = node.depth + 1
            right = number(child, right) + 1
        node.rght = right
        return right

    for row in keep:
        if row.parent_code not in by_code and anchor[row.code] is None:
            number(row.code, 1)
    with Grid.objects.disable_mptt_updates():
        # Parents need their ids before their children are inserted: insert level by level.
        for level in sorted({g.level for g in created.values()}):
            batch = [g for g in created.values() if g.level == level]
            for g in batch:
                g.parent_id = g.parent.pk if g.parent is not None else None
            Grid.objects.bulk_create(batch, batch_size=1000)
    for tree_id in sorted(trees_to_rebuild):
        Grid.objects.partial_rebuild(tree_id)
    GridChange.objects.bulk_create(
        [
            GridChange(
                grid_id=g.pk,
                action=GridChange.Action.LOAD,
                actor=actor,
                at=now,
                after={"code": g.code, "name": g.name, "level": g.level},
            )
            for g in created.values()
        ],
        batch_size=1000,
    )
    result.created = len(created)
    return result


def grid_health_snapshot_take(*, on: date | None = None) -> GridHealthSnapshot:
    """Store the day's grid-health counts for the whole city; one row per day (unique)."""
    from grids.selectors import grid_health

    on = on or timezone.localdate()
    existing = GridHealthSnapshot.objects.filter(taken_on=on).first()
    if existing:
        return existing
    counts = grid_health(user=None, on=on).counts()
    snapshot, _created = GridHealthSnapshot.objects.get_or_create(
        taken_on=on, defaults={"counts": counts}
    )
    return snapshot
