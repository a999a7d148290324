"""Evidence collectors: what the system's own records show against each rule (DOMAIN §7.1).

Each collector answers for **all** county-level grids at once — ``{county id: Found}`` — with
a constant number of queries whatever the number of cases, patrols or grids: rows are grouped
by county with ``grids.county.ancestor_of`` (one SQL ``CASE`` over the counties' subtrees) and
at most ``EVIDENCE_CAP`` evidence rows per county are fetched (a window function numbers them),
while the count is exact. The cap lies well beyond the point where any Linyi item reaches zero,
so every point deducted links to its cause.

A rule names its collector in ``Rule.evidence`` (``params`` in ``Rule.params``). Collectors
register themselves with ``@collector("name")``; ``collect`` runs one, memoising shared reads
in the ``Context``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Case as CaseExpr
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.urls import NoReverseMatch, get_urlconf, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Case, CaseAssignment, CaseEvent
from grids import county as county_sql
from grids.models import Department, DivisionPlan, Grid, GridChange, GridRole, Role
from grids.selectors import active_q
from inspections.models import Patrol, PollutionSource, SourceKind, SupervisionPlan

EVIDENCE_CAP = 200
OFFICER_ROLES = (Role.OFFICER, Role.DIRECT_RESPONSIBLE)
# The township's own full- or part-time environmental staff (专(兼)职环保人员): its inspectors and
# supervisors; officers stationed by a county department are counted under 2.2.
STAFF_ROLES = (Role.INSPECTOR, Role.SUPERVISOR)
ON_SITE_KINDS = (Patrol.Kind.PATROL, Patrol.Kind.INSPECTION)
SILENT_IDS_MAX = 20_000
OPEN_CASE_STATES = ("dispatched", "handling")


# --- evidence items ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    model: str  # app_label.model_name
    pk: int | None
    text: str
    url: str = ""

    def as_dict(self) -> dict:
        return {"model": self.model, "pk": self.pk, "text": self.text, "url": self.url}


@dataclass
class Found:
    count: int = 0
    items: list[Evidence] = field(default_factory=list)

    def add(self, evidence: Evidence) -> None:
        self.count += 1
        if len(self.items) < EVIDENCE_CAP:
            self.items.append(evidence)


_SENTINEL = 987654321
_templates: dict[tuple, str | None] = {}


def _reverse(name: str, *args) -> str:
    """``reverse(name, args=args)`` or "" when the route is not installed. Routes taking one
    id are reversed once per URL configuration and filled in afterwards: a run builds
    thousands of evidence links, and ``reverse`` is slow."""
    if len(args) == 1 and (isinstance(args[0], int) or str(args[0]).isdigit()):
        key = (get_urlconf(), name, type(args[0]))
        if key not in _templates:
            sentinel = _SENTINEL if isinstance(args[0], int) else str(_SENTINEL)
            try:
                _templates[key] = reverse(name, args=[sentinel])
            except NoReverseMatch:
                _templates[key] = None
        template = _templates[key]
        return template.replace(str(_SENTINEL), str(args[0])) if template else ""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def admin_url(model: str, pk: int | None) -> str:
    if pk is None:
        return ""
    app, name = model.split(".")
    return _reverse(f"admin:{app}_{name}_change", pk)


def grid_url(code: str) -> str:
    return _reverse("grid-detail", code)


def case_url(pk: int) -> str:
    return _reverse("case-detail", pk) or admin_url("cases.case", pk)


def source_url(pk: int) -> str:
    return _reverse("source-detail", pk) or admin_url("inspections.pollutionsource", pk)


# --- the context of a run ----------------------------------------------------------------------


@dataclass
class Context:
    """One run: the year, the county-level grids and the moment of the run."""

    year: int
    counties: list[Grid]
    now: datetime
    grid_level: int = 2
    _memo: dict = field(default_factory=dict)

    @property
    def start(self) -> date:
        return date(self.year, 1, 1)

    @property
    def end(self) -> date:
        """The last day of the year."""
        return date(self.year, 12, 31)

    @property
    def today(self) -> date:
        return timezone.localdate(self.now)

    @property
    def as_of(self) -> date:
        """The day the state of things (roles, lists) is read on: the year's last day, or
        today while the year runs."""
        return min(self.end, self.today)

    @property
    def start_at(self) -> datetime:
        return _midnight(self.start)

    @property
    def end_at(self) -> datetime:
        """Midnight after the year's last day (exclusive)."""
        return _midnight(date(self.year + 1, 1, 1))

    @property
    def county_ids(self) -> list[int]:
        return [c.pk for c in self.counties]

    @property
    def by_id(self) -> dict[int, Grid]:
        return {c.pk: c for c in self.counties}

    def memo(self, key: str, compute: Callable[[], object]):
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def county_of(self, prefix: str = "grid__"):
        return county_sql.ancestor_of(ancestors=self.counties, prefix=prefix)

    def within(self, prefix: str = "grid__") -> Q:
        return county_sql.within_q(ancestors=self.counties, prefix=prefix)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


Collector = Callable[[Context, dict], dict[int, Found]]
COLLECTORS: dict[str, Collector] = {}


def collector(name: str):
    def register(fn: Collector) -> Collector:
        COLLECTORS[name] = fn
        return fn

    return register


def collect(ctx: Context, name: str, params: dict | None = None) -> dict[int, Found]:
    """Run collector ``name`` (memoised per run and parameters)."""
    if name not in COLLECTORS:
        raise KeyError(name)
    key = f"collector:{name}:{sorted((params or {}).items())}"
    return ctx.memo(key, lambda: COLLECTORS[name](ctx, dict(params or {})))


def _capped(qs: QuerySet, *, county: str, order: list[str], fields: list[str]) -> list[dict]:
    """Rows of ``qs`` (annotated with ``county``), at most ``EVIDENCE_CAP`` per county, each
    with ``_n``: the county's full count. One query."""
    rows = (
        qs.annotate(
            _rn=Window(RowNumber(), partition_by=[F(county)], order_by=[F(o) for o in order]),
            _n=Window(Count("pk"), partition_by=[F(county)]),
        )
        .filter(_rn__lte=EVIDENCE_CAP)
        .values(county, "_n", *fields)
    )
    return list(rows)


def _capped_per(qs: QuerySet, *, group: str, order: list[str], fields: list[str]) -> list[dict]:
    """Like ``_capped`` but numbered per value of a plain column ``group`` (a department),
    which the database can group without computing a county for every row."""
    return list(
        qs.annotate(
            _rn=Window(RowNumber(), partition_by=[F(group)], order_by=[F(o) for o in order]),
            _n=Window(Count("pk"), partition_by=[F(group)]),
        )
        .filter(_rn__lte=EVIDENCE_CAP)
        .values(group, "_n", *fields)
    )


def _found_per_county(
    rows: list[dict],
    *,
    group: str,
    to_county: dict[int, int],
    make: Callable[[dict], Evidence],
    sort_key: Callable[[dict], object],
) -> dict[int, Found]:
    """Rows numbered per ``group`` merged into counties: counts added, evidence capped."""
    counts: dict[int, dict[int, int]] = defaultdict(dict)
    rows_of: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        county_id = to_county.get(row[group])
        if county_id is None:
            continue
        counts[county_id][row[group]] = row["_n"]
        rows_of[county_id].append(row)
    return {
        county_id: Found(
            count=sum(counts[county_id].values()),
            items=[make(r) for r in sorted(kept, key=sort_key)[:EVIDENCE_CAP]],
        )
        for county_id, kept in rows_of.items()
    }


def _department_counties(ctx: Context) -> dict[int, int]:
    """``{department id: county id}`` for every department whose grid lies in a county."""
    return ctx.memo(
        "department_counties",
        lambda: dict(
            Department.objects.filter(ctx.within())
            .annotate(county_id=ctx.county_of())
            .values_list("pk", "county_id")
        ),
    )


def _found_from_rows(rows: list[dict], *, county: str, make: Callable[[dict], Evidence]):
    out: dict[int, Found] = {}
    for row in rows:
        found = out.setdefault(row[county], Found(count=row["_n"]))
        found.items.append(make(row))
    return out


def _absence(ctx: Context, missing: set[int], text: Callable[[Grid], str]) -> dict[int, Found]:
    out = {}
    for grid in ctx.counties:
        if grid.pk in missing:
            found = Found()
            found.add(Evidence("grids.grid", grid.pk, text(grid), grid_url(grid.code)))
            out[grid.pk] = found
    return out


# --- shared reads ------------------------------------------------------------------------------


def _departments(ctx: Context) -> list[Department]:
    """The county's own functional departments with environmental duties (二级网格职能部门)."""
    return ctx.memo(
        "departments",
        lambda: list(
            Department.objects.filter(
                grid_id__in=ctx.county_ids, active=True, sector__environmental_duties=True
            ).order_by("grid_id", "code")
        ),
    )


def _department_found(
    ctx: Context, departments: list[Department], text: Callable[[Department], str]
) -> dict[int, Found]:
    out: dict[int, Found] = {}
    for dept in departments:
        out.setdefault(dept.grid_id, Found()).add(
            Evidence(
                "grids.department", dept.pk, text(dept), admin_url("grids.department", dept.pk)
            )
        )
    return out


def _plans(ctx: Context) -> dict[int, dict]:
    """The latest division plan adopted by the year's end, per county."""

    def compute():
        latest: dict[int, dict] = {}
        rows = (
            DivisionPlan.objects.filter(grid_id__in=ctx.county_ids, adopted_on__lte=ctx.end)
            .order_by("grid_id", "version")
            .values("pk", "grid_id", "version", "title", "adopted_on", "filed_on", "published_on")
        )
        for row in rows:
            latest[row["grid_id"]] = row  # ordered by version: the last one wins
        return latest

    return ctx.memo("division_plans", compute)


def _plan_evidence(plan: dict, text: str) -> Evidence:
    return Evidence(
        "grids.divisionplan", plan["pk"], text, admin_url("grids.divisionplan", plan["pk"])
    )


# --- 1.1 division plan -------------------------------------------------------------------------


@collector("division_plan_missing")
def division_plan_missing(ctx: Context, params: dict) -> dict[int, Found]:
    plans = _plans(ctx)
    return _absence(
        ctx,
        {c.pk for c in ctx.counties if c.pk not in plans},
        lambda g: (
            _("%(grid)s has no grid division plan adopted by %(day)s.")
            % {"grid": g.name, "day": ctx.end}
        ),
    )


def _plans_without(ctx: Context, field: str, message: str) -> dict[int, Found]:
    """Counties whose plan has no ``field`` date by the end of the year; ``message`` is a
    translated text taking the plan's ``title`` and version ``v``."""
    out = {}
    for county_id, plan in _plans(ctx).items():
        if plan[field] is None or plan[field] > ctx.end:
            found = Found()
            found.add(
                _plan_evidence(plan, message % {"title": plan["title"], "v": plan["version"]})
            )
            out[county_id] = found
    return out


@collector("division_plan_not_filed")
def division_plan_not_filed(ctx: Context, params: dict) -> dict[int, Found]:
    return _plans_without(
        ctx, "filed_on", _("%(title)s (v%(v)s) was not filed with the government one level up.")
    )


@collector("division_plan_not_published")
def division_plan_not_published(ctx: Context, params: dict) -> dict[int, Found]:
    return _plans_without(ctx, "published_on", _("%(title)s (v%(v)s) was not published."))


@collector("division_not_maintained")
def division_not_maintained(ctx: Context, params: dict) -> dict[int, Found]:
    """Dynamic management: a change to the county's grids recorded during the year (the bulk
    load of divisions does not count), or a new version of its plan adopted in the year."""
    changed = set(
        GridChange.objects.filter(ctx.within(), at__gte=ctx.start_at, at__lt=ctx.end_at)
        .exclude(action=GridChange.Action.LOAD)
        .annotate(county_id=ctx.county_of())
        .values_list("county_id", flat=True)
        .distinct()
    )
    revised = {
        county_id
        for county_id, plan in _plans(ctx).items()
        if ctx.start <= plan["adopted_on"] <= ctx.end
    }
    plans = _plans(ctx)
    missing = {c.pk for c in ctx.counties if c.pk in plans} - changed - revised
    return _absence(
        ctx,
        missing,
        lambda g: (
            _("No change to the grids of %(grid)s and no plan revision in %(year)s.")
            % {"grid": g.name, "year": ctx.year}
        ),
    )


@collector("grids_uncoded")
def grids_uncoded(ctx: Context, params: dict) -> dict[int, Found]:
    """Grids whose code is not a 12-digit division code or a 15-digit sub-grid code (the
    system refuses such codes; only data loaded around it can have them)."""
    qs = (
        Grid.objects.filter(ctx.within(""))
        .exclude(code__regex=r"^[0-9]{12}([0-9]{3})?$")
        .annotate(county_id=ctx.county_of(""))
    )
    rows = _capped(qs, county="county_id", order=["code"], fields=["pk", "code", "name"])
    return _found_from_rows(
        rows,
        county="county_id",
        make=lambda r: Evidence(
            "grids.grid",
            r["pk"],
            _("%(name)s has no valid grid code (%(code)s).")
            % {"name": r["name"], "code": r["code"]},
            admin_url("grids.grid", r["pk"]),
        ),
    )


# --- 1.2 roles named ---------------------------------------------------------------------------


@collector("role_missing")
def role_missing(ctx: Context, params: dict) -> dict[int, Found]:
    role = params["role"]
    held = ctx.memo(
        "county_roles",
        lambda: set(
            GridRole.objects.filter(active_q(ctx.as_of), grid_id__in=ctx.county_ids).values_list(
                "grid_id", "role"
            )
        ),
    )
    label = Role(role).label
    return _absence(
        ctx,
        {c.pk for c in ctx.counties if (c.pk, role) not in held},
        lambda g: (
            _("%(grid)s has no %(role)s named on %(day)s.")
            % {"grid": g.name, "role": label, "day": ctx.as_of}
        ),
    )


# --- 2.2 officers stationed per grid -----------------------------------------------------------


def _active_grid_q(on: date, prefix: str = "") -> Q:
    return Q(**{f"{prefix}active_until__isnull": True}) | Q(**{f"{prefix}active_until__gte": on})


@collector("base_grids_without_officer")
def base_grids_without_officer(ctx: Context, params: dict) -> dict[int, Found]:
    """Base grids (leaves) of the county with no current enforcement officer stationed from a
    department with environmental duties."""
    stationed = GridRole.objects.filter(
        active_q(ctx.as_of),
        grid=OuterRef("pk"),
        role__in=OFFICER_ROLES,
        department__sector__environmental_duties=True,
    )
    qs = (
        Grid.objects.filter(ctx.within(""), county_sql.leaf_q(), _active_grid_q(ctx.as_of))
        .exclude(pk__in=ctx.county_ids)
        .filter(~Exists(stationed))
        .annotate(county_id=ctx.county_of(""))
    )
    rows = _capped(qs, county="county_id", order=["code"], fields=["pk", "code", "name"])
    return _found_from_rows(
        rows,
        county="county_id",
        make=lambda r: Evidence(
            "grids.grid",
            r["pk"],
            _(
                "%(name)s (%(code)s) has no stationed enforcement officer of a department with "
                "environmental duties."
            )
            % {"name": r["name"], "code": r["code"]},
            grid_url(r["code"]),
        ),
    )


# --- 2.4 township agencies and staff -----------------------------------------------------------


def _townships(ctx: Context) -> list[Grid]:
    return ctx.memo(
        "townships",
        lambda: list(
            Grid.objects.filter(ctx.within(""), _active_grid_q(ctx.as_of), level=ctx.grid_level + 1)
            .annotate(county_id=ctx.county_of(""))
            .order_by("code")
        ),
    )


def _township_found(townships: list[Grid], text: Callable[[Grid], str]) -> dict[int, Found]:
    out: dict[int, Found] = {}
    for township in townships:
        out.setdefault(township.county_id, Found()).add(
            Evidence("grids.grid", township.pk, text(township), grid_url(township.code))
        )
    return out


@collector("townships_without_agency")
def townships_without_agency(ctx: Context, params: dict) -> dict[int, Found]:
    with_agency = set(
        Department.objects.filter(
            ctx.within(),
            active=True,
            sector__environmental_duties=True,
            grid__level=ctx.grid_level + 1,
        ).values_list("grid_id", flat=True)
    )
    lacking = [t for t in _townships(ctx) if t.pk not in with_agency]
    return _township_found(
        lacking, lambda t: _("%(name)s has no environmental agency.") % {"name": t.name}
    )


@collector("townships_without_staff")
def townships_without_staff(ctx: Context, params: dict) -> dict[int, Found]:
    """Townships with no current full- or part-time environmental staff (inspectors or
    supervisors) on the township or any grid below it."""
    townships = _townships(ctx)
    staffed = (
        set(
            GridRole.objects.filter(
                active_q(ctx.as_of),
                county_sql.within_q(ancestors=townships, prefix="grid__"),
                role__in=STAFF_ROLES,
            )
            .annotate(township_id=county_sql.ancestor_of(ancestors=townships, prefix="grid__"))
            .values_list("township_id", flat=True)
            .distinct()
        )
        if townships
        else set()
    )
    lacking = [t for t in townships if t.pk not in staffed]
    return _township_found(
        lacking,
        lambda t: _("%(name)s has no full- or part-time environmental staff.") % {"name": t.name},
    )


# --- 3.1 pollution-source list -----------------------------------------------------------------


def _listed_q(ctx: Context) -> Q:
    """On the list during the year: confirmed by its end and not closed before its start."""
    return (
        Q(confirmed_on__lte=ctx.end)
        & (Q(closed_on__isnull=True) | Q(closed_on__gte=ctx.start))
        & ~Q(status=PollutionSource.Status.REPORTED)
    )


@collector("sources_missing")
def sources_missing(ctx: Context, params: dict) -> dict[int, Found]:
    listed = set(
        PollutionSource.objects.filter(ctx.within(), _listed_q(ctx))
        .annotate(county_id=ctx.county_of())
        .values_list("county_id", flat=True)
        .distinct()
    )
    return _absence(
        ctx,
        {c.pk for c in ctx.counties} - listed,
        lambda g: (
            _("%(grid)s has no pollution source on its list in %(year)s.")
            % {"grid": g.name, "year": ctx.year}
        ),
    )


@collector("sources_incomplete")
def sources_incomplete(ctx: Context, params: dict) -> dict[int, Found]:
    """The list is incomplete where a reported source still awaited confirmation more than
    ``confirm_days`` after it was reported, or a listed enterprise has no credit code."""
    days = int(params.get("confirm_days", 30))
    stale = Q(
        status=PollutionSource.Status.REPORTED,
        created_at__lt=_midnight(ctx.as_of) - timedelta(days=days),
    )
    no_code = _listed_q(ctx) & Q(kind=SourceKind.ENTERPRISE, credit_code="")
    qs = (
        PollutionSource.objects.filter(ctx.within())
        .filter(stale | no_code)
        .annotate(county_id=ctx.county_of())
    )
    rows = _capped(qs, county="county_id", order=["pk"], fields=["pk", "name", "status"])

    def make(r: dict) -> Evidence:
        if r["status"] == PollutionSource.Status.REPORTED:
            text = _("%(name)s: reported and not confirmed within %(d)s days.") % {
                "name": r["name"],
                "d": days,
            }
        else:
            text = _("%(name)s: an enterprise listed without its credit code.") % {
                "name": r["name"]
            }
        return Evidence("inspections.pollutionsource", r["pk"], text, source_url(r["pk"]))

    return _found_from_rows(rows, county="county_id", make=make)


# --- 3.2 patrol mechanism ----------------------------------------------------------------------


@collector("departments_without_plan")
def departments_without_plan(ctx: Context, params: dict) -> dict[int, Found]:
    departments = _departments(ctx)
    planned = set(
        SupervisionPlan.objects.filter(
            year=ctx.year, department_id__in=[d.pk for d in departments]
        ).values_list("department_id", flat=True)
    )
    return _department_found(
        ctx,
        [d for d in departments if d.pk not in planned],
        lambda d: (
            _("%(name)s has no yearly supervision plan for %(year)s.")
            % {"name": d.name, "year": ctx.year}
        ),
    )


@collector("departments_plan_unfulfilled")
def departments_plan_unfulfilled(ctx: Context, params: dict) -> dict[int, Found]:
    """Departments with a yearly plan whose on-site enforcement inspections in the year, at
    sources in the plan's grid, fell short of the inspections planned (as ``inspections.ledger``
    counts plan completion)."""
    departments = {d.pk: d for d in _departments(ctx)}
    plans = list(
        SupervisionPlan.objects.filter(year=ctx.year, department_id__in=list(departments))
        .select_related("grid")
        .order_by("department_id", "pk")
    )
    # Plans for the county as a whole: one grouped count of inspections by department and
    # county. Plans for a part of the county are counted by inspections.ledger (one query).
    whole = [p for p in plans if p.grid_id in ctx.by_id]
    part = [p for p in plans if p.grid_id not in ctx.by_id]
    done: dict[int, int] = {}
    if whole:
        # grouped by the source's own grid (no per-row CASE), then mapped to counties
        by_grid = list(
            Patrol.objects.filter(
                kind=Patrol.Kind.INSPECTION,
                department_id__in={p.department_id for p in whole},
                patrolled_at__gte=ctx.start_at,
                patrolled_at__lt=ctx.end_at,
            )
            .values("department_id", "source__grid_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        to_county = county_sql.ancestor_map(
            level=ctx.grid_level, grid_ids={r["source__grid_id"] for r in by_grid}
        )
        counts: dict[tuple[int, int], int] = defaultdict(int)
        for row in by_grid:
            counts[(row["department_id"], to_county.get(row["source__grid_id"]))] += row["n"]
        for plan in whole:
            done[plan.pk] = counts.get((plan.department_id, plan.grid_id), 0)
    if part:
        from inspections.ledger import supervision_plan_completion

        for pk, completion in supervision_plan_completion(plans=part).items():
            done[pk] = completion.done
    out: dict[int, Found] = {}
    seen: set[int] = set()
    for plan in plans:
        if done.get(plan.pk, 0) >= plan.inspections_planned or plan.department_id in seen:
            continue
        seen.add(plan.department_id)
        dept = departments[plan.department_id]
        out.setdefault(dept.grid_id, Found()).add(
            Evidence(
                "inspections.supervisionplan",
                plan.pk,
                _("%(dept)s: %(done)s of %(planned)s planned inspections done (%(title)s).")
                % {
                    "dept": dept.name,
                    "done": done.get(plan.pk, 0),
                    "planned": plan.inspections_planned,
                    "title": plan.title,
                },
                admin_url("inspections.supervisionplan", plan.pk),
            )
        )
    return out


@collector("departments_without_ledger")
def departments_without_ledger(ctx: Context, params: dict) -> dict[int, Found]:
    """Departments that recorded no on-site patrol or inspection in the year (no ledger)."""
    departments = _departments(ctx)
    any_patrol = Patrol.objects.filter(
        department=OuterRef("pk"),
        patrolled_at__gte=ctx.start_at,
        patrolled_at__lt=ctx.end_at,
        kind__in=ON_SITE_KINDS,
    )
    kept = set(
        Department.objects.filter(pk__in=[d.pk for d in departments])
        .filter(Exists(any_patrol))
        .values_list("pk", flat=True)
    )
    return _department_found(
        ctx,
        [d for d in departments if d.pk not in kept],
        lambda d: (
            _("%(name)s recorded no inspection in %(year)s (no ledger).")
            % {"name": d.name, "year": ctx.year}
        ),
    )


# --- half-year reports (3.2, 3.3, 3.7) ---------------------------------------------------------


def report_due_on(year: int, half: int) -> date:
    """Linyi report rule 3: by 10 July for the first half, by 10 January for the second."""
    return date(year, 7, 10) if half == 1 else date(year + 1, 1, 10)


def _halves_due(ctx: Context) -> list[int]:
    """The halves of the year whose report was due before today."""
    return [h for h in (1, 2) if report_due_on(ctx.year, h) < ctx.today]


@collector("department_reports_missing")
def department_reports_missing(ctx: Context, params: dict) -> dict[int, Found]:
    """Departments that did not send a half-yearly report (ledger, supervision, summary) to
    their grid's office, or sent it after its due date."""
    from assessment.models import HalfYearReport

    departments = _departments(ctx)
    halves = _halves_due(ctx)
    reports = {
        (r["department_id"], r["half"]): r
        for r in HalfYearReport.objects.filter(
            year=ctx.year, department_id__in=[d.pk for d in departments]
        ).values("pk", "department_id", "half", "due_on", "submitted_at")
    }
    out: dict[int, Found] = {}
    for dept in departments:
        problems = []
        for half in halves:
            report = reports.get((dept.pk, half))
            if report is None:
                problems.append(_("H%(h)s report missing") % {"h": half})
            elif timezone.localdate(report["submitted_at"]) > report["due_on"]:
                problems.append(_("H%(h)s report late") % {"h": half})
        if problems:
            out.setdefault(dept.grid_id, Found()).add(
                Evidence(
                    "grids.department",
                    dept.pk,
                    f"{dept.name}: {'; '.join(problems)}",
                    admin_url("grids.department", dept.pk),
                )
            )
    return out


@collector("half_year_reports_missing")
def half_year_reports_missing(ctx: Context, params: dict) -> dict[int, Found]:
    """The county's half-yearly reports to the city office not made, or made late."""
    from assessment.models import HalfYearReport

    halves = _halves_due(ctx)
    reports = {
        (r["grid_id"], r["half"]): r
        for r in HalfYearReport.objects.filter(
            year=ctx.year, grid_id__in=ctx.county_ids, department__isnull=True
        ).values("pk", "grid_id", "half", "due_on", "submitted_at")
    }
    out: dict[int, Found] = {}
    for county in ctx.counties:
        for half in halves:
            report = reports.get((county.pk, half))
            if report is None:
                evidence = Evidence(
                    "grids.grid",
                    county.pk,
                    _("%(grid)s: no report for %(year)s H%(h)s (due %(due)s).")
                    % {
                        "grid": county.name,
                        "year": ctx.year,
                        "h": half,
                        "due": report_due_on(ctx.year, half),
                    },
                    grid_url(county.code),
                )
            elif timezone.localdate(report["submitted_at"]) > report["due_on"]:
                evidence = Evidence(
                    "assessment.halfyearreport",
                    report["pk"],
                    _("%(grid)s: the %(year)s H%(h)s report came on %(on)s, due %(due)s.")
                    % {
                        "grid": county.name,
                        "year": ctx.year,
                        "h": half,
                        "on": timezone.localdate(report["submitted_at"]),
                        "due": report["due_on"],
                    },
                    _reverse("api-assessment-report-detail", report["pk"]),
                )
            else:
                continue
            out.setdefault(county.pk, Found()).add(evidence)
    return out


# --- 3.4 disposal ------------------------------------------------------------------------------


def _case_evidence(r: dict, text: str) -> Evidence:
    return Evidence("cases.case", r["pk"], text, case_url(r["pk"]))


@collector("cases_handled_late")
def cases_handled_late(ctx: Context, params: dict) -> dict[int, Found]:
    """Cases led by a department of the county whose handling deadline fell in the year and
    that were not fed back by it: fed back late, or still open past it (suspended cases, whose
    clock stops, excepted)."""
    late = Q(handling_met=False) | Q(
        handling_met__isnull=True,
        fed_back_at__isnull=True,
        status__in=OPEN_CASE_STATES,
        handling_deadline__lt=ctx.now,
    )
    to_county = _department_counties(ctx)
    qs = Case.objects.filter(
        department_id__in=list(to_county),
        handling_deadline__gte=ctx.start_at,
        handling_deadline__lt=ctx.end_at,
    ).filter(late)
    rows = _capped_per(
        qs,
        group="department_id",
        order=["handling_deadline", "pk"],
        fields=["pk", "number", "handling_deadline", "fed_back_at", "department__name"],
    )

    def make(r: dict) -> Evidence:
        due = timezone.localtime(r["handling_deadline"]).strftime("%Y-%m-%d %H:%M")
        if r["fed_back_at"]:
            done = timezone.localtime(r["fed_back_at"]).strftime("%Y-%m-%d %H:%M")
            text = _("%(n)s (%(d)s): due %(due)s, fed back %(done)s.") % {
                "n": r["number"],
                "d": r["department__name"],
                "due": due,
                "done": done,
            }
        else:
            text = _("%(n)s (%(d)s): due %(due)s, still open.") % {
                "n": r["number"],
                "d": r["department__name"],
                "due": due,
            }
        return _case_evidence(r, text)

    return _found_per_county(
        rows,
        group="department_id",
        to_county=to_county,
        make=make,
        sort_key=lambda r: (r["handling_deadline"], r["pk"]),
    )


class WorkingClock:
    """The working calendar's periods from ``first`` to ``last`` with running totals, so that
    "when has ``amount`` of working time passed after ``at``" is two binary searches instead of
    a walk through the days (``WorkingCalendar.add_working_time`` gives the same answer)."""

    def __init__(self, calendar, *, first: date, last: date):
        self.starts: list[datetime] = []
        self.before: list[int] = []  # working microseconds before each period
        self.through: list[int] = []  # … up to each period's end
        total = 0
        day = first
        while day <= last:
            if calendar.is_working_day(day):
                for begin, end in calendar.periods:
                    a = datetime.combine(day, begin, tzinfo=calendar.tz)
                    b = datetime.combine(day, end, tzinfo=calendar.tz)
                    self.starts.append(a)
                    self.before.append(total)
                    total += (b - a) // timedelta(microseconds=1)
                    self.through.append(total)
            day += timedelta(days=1)
        self.first = datetime.combine(first, time.min, tzinfo=calendar.tz)

    def due(self, at: datetime, amount: timedelta) -> datetime | None:
        """The instant ``amount`` of working time after ``at``; None outside the table."""
        if not self.starts or at < self.first:
            return None
        i = bisect_right(self.starts, at) - 1
        passed = 0
        if i >= 0:
            length = self.through[i] - self.before[i]
            passed = self.before[i] + min(
                (at - self.starts[i]) // timedelta(microseconds=1), length
            )
        target = passed + amount // timedelta(microseconds=1)
        j = bisect_left(self.through, target)
        if j >= len(self.starts):
            return None
        return self.starts[j] + timedelta(microseconds=target - self.before[j])


@collector("cases_not_transferred")
def cases_not_transferred(ctx: Context, params: dict) -> dict[int, Found]:
    """Cases of the county returned in the year (not the department's duty) and not passed on:
    no new dispatch within the dispatch limit (``CaseSettings.dispatch_limit_hours`` of working
    time) after the return. Calendar time that is already within the limit is cleared in SQL;
    the rest is measured on the working calendar."""
    from cases.selectors import calendar_get, case_settings_get

    settings_row = case_settings_get()
    limit = timedelta(hours=float(settings_row.dispatch_limit_hours))
    next_dispatch = Subquery(
        CaseEvent.objects.filter(case=OuterRef("case"), action="dispatch", seq__gt=OuterRef("seq"))
        .order_by("seq")
        .values("at")[:1]
    )
    rows = list(
        CaseEvent.objects.filter(
            ctx.within("case__grid__"),
            case__return_count__gt=0,  # lets the database start from the few returned cases
            action="return",
            at__gte=ctx.start_at,
            at__lt=ctx.end_at,
        )
        .annotate(county_id=ctx.county_of("case__grid__"), next_at=next_dispatch)
        .filter(Q(next_at__isnull=True) | Q(next_at__gt=F("at") + limit))
        .order_by("case_id", "seq")
        .values("county_id", "case_id", "case__number", "at", "next_at")
    )
    calendar = calendar_get(case_settings=settings_row) if rows else None
    clock = (
        WorkingClock(
            calendar, first=ctx.start - timedelta(days=1), last=ctx.end + timedelta(days=45)
        )
        if rows
        else None
    )
    out: dict[int, Found] = {}
    seen: set[int] = set()
    for r in rows:
        if r["case_id"] in seen:
            continue
        due = clock.due(r["at"], limit) or calendar.add_working_time(r["at"], limit)
        if r["next_at"] is None and due >= ctx.now:
            continue  # still within the limit
        if r["next_at"] is not None and r["next_at"] <= due:
            continue
        seen.add(r["case_id"])
        returned = timezone.localtime(r["at"]).strftime("%Y-%m-%d %H:%M")
        if r["next_at"] is None:
            text = _("%(n)s: returned %(at)s and not dispatched again.") % {
                "n": r["case__number"],
                "at": returned,
            }
        else:
            text = _("%(n)s: returned %(at)s, dispatched again only %(next)s.") % {
                "n": r["case__number"],
                "at": returned,
                "next": timezone.localtime(r["next_at"]).strftime("%Y-%m-%d %H:%M"),
            }
        out.setdefault(r["county_id"], Found()).add(
            Evidence("cases.case", r["case_id"], text, case_url(r["case_id"]))
        )
    return out


@collector("joint_cases_not_joint")
def joint_cases_not_joint(ctx: Context, params: dict) -> dict[int, Found]:
    """Cases led by a department of the county that needed joint enforcement (assisting
    departments were named) and were fed back in the year while an assisting department had
    recorded no part in it."""
    to_county = _department_counties(ctx)
    # From the few silent assisting assignments to their cases by primary key: as a semi-join
    # the database would scan every case of the year instead.
    silent_q = CaseAssignment.objects.filter(
        role=CaseAssignment.Role.ASSIST, active=True, part=""
    ).values_list("case_id", flat=True)
    silent = list(silent_q.distinct()[: SILENT_IDS_MAX + 1])
    qs = Case.objects.filter(
        # beyond SQLite's limit of bound parameters, the semi-join after all
        pk__in=silent if len(silent) <= SILENT_IDS_MAX else silent_q,
        department_id__in=list(to_county),
        fed_back_at__gte=ctx.start_at,
        fed_back_at__lt=ctx.end_at,
    )
    rows = _capped_per(
        qs,
        group="department_id",
        order=["fed_back_at", "pk"],
        fields=["pk", "number", "fed_back_at", "department__name"],
    )
    return _found_per_county(
        rows,
        group="department_id",
        to_county=to_county,
        make=lambda r: _case_evidence(
            r,
            _("%(n)s (led by %(d)s): an assisting department recorded no part.")
            % {"n": r["number"], "d": r["department__name"]},
        ),
        sort_key=lambda r: (r["fed_back_at"], r["pk"]),
    )


# --- 3.5 communication -------------------------------------------------------------------------


@collector("joint_meetings_missing")
def joint_meetings_missing(ctx: Context, params: dict) -> dict[int, Found]:
    """Joint meetings not held: ``per_half_year`` (1) in each half of the year that has ended
    (Linyi: twice a year, one per half)."""
    from assessment.models import JointMeeting

    wanted = int(params.get("per_half_year", 1))
    held = {
        (r["grid_id"], r["half"]): r["n"]
        for r in JointMeeting.objects.filter(
            grid_id__in=ctx.county_ids, held_on__gte=ctx.start, held_on__lte=ctx.end
        )
        .annotate(
            half=CaseExpr(
                When(held_on__month__lte=6, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .values("grid_id", "half")
        .annotate(n=Count("pk"))
        .order_by()
    }
    halves = [h for h, last in ((1, date(ctx.year, 6, 30)), (2, ctx.end)) if last < ctx.today]
    meetings_url = _reverse("api-assessment-meeting-list")
    out: dict[int, Found] = {}
    for county in ctx.counties:
        for half in halves:
            for _missing in range(max(0, wanted - held.get((county.pk, half), 0))):
                out.setdefault(county.pk, Found()).add(
                    Evidence(
                        "grids.grid",
                        county.pk,
                        _("%(grid)s held no joint meeting in %(year)s H%(h)s.")
                        % {"grid": county.name, "year": ctx.year, "h": half},
                        meetings_url + f"?grid={county.code}" if meetings_url else "",
                    )
                )
    return out


# --- 3.6 supervision, 3.7 disclosure -----------------------------------------------------------


def _supervisions(ctx: Context):
    from assessment.models import Supervision

    return Supervision.objects.filter(held_on__gte=ctx.start, held_on__lte=ctx.end)


def _supervision_url(pk: int) -> str:
    return _reverse("api-assessment-supervision-detail", pk)


@collector("comprehensive_supervision_missing")
def comprehensive_supervision_missing(ctx: Context, params: dict) -> dict[int, Found]:
    done = set(
        _supervisions(ctx)
        .filter(kind="comprehensive", supervisor_grid_id__in=ctx.county_ids)
        .values_list("supervisor_grid_id", flat=True)
    )
    return _absence(
        ctx,
        {c.pk for c in ctx.counties} - done,
        lambda g: (
            _("%(grid)s made no comprehensive supervision of its township grids in %(year)s.")
            % {"grid": g.name, "year": ctx.year}
        ),
    )


@collector("departments_without_supervision")
def departments_without_supervision(ctx: Context, params: dict) -> dict[int, Found]:
    departments = _departments(ctx)
    done = set(
        _supervisions(ctx)
        .filter(kind="department", department_id__in=[d.pk for d in departments])
        .values_list("department_id", flat=True)
    )
    return _department_found(
        ctx,
        [d for d in departments if d.pk not in done],
        lambda d: (
            _("%(name)s made no supervision of its own matters in township grids in %(year)s.")
            % {"name": d.name, "year": ctx.year}
        ),
    )


@collector("supervisions_not_published")
def supervisions_not_published(ctx: Context, params: dict) -> dict[int, Found]:
    """Comprehensive supervisions of the year whose findings and rectification the office has
    not published."""
    rows = (
        _supervisions(ctx)
        .filter(
            kind="comprehensive",
            supervisor_grid_id__in=ctx.county_ids,
            published_at__isnull=True,
        )
        .order_by("held_on", "pk")
        .values("pk", "supervisor_grid_id", "held_on", "target_grid__name", "topic")
    )
    out: dict[int, Found] = {}
    for r in rows:
        out.setdefault(r["supervisor_grid_id"], Found()).add(
            Evidence(
                "assessment.supervision",
                r["pk"],
                _("Supervision of %(grid)s on %(day)s (%(topic)s) not published.")
                % {"grid": r["target_grid__name"], "day": r["held_on"], "topic": r["topic"]},
                _supervision_url(r["pk"]),
            )
        )
    return out


@collector("penalties_not_published")
def penalties_not_published(ctx: Context, params: dict) -> dict[int, Found]:
    """Departments with penalty decisions of the year they have not published; one instance
    per department, every unpublished decision as evidence."""
    from assessment.models import PenaltyDecision

    departments = {d.pk: d for d in _departments(ctx)}
    rows = (
        PenaltyDecision.objects.filter(
            department_id__in=list(departments),
            decided_on__gte=ctx.start,
            decided_on__lte=ctx.end,
            published_at__isnull=True,
        )
        .order_by("department_id", "decided_on", "pk")
        .values("pk", "department_id", "number", "party", "decided_on")
    )
    out: dict[int, Found] = {}
    counted: set[int] = set()
    for r in rows:
        dept = departments[r["department_id"]]
        found = out.setdefault(dept.grid_id, Found())
        if dept.pk not in counted:
            counted.add(dept.pk)
            found.count += 1
        if len(found.items) < EVIDENCE_CAP:
            found.items.append(
                Evidence(
                    "assessment.penaltydecision",
                    r["pk"],
                    _("%(dept)s: penalty decision %(n)s (%(party)s, %(day)s) not published.")
                    % {
                        "dept": dept.name,
                        "n": r["number"],
                        "party": r["party"],
                        "day": r["decided_on"],
                    },
                    admin_url("assessment.penaltydecision", r["pk"]),
                )
            )
    return out


def evidence_grouped(found: dict[int, Found]) -> dict[int, list[dict]]:
    """``{county id: [evidence dicts]}`` (for tests and the bench)."""
    out: dict[int, list[dict]] = defaultdict(list)
    for county_id, f in found.items():
        out[county_id] = [e.as_dict() for e in f.items]
    return out
