"""The grid pages: where a person lands, a search over the grids they may see, and one grid.

Views stay thin: every grid they show comes from ``grids.selectors`` (so a grid outside the
user's scope is a 404), and the page's query count does not grow with the size of the subtree.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import groupby

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grids import selectors
from grids.models import Grid, GridChange, GridKind, GridLevel, Role
from grids.templatetags.gridsup_ui import localized_name

PROBLEMS = {
    "missing_roles": gettext_lazy("Missing a required role"),
    "too_few_officers": gettext_lazy("Base grid with fewer than two officers"),
    "no_officer_or_supervisor": gettext_lazy("Neither an officer nor a supervisor"),
}
# Short names for the tags in the table of problem grids.
PROBLEM_TAGS = {
    "missing_roles": gettext_lazy("Role missing"),
    "too_few_officers": gettext_lazy("Under two officers"),
    "no_officer_or_supervisor": gettext_lazy("No officer or supervisor"),
}
PROBLEM_PAGE_SIZE = 25
SEARCH_PAGE_SIZE = 50
HISTORY_LIMIT = 20
# Which snapshot keys of a GridChange are worth showing, and under what label.
CHANGE_FIELDS = {
    "name": gettext_lazy("name"),
    "code": gettext_lazy("code"),
    "kind": gettext_lazy("kind"),
    "parent": gettext_lazy("parent grid"),
    "level": gettext_lazy("level"),
    "active_from": gettext_lazy("active from"),
    "active_until": gettext_lazy("active until"),
    "boundary_bbox": gettext_lazy("boundary"),
}


@login_required
def grid_index(request):
    """With ``q``: the visible grids matching it. Without: the user's topmost visible grid."""
    q = request.GET.get("q", "").strip()[:50]
    if q:
        return _grid_search(request, q)
    top = selectors.grid_list(user=request.user).order_by("level", "code").first()
    if top is not None:
        return redirect("grid-detail", code=top.code)
    return render(request, "grids/empty.html")


def _grid_search(request, q: str):
    if q.isdigit():
        found = selectors.grid_list(user=request.user).filter(code__startswith=q)
    else:
        found = selectors.grid_list(user=request.user, q=q)
    page = Paginator(found, SEARCH_PAGE_SIZE).get_page(request.GET.get("page"))
    levels = _levels()
    for grid in page.object_list:
        grid.level_label = _level_label(levels, grid.level)
    return render(request, "grids/search.html", {"q": q, "page": page, "nav": "grids"})


@dataclass
class RoleGroup:
    role: str
    label: str
    people: list = field(default_factory=list)
    required: bool = False


@login_required
def grid_detail(request, code):
    user = request.user
    grid = selectors.grid_get(user=user, code=code)
    levels = _levels()
    grid.level_label = _level_label(levels, grid.level)

    ancestors = list(selectors.grid_ancestors(grid=grid))
    linked = set(
        selectors.grid_ancestors(grid=grid)
        .filter(selectors.grid_scope_q(user=user))
        .values_list("pk", flat=True)
    )
    breadcrumbs = [(a, a.pk in linked) for a in ancestors]

    required = list(levels[grid.level].required_roles) if grid.level in levels else []
    role_groups = _role_groups(selectors.grid_roles_current(grids=[grid])[grid.pk], required)

    children = list(selectors.grid_children(user=user, grid=grid))

    health = selectors.grid_health(user=user, root=grid)
    counts = health.counts()
    counts["base_grids"] = sum(1 for row in health.rows if row.is_base)
    problem_rows = [row for row in health.rows if _problems_of(row)]
    _count_per_child(children, health.rows, problem_rows)

    problem = request.GET.get("problem", "")
    if problem not in PROBLEMS:
        problem = ""
    listed = [row for row in problem_rows if not problem or problem in _problems_of(row)]
    problem_page = Paginator(listed, PROBLEM_PAGE_SIZE).get_page(request.GET.get("page"))
    for row in problem_page.object_list:
        row.level_label = _level_label(levels, row.grid.level)
        row.missing_labels = [_role_label(r) for r in row.missing_roles]
        row.problem_labels = [PROBLEM_TAGS[p] for p in _problems_of(row)]

    changes = list(grid.changes.select_related("actor")[:HISTORY_LIMIT])
    for change in changes:
        change.diff = _change_diff(change)

    context = {
        "grid": grid,
        "breadcrumbs": breadcrumbs,
        "role_groups": role_groups,
        "children": children,
        "counts": counts,
        "problem_figures": [
            {
                "key": key,
                "label": label,
                "count": counts[key],
                "of": counts["base_grids"] if key == "too_few_officers" else counts["grids"],
            }
            for key, label in PROBLEMS.items()
        ],
        "problem_total": len(problem_rows),
        "problem": problem,
        "problem_page": problem_page,
        "changes": changes,
        "history_limit": HISTORY_LIMIT,
        "nav": "grids",
        "plans": list(grid.division_plans.all()),
        "map_data": _map_data(grid, children),
    }
    return render(request, "grids/detail.html", context)


def _levels() -> dict[int, GridLevel]:
    # Levels are the city's configuration, not scoped data: every user reads the same rows.
    return {level.number: level for level in GridLevel.objects.all()}


def _level_label(levels: dict[int, GridLevel], number: int) -> str:
    level = levels.get(number)
    return localized_name(level) if level else _("Level %(n)s") % {"n": number}


def _role_label(value: str) -> str:
    return Role(value).label if value in Role.values else value


def _role_groups(roles, required: list[str]) -> list[RoleGroup]:
    """People grouped by role, in the order of ``Role``; required roles nobody holds are kept
    as empty groups so the page can say who is missing."""
    order = {value: index for index, value in enumerate(Role.values)}
    roles = sorted(roles, key=lambda r: (order.get(r.role, 99), str(r.user)))
    groups = {
        value: RoleGroup(role=value, label=_role_label(value), people=list(items))
        for value, items in groupby(roles, key=lambda r: r.role)
    }
    for value in required:
        groups.setdefault(value, RoleGroup(role=value, label=_role_label(value)))
        groups[value].required = True
    return sorted(groups.values(), key=lambda g: order.get(g.role, 99))


def _problems_of(row: selectors.GridHealthRow) -> list[str]:
    found = []
    if row.missing_roles:
        found.append("missing_roles")
    if row.too_few_officers:
        found.append("too_few_officers")
    if row.no_officer_or_supervisor:
        found.append("no_officer_or_supervisor")
    return found


def _count_per_child(children: list[Grid], rows, problem_rows) -> None:
    """How many grids, and how many problem grids, lie in each child's subtree.

    Children are siblings, so their nested-set ranges are disjoint and sorted by ``lft``: a
    binary search finds the one child whose range holds a grid, without a query per child.
    """
    children = sorted(children, key=lambda c: c.lft)
    lefts = [c.lft for c in children]
    for child in children:
        child.subtree_grids = 0
        child.subtree_problems = 0

    def owner(grid: Grid) -> Grid | None:
        index = bisect_right(lefts, grid.lft) - 1
        if index < 0:
            return None
        child = children[index]
        return child if grid.is_descendant_of(child, include_self=True) else None

    for row in rows:
        child = owner(row.grid)
        if child is not None:
            child.subtree_grids += 1
    for row in problem_rows:
        child = owner(row.grid)
        if child is not None:
            child.subtree_problems += 1


def _change_diff(change: GridChange) -> list[tuple[str, str, str]]:
    """(field, before, after) for the fields a change touched; empty for loads and creations."""
    if change.action not in (GridChange.Action.UPDATE, GridChange.Action.MOVE):
        return []
    out = []
    for key, label in CHANGE_FIELDS.items():
        old, new = change.before.get(key), change.after.get(key)
        if old == new:
            continue
        if key == "kind":
            old, new = _kind_label(old), _kind_label(new)
        if key == "boundary_bbox":
            # The snapshot keeps only the bounding box: say whether the outline was drawn.
            if old and new:
                old, new = _("drawn"), _("redrawn")
            else:
                old, new = (_("drawn") if old else _("none")), (_("drawn") if new else _("none"))
        out.append((str(label), "" if old is None else str(old), "" if new is None else str(new)))
    return out


def _kind_label(value) -> str:
    return GridKind(value).label if value in GridKind.values else (value or "")


def _map_data(grid: Grid, children: list[Grid]) -> dict | None:
    """What the map script draws: the grid's outline and its children, each a link."""
    shapes = [c for c in children if c.boundary]
    if not grid.boundary and not shapes:
        return None

    def state(child: Grid) -> str:
        if not child.subtree_problems:
            return "ok"
        if child.subtree_problems * 2 < child.subtree_grids:
            return "some"
        return "many"

    return {
        "grid": {"code": grid.code, "name": grid.name, "boundary": grid.boundary},
        "children": [
            {
                "code": c.code,
                "name": c.name,
                "url": reverse("grid-detail", kwargs={"code": c.code}),
                "boundary": c.boundary,
                "problems": c.subtree_problems,
                "grids": c.subtree_grids,
                "state": state(c),
            }
            for c in shapes
        ],
        "labels": {
            "zoomIn": _("Zoom in"),
            "zoomOut": _("Zoom out"),
            "problems": _("problem grids"),
        },
    }
