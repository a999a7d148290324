#!/usr/bin/env python
"""Benchmark of the yearly assessment (issue 5, "Performance") on PostgreSQL: scoring all
county-level grids of the demo city for a year with 1,000,000 cases and 2,000,000 patrols.

    DATABASE_URL=postgres://gridsup_dev:dev@127.0.0.1:5432/gridsup_assess_bench \\
        .venv/bin/python bench/assessment_score.py [--cases 1000000 --patrols 2000000]

The database named in DATABASE_URL (its name must contain "bench") is dropped, created and
migrated (the migration installs the Linyi rule sets of 2025 and 2026); the Linyi grid tree with
its people and departments is loaded (``grids.demo.demo_city_seed``). Then, for each size
(``--scales`` smaller sizes first, then the full one), everything is filled with set-based SQL
(``generate_series``): sources, patrols of the county departments, yearly supervision plans,
cases with their deadline outcomes, returns (events and lead assignments) and joint cases
(assisting departments), plus a few meetings, reports and supervisions; VACUUM ANALYZE. The
measurement, best of ``--runs``:

* ``assessment_compute`` — every collector and the arithmetic for all 16 counties, read only;
* ``assessment_run`` — the same plus writing the 16 sheets (items, lines, evidence);
* per collector: the number of queries and their time (``connection.execute_wrapper``), which
  must not change with the size.

Results go to bench/results/assessment_score.md; the database is dropped at the end unless
``--keep``.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "assessment_score.md"
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "gridsup.settings.local"
YEAR = 2025


# --- database lifecycle ------------------------------------------------------------------------


def _db_params() -> dict:
    parsed = urlparse(os.environ.get("DATABASE_URL", ""))
    if parsed.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit("DATABASE_URL must point at PostgreSQL (a database whose name contains 'bench').")
    name = parsed.path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"Refusing to drop database {name!r}: its name must contain 'bench'.")
    return {
        "dbname": name,
        "user": parsed.username,
        "password": parsed.password,
        "host": parsed.hostname or "127.0.0.1",
        "port": parsed.port or 5432,
    }


def _maintenance(sql: str) -> None:
    import psycopg2

    p = _db_params()
    conn = psycopg2.connect(
        dbname="postgres", user=p["user"], password=p["password"], host=p["host"], port=p["port"]
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def db_recreate() -> None:
    name = _db_params()["dbname"]
    _maintenance(f'DROP DATABASE IF EXISTS "{name}"')
    _maintenance(f'CREATE DATABASE "{name}"')


def db_drop() -> None:
    from django.db import connections

    connections.close_all()
    _maintenance(f'DROP DATABASE IF EXISTS "{_db_params()["dbname"]}"')


# --- filling -----------------------------------------------------------------------------------


def _literal(field) -> str:
    """An SQL literal for a NOT NULL column the fill does not set: the field's default."""
    from django.db.models import BooleanField, JSONField

    default = field.get_default()
    if isinstance(field, JSONField):
        return "'{}'::jsonb" if default in (None, {}) else "'[]'::jsonb"
    if isinstance(field, BooleanField):
        return "true" if default else "false"
    if isinstance(default, (int, float)):
        return str(default)
    return "''"


def insert_select(model, values: dict[str, str], source_sql: str) -> str:
    """``INSERT INTO <table> (<every NOT NULL column>) SELECT … FROM (<source_sql>)``: the
    columns named in ``values`` get their expressions, the other NOT NULL ones their default."""
    columns, exprs = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        column = field.column
        if column in values:
            columns.append(column)
            exprs.append(values[column])
        elif not field.null:
            columns.append(column)
            exprs.append(_literal(field))
    return (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(exprs)} FROM ({source_sql}) x"
    )


def _timed(label: str, timings: dict, fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    timings[label] = round(time.perf_counter() - started, 2)
    print(f"  {label}: {timings[label]:.2f} s", flush=True)
    return result


def fill(*, cases: int, patrols: int, sources: int) -> dict:
    """Everything the collectors read, at the given size, with set-based SQL."""
    from django.db import connection

    from assessment.models import HalfYearReport, JointMeeting, Supervision
    from cases.models import Case, CaseAssignment, CaseEvent, ProblemCategory
    from core.models import User
    from grids import county
    from grids.models import Department, Grid
    from inspections.models import Patrol, PollutionSource, SupervisionPlan

    timings: dict = {}
    office = User.objects.get(username="office")
    category = ProblemCategory.objects.order_by("pk").first()

    def run(sql: str, params=None) -> None:
        with connection.cursor() as cur:
            cur.execute(sql, params or {})

    def clear():
        for model in (
            CaseEvent,
            CaseAssignment,
            Case,
            Patrol,
            SupervisionPlan,
            PollutionSource,
            JointMeeting,
            HalfYearReport,
            Supervision,
        ):
            run(f"TRUNCATE {model._meta.db_table} RESTART IDENTITY CASCADE")
        run("SELECT setseed(0.2025)")
        # villages with their county and the county's departments (from grids.county: the
        # nested-set columns stay inside the grids app)
        counties = county.grids_at_level(level=2)
        village_county = county.ancestor_map(
            level=2, grid_ids=Grid.objects.filter(level=4).values_list("pk", flat=True)
        )
        run("DROP TABLE IF EXISTS bench_village; DROP TABLE IF EXISTS bench_dept")
        run("CREATE TEMP TABLE bench_village (rn int, id bigint, county bigint)")
        rows = sorted(village_county.items())
        with connection.cursor() as cur:
            cur.executemany(
                "INSERT INTO bench_village VALUES (%s, %s, %s)",
                [(n, v, c) for n, (v, c) in enumerate(rows)],
            )
        run("CREATE TEMP TABLE bench_dept (county bigint, k int, id bigint)")
        depts = defaultdict(list)
        for dept in Department.objects.filter(grid__in=counties).order_by("code"):
            depts[dept.grid_id].append(dept.pk)
        with connection.cursor() as cur:
            cur.executemany(
                "INSERT INTO bench_dept VALUES (%s, %s, %s)",
                [(c, k, d) for c, ids in depts.items() for k, d in enumerate(ids)],
            )
        run("CREATE INDEX ON bench_village (rn); CREATE INDEX ON bench_dept (county, k)")

    _timed("clear", timings, clear)
    villages = Grid.objects.filter(level=4).count()
    params = {"n": sources, "uid": office.pk, "v": villages}
    source_sql = """
        SELECT n, random() AS r, v.id AS grid
        FROM generate_series(1, %(n)s) n
        JOIN bench_village v ON v.rn = (n::bigint * 7919) %% %(v)s
    """
    run_sources = insert_select(
        PollutionSource,
        {
            "name": "'基准源' || x.n",
            "kind": "CASE WHEN x.r < 0.4 THEN 'enterprise' ELSE 'catering' END",
            "control_tier": "'county'",
            # 0.5 % of the enterprises listed without a credit code; 1 % still only reported
            "credit_code": "CASE WHEN x.r < 0.398 THEN '91371302MA3C00000X' ELSE '' END",
            "status": "CASE WHEN x.r > 0.99 THEN 'reported' ELSE 'active' END",
            "confirmed_on": "CASE WHEN x.r > 0.99 THEN NULL ELSE DATE '2024-06-01' END",
            "created_at": "TIMESTAMPTZ '2024-05-01 08:00+08'",
            "updated_at": "now()",
            "grid_id": "x.grid",
        },
        source_sql,
    )
    _timed("insert sources", timings, run, run_sources, params)

    params = {"n": patrols, "uid": office.pk, "s": sources}
    patrol_sql = """
        SELECT n, random() AS r, random() AS t, s.id AS source, d.id AS dept
        FROM generate_series(1, %(n)s) n
        JOIN inspections_pollutionsource s ON s.id = 1 + (n::bigint * 7919) %% %(s)s
        JOIN bench_village v ON v.id = s.grid_id
        JOIN bench_dept d ON d.county = v.county AND d.k = n %% 5
    """
    run_patrols = insert_select(
        Patrol,
        {
            "source_id": "x.source",
            "kind": "CASE WHEN x.r < 0.3 THEN 'inspection' WHEN x.r < 0.9 THEN 'patrol' "
            "ELSE 'online_check' END",
            "patrolled_at": "TIMESTAMPTZ '2025-01-01 00:00+08' + x.t * INTERVAL '365 days'",
            "recorded_by_id": "%(uid)s",
            "outcome": "'compliant'",
            "created_at": "now()",
            # the county's first five departments patrol; the sixth keeps no ledger
            "department_id": "x.dept",
        },
        patrol_sql,
    )
    _timed("insert patrols", timings, run, run_patrols, params)

    run_plans = insert_select(
        SupervisionPlan,
        {
            "department_id": "x.id",
            "grid_id": "x.county",
            "year": str(YEAR),
            "title": "'年度监管计划'",
            "inspections_planned": "CASE WHEN x.k = 0 THEN 10000000 ELSE 100 END",
            "created_at": "now()",
        },
        # every department but the fifth has a plan; the first planned more than it did
        "SELECT * FROM bench_dept WHERE k <> 4",
    )
    _timed("insert plans", timings, run, run_plans)

    params = {"n": cases, "uid": office.pk, "cat": category.pk, "v": villages}
    case_sql = """
        SELECT n, random() AS r, random() AS t, random() AS h, v.id AS grid, d.id AS dept
        FROM generate_series(1, %(n)s) n
        JOIN bench_village v ON v.rn = (n::bigint * 104729) %% %(v)s
        JOIN bench_dept d ON d.county = v.county AND d.k = n %% 6
    """
    run_cases = insert_select(
        Case,
        {
            "number": "'B-' || lpad(x.n::text, 8, '0')",
            "channel": "'inspector'",
            "category_id": "%(cat)s",
            "description": "'基准案件'",
            "created_by_id": "%(uid)s",
            "grid_id": "x.grid",
            "department_id": "CASE WHEN x.r < 0.9 THEN x.dept END",
            "status": "CASE WHEN x.h < 0.05 THEN 'handling' WHEN x.h < 0.5 THEN 'fed_back' "
            "ELSE 'evaluated' END",
            "reported_at": "TIMESTAMPTZ '2025-01-01 00:00+08' + x.t * INTERVAL '360 days'",
            "created_at": "now()",
            "updated_at": "now()",
            "dispatched_at": "TIMESTAMPTZ '2025-01-01 02:00+08' + x.t * INTERVAL '360 days'",
            "dispatch_met": "x.h > 0.03",
            "handling_deadline": "TIMESTAMPTZ '2025-01-06 00:00+08' + x.t * INTERVAL '360 days'",
            "fed_back_at": "CASE WHEN x.h >= 0.05 THEN TIMESTAMPTZ '2025-01-05 00:00+08' "
            "+ x.t * INTERVAL '360 days' + (x.h - 0.05) * INTERVAL '2 days' END",
            # 3 % of the cases closed late
            "handling_met": "CASE WHEN x.h < 0.05 THEN NULL ELSE x.h >= 0.08 END",
            "closed_at": "CASE WHEN x.h >= 0.5 THEN TIMESTAMPTZ '2025-01-08 00:00+08' "
            "+ x.t * INTERVAL '360 days' END",
        },
        case_sql,
    )
    _timed("insert cases", timings, run, run_cases, params)

    # 2 % of the cases were returned once; most dispatched again within an hour, some never.
    run_events = f"""
        INSERT INTO {CaseEvent._meta.db_table} (case_id, seq, action, from_status, to_status,
            actor_id, at, note, data)
        SELECT c.id, k.seq, k.action, k.f, k.t, %(uid)s,
               c.dispatched_at + k.seq * INTERVAL '1 hour'
                 + CASE WHEN k.seq = 3 AND (c.id / 50) %% 10 = 0 THEN INTERVAL '5 days' ELSE INTERVAL '0' END,
               '', '{{}}'::jsonb
        FROM {Case._meta.db_table} c
        CROSS JOIN (VALUES (2, 'return', 'dispatched', 'filed'),
                           (3, 'dispatch', 'filed', 'dispatched')) k(seq, action, f, t)
        WHERE c.id %% 50 = 0
    """
    _timed("insert returns", timings, run, run_events, {"uid": office.pk})
    run(f"UPDATE {Case._meta.db_table} SET return_count = 1 WHERE id %% 50 = 0")
    # every case's first event, so that the event table has a realistic share of other rows
    run_collect = f"""
        INSERT INTO {CaseEvent._meta.db_table} (case_id, seq, action, from_status, to_status,
            actor_id, at, note, data)
        SELECT id, 1, 'collect', '', 'collected', %(uid)s, reported_at, '', '{{}}'::jsonb
        FROM {Case._meta.db_table}
    """
    _timed("insert collect events", timings, run, run_collect, {"uid": office.pk})
    # 1 % joint cases: an assisting department, which recorded its part in half of them.
    run_assist = insert_select(
        CaseAssignment,
        {
            "case_id": "x.id",
            "department_id": "x.department_id",
            "role": "'assist'",
            "assigned_at": "x.dispatched_at",
            "active": "true",
            "part": "CASE WHEN x.id %% 2 = 0 THEN '已配合' ELSE '' END",
        },
        f"SELECT id, department_id, dispatched_at FROM {Case._meta.db_table} "
        "WHERE id %% 100 = 1 AND department_id IS NOT NULL",
    )
    _timed("insert assists", timings, run, run_assist)

    def vacuum():
        with connection.cursor() as cur:
            for model in (
                Case,
                CaseEvent,
                CaseAssignment,
                Patrol,
                PollutionSource,
                SupervisionPlan,
            ):
                cur.execute(f"VACUUM ANALYZE {model._meta.db_table}")

    _timed("vacuum analyze", timings, vacuum)
    return {"timings": timings, **data_stats()}


def data_stats() -> dict:
    from django.db import connection

    from inspections.models import Patrol, PollutionSource

    with connection.cursor() as cur:
        cur.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('cases_case')),"
            " pg_size_pretty(pg_total_relation_size('inspections_patrol'))"
        )
        sizes = cur.fetchone()
        cur.execute("SELECT count(*) FILTER (WHERE handling_met = false), count(*) FROM cases_case")
        late, total = cur.fetchone()
    return {
        "sizes": sizes,
        "cases": total,
        "late": late,
        "patrols": Patrol.objects.count(),
        "sources": PollutionSource.objects.count(),
    }


# --- measuring ---------------------------------------------------------------------------------


def measure(*, runs: int) -> dict:
    from django.db import connection, reset_queries
    from django.utils import timezone

    from assessment import evidence, selectors, services
    from assessment.models import ScoreSheet
    from grids import county

    now = timezone.make_aware(datetime(YEAR + 1, 2, 2, 9))
    per_collector: dict[str, list] = {}
    original = evidence.collect
    stats = {"n": 0, "t": 0.0}

    def counting(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            stats["n"] += 1
            stats["t"] += time.perf_counter() - started

    def collect(ctx, name, params=None):
        key = f"collector:{name}:{sorted((params or {}).items())}"
        if key in ctx._memo:
            return ctx._memo[key]
        before_n, before_t = stats["n"], stats["t"]
        started = time.perf_counter()
        out = original(ctx, name, params)
        per_collector.setdefault(f"{name} {params or ''}".strip(), []).append(
            (stats["n"] - before_n, time.perf_counter() - started, stats["t"] - before_t)
        )
        return out

    evidence.collect = collect
    compute, write = [], []
    queries = {}
    try:
        with connection.execute_wrapper(counting):
            for _ in range(runs):
                reset_queries()
                rule_set = selectors.rule_set_get(year=YEAR)
                counties = county.grids_at_level(level=2)
                stats["n"] = 0
                started = time.perf_counter()
                services.assessment_compute(rule_set=rule_set, counties=counties, now=now)
                compute.append(time.perf_counter() - started)
                queries["compute"] = stats["n"]
            for _ in range(runs):
                stats["n"] = 0
                started = time.perf_counter()
                services.assessment_run(year=YEAR, actor=None, now=now)
                write.append(time.perf_counter() - started)
                queries["run"] = stats["n"]
    finally:
        evidence.collect = original
    sheets = [
        (s.grid.name, s.total, s.grade)
        for s in ScoreSheet.objects.filter(year=YEAR).select_related("grid").order_by("-total")
    ]
    return {
        "compute": compute,
        "run": write,
        "queries": queries,
        "per_collector": {
            k: (v[0][0], min(x[1] for x in v), min(x[2] for x in v))
            for k, v in per_collector.items()
        },
        "sheets": sheets,
    }


# --- report ------------------------------------------------------------------------------------


def _git(*args) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, cwd=ROOT).stdout.strip()


def write_results(*, results: list[dict], args, wall: float, load: str) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        (pg,) = cur.fetchone()
    lines = [
        "# Assessment scoring benchmark",
        "",
        'Generated by `bench/assessment_score.py` for issue 5 ("Performance"). Target: scoring '
        "every county-level grid of the demo city (16) for a year with 1,000,000 cases and "
        "2,000,000 patrols on PostgreSQL in under 5 s, with a constant number of queries per rule.",
        "",
        f"- Date: {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        f"- Git commit: `{_git('rev-parse', '--short', 'HEAD')}` (the working tree held other "
        "sessions' uncommitted changes; `assessment/` and `grids/county.py` were as committed)",
        f"- Machine: {os.cpu_count()} CPU cores, {platform.platform()}",
        f"- PostgreSQL {pg}, local, default configuration; Python {platform.python_version()}",
        f"- Load average when the run started: {load} (shared with other sessions' test suites)",
        f"- Command: `DATABASE_URL=postgres://…/{_db_params()['dbname']} .venv/bin/python "
        f"bench/assessment_score.py {' '.join(sys.argv[1:])}`",
        f"- Wall time of the whole benchmark: {wall / 60:.1f} min",
        "",
        "## Data",
        "",
        "The Linyi tree of `grids.demo.demo_city_seed` (16 county-level grids, ~4,100 villages, 6 "
        "departments per county). Sources spread over the villages (1 % only reported, 0.5 % "
        "enterprises without a credit code). Patrols in 2025: 30 % enforcement inspections, 60 % "
        "patrols, 10 % online checks, by five of each county's six departments (the sixth keeps "
        "no ledger). Yearly plans for five departments of six (the first planned far more than "
        "it did). Cases reported in 2025 in the villages, 90 % led by a county department: 5 % "
        "still in handling, 3 % fed back late, the rest on time; 2 % returned once and dispatched "
        "again (one in ten of those only five days later); 1 % joint cases with an assisting "
        "department, half of which recorded no part. Filled with `generate_series`, then VACUUM "
        "ANALYZE.",
        "",
        "| cases | of which late | patrols | sources | fill (s) | size cases / patrols |",
        "|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        d = r["data"]
        lines.append(
            f"| {d['cases']:,} | {d['late']:,} | {d['patrols']:,} | {d['sources']:,} | "
            f"{sum(d['timings'].values()):.0f} | {d['sizes'][0]} / {d['sizes'][1]} |"
        )
    lines += [
        "",
        "## Results",
        "",
        f"Best of {args.runs} (all runs in brackets). `compute` = every collector and the "
        "arithmetic for the 16 counties (read only); `run` = `assessment_run`, which also writes "
        "the 16 sheets with their items, lines and evidence.",
        "",
        "| cases | compute (s) | run (s) | queries: compute / run |",
        "|---:|---:|---:|---:|",
    ]
    for r in results:
        m = r["measure"]
        lines.append(
            f"| {r['data']['cases']:,} | **{min(m['compute']):.2f}** "
            f"({', '.join(f'{x:.2f}' for x in m['compute'])}) | **{min(m['run']):.2f}** "
            f"({', '.join(f'{x:.2f}' for x in m['run'])}) | {m['queries']['compute']} / "
            f"{m['queries']['run']} |"
        )
    lines += ["", "### Per collector", "", "Queries and best time per collector at each size.", ""]
    header = "| collector | " + " | ".join(f"{r['data']['cases']:,} cases" for r in results) + " |"
    lines += [header, "|---|" + "---:|" * len(results)]
    names = list(results[-1]["measure"]["per_collector"])
    for name in names:
        cells = []
        for r in results:
            q, t, _sql = r["measure"]["per_collector"].get(name, (None, 0, 0))
            cells.append(f"{q} q, {t * 1000:.0f} ms" if q is not None else "—")
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    lines += [
        "",
        "### The sheets at the full size",
        "",
        "| county | total | grade |",
        "|---|---:|---|",
    ]
    for name, total, grade in results[-1]["measure"]["sheets"]:
        lines.append(f"| {name} | {total} | {grade} |")
    reading = ""
    if RESULTS.exists():
        old = RESULTS.read_text()
        if "<!-- reading -->" in old:
            reading = old[old.index("<!-- reading -->") : old.index("<!-- /reading -->") + 17]
    lines += [
        "",
        "## Reading",
        "",
        reading or "<!-- reading -->\n(to be written)\n<!-- /reading -->",
        "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    print(f"Wrote {RESULTS}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--patrols", type=int, default=2_000_000)
    parser.add_argument("--sources", type=int, default=50_000)
    parser.add_argument(
        "--scales",
        default="100000",
        help="smaller case counts measured first (patrols in proportion)",
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument(
        "--measure-only",
        action="store_true",
        help="measure the database left by an earlier --keep run (no recreate, no fill)",
    )
    args = parser.parse_args()
    if args.measure_only:
        import django

        django.setup()
        started = time.perf_counter()
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        data = {"timings": {}, **data_stats()}
        m = measure(runs=args.runs)
        print(f"  compute {m['compute']}, run {m['run']}, queries {m['queries']}", flush=True)
        for name, (q, t, sql) in sorted(m["per_collector"].items(), key=lambda kv: -kv[1][1]):
            print(f"    {name}: {q} queries, {t * 1000:.0f} ms (SQL {sql * 1000:.0f} ms)")
        if not args.no_write:
            write_results(
                results=[{"data": data, "measure": m}],
                args=args,
                wall=time.perf_counter() - started,
                load=load,
            )
        if not args.keep:
            db_drop()
        return

    started = time.perf_counter()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"Recreating database {_db_params()['dbname']} (load {load}) …", flush=True)
    db_recreate()
    import django

    django.setup()
    from django.core.management import call_command

    from grids.demo import demo_city_seed

    results = []
    try:
        t = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"  migrate: {time.perf_counter() - t:.1f} s", flush=True)
        t = time.perf_counter()
        demo_city_seed()
        print(f"  demo city: {time.perf_counter() - t:.1f} s", flush=True)
        sizes = sorted({int(s) for s in args.scales.split(",") if s.strip()} - {args.cases})
        for n in [*[s for s in sizes if s < args.cases], args.cases]:
            patrols = args.patrols * n // args.cases
            sources = max(1000, args.sources * n // args.cases)
            print(f"Size: {n:,} cases, {patrols:,} patrols, {sources:,} sources", flush=True)
            data = fill(cases=n, patrols=patrols, sources=sources)
            m = measure(runs=args.runs)
            print(
                f"  compute best {min(m['compute']):.2f} s, run best {min(m['run']):.2f} s, "
                f"queries {m['queries']}",
                flush=True,
            )
            slow = sorted(m["per_collector"].items(), key=lambda kv: -kv[1][1])[:6]
            for name, (q, t, sql) in slow:
                print(f"    {name}: {q} queries, {t * 1000:.0f} ms (SQL {sql * 1000:.0f} ms)")
            results.append({"data": data, "measure": m})
        if not args.no_write:
            write_results(results=results, args=args, wall=time.perf_counter() - started, load=load)
    finally:
        if not args.keep:
            db_drop()


if __name__ == "__main__":
    main()
