#!/usr/bin/env python
"""Benchmark of the case deadline sweep (issue 4, "Performance") on PostgreSQL.

    .venv/bin/python bench/case_deadlines.py [--head] [--keep] [--runs 5]

DATABASE_URL may name the database to use (its name must contain "bench"); the default is
``postgres://gridsup_dev:dev@127.0.0.1:5432/gridsup_case_bench``. The database is created,
migrated and filled unless it already holds a fill of the same size from an earlier run with
``--keep`` (``case_list.py`` and ``case_intake.py`` use the same database and the same fill, so
run them with ``--keep`` in between). ``--head`` runs the committed project (an export of HEAD
in ``bench/results/tmp/``) instead of the working tree, which other work may have changed.

The fill (``database_prepare``): the Linyi grid tree with its people
(``grids.demo.demo_city_seed``, the grid part of ``manage.py seed_demo``), a head and two case
handlers in every county's environment department, then with set-based SQL (generate_series,
no ORM row by row) 1,000,000 cases over three years on the leaf grids, of which 20,000 open
(reported in the last 15 days) and 980,000 closed (evaluated, assessed, rejected, voided).
Every open case has the four unfired timers (``CaseTimer``) of its running deadline: for 10,000
of them (the backlog) the warning and the deadline fall within the hour after the fill's
moment ``T``; every other unfired timer is due two hours or more after ``T``. Closed cases have
no unfired timers; 30 % of the evaluated and assessed ones missed their handling deadline and
keep its two fired timers and their ``CaseBreach`` rows, as do 10 % of the open cases for their
response deadline. Then VACUUM ANALYZE.

Measured (wall-clock time in this process, DEBUG off, best of ``--runs``; every run listed):

* steady state: ``case_deadlines_sweep(now=T)``, nothing due, next to its floor: the claim
  UPDATE alone and a SELECT of the due timers, as bare SQL on the same connection;
* a backlog: ``case_deadlines_sweep(now=T + 61 min)`` fires the 20,000 timers of the 10,000
  backlog cases; each statement the sweep sends is timed (``connection.execute_wrapper``); the
  floor is the claim UPDATE alone; then a second sweep straight after (nothing due). Before
  every backlog run the fill's state is restored (fired timers reset, breaches, notifications
  and ``*_met`` flags undone) and the touched tables vacuumed;
* EXPLAIN (ANALYZE, BUFFERS) of the claim in both states, and of every statement of the
  backlog sweep (replayed in one transaction that is rolled back).

The figures go to the "Deadline sweep" section of bench/results/cases.md; the other sections
and the hand-written reading between the ``<!-- reading -->`` markers are kept. The database
is dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "cases.md"
WORK = ROOT / "bench" / "results" / "tmp"
DEFAULT_URL = "postgres://gridsup_dev:dev@127.0.0.1:5432/gridsup_case_bench"
FILL = {"cases": 1_000_000, "open": 20_000, "backlog": 10_000}
BACKLOG_AFTER = timedelta(minutes=61)

READING_START, READING_END = "<!-- reading -->", "<!-- /reading -->"


# --- the project, the database and its fill (shared by the three case benchmarks) -------------


def source_tree(head: bool) -> Path:
    """The project to import: the working tree, or with ``head`` an export of HEAD."""
    if not head:
        return ROOT
    commit = git("rev-parse", "--short", "HEAD")
    target = WORK / f"head-{commit}"
    if not (target / "manage.py").exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "archive", "HEAD"], cwd=ROOT, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def database_url() -> str:
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        sys.exit("DATABASE_URL must name a PostgreSQL database")
    if "bench" not in parts.path:
        sys.exit(f"Refusing to use {parts.path.lstrip('/')!r}: its name must contain 'bench'.")
    return url


def _connect(url: str, dbname: str | None = None):
    import psycopg2

    parts = urlsplit(url)
    return psycopg2.connect(
        dbname=dbname or parts.path.lstrip("/"),
        user=parts.username,
        password=parts.password,
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
    )


def _maintenance(url: str, sql: str, params=None):
    conn = _connect(url, "postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def _dbname(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def database_drop(url: str) -> None:
    try:
        from django.db import connections

        connections.close_all()
    except Exception:  # noqa: BLE001 - Django may not be set up
        pass
    _maintenance(url, f'DROP DATABASE IF EXISTS "{_dbname(url)}"')


def child_env(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(
        DJANGO_SETTINGS_MODULE="gridsup.settings.local",
        DEBUG="false",
        DATABASE_URL=url,
        GRIDSUP_VAR_DIR=str(WORK / "var"),
        NOTIFY_BY_EMAIL="false",
    )
    env.update(extra)
    return env


def django_setup(src: Path, url: str) -> None:
    """Set Django up in this process on the bench database (local settings, DEBUG off)."""
    sys.path.insert(0, str(src))
    os.environ.update(child_env(url))
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()


def fill_meta(url: str) -> dict | None:
    """The fill recorded in the database, or None when it has none (or does not exist)."""
    exists = _maintenance(url, "SELECT 1 FROM pg_database WHERE datname = %s", [_dbname(url)])
    if not exists:
        return None
    conn = _connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('bench_meta') IS NOT NULL")
            if not cur.fetchone()[0]:
                return None
            cur.execute("SELECT value FROM bench_meta WHERE key = 'fill'")
            row = cur.fetchone()
            return json.loads(row[0]) if row else None
    finally:
        conn.close()


def database_prepare(*, src: Path, url: str, sizes: dict, rebuild: bool = False) -> dict:
    """Make sure the bench database holds the fill ``sizes``; set Django up on it. Returns the
    fill's description (sizes, the moment ``T``, timings, counts)."""
    meta = None if rebuild else fill_meta(url)
    if meta and all(meta.get(k) == v for k, v in sizes.items()):
        print(f"Reusing the fill in {_dbname(url)} (made {meta['made']})", flush=True)
        django_setup(src, url)
        return meta
    timings: dict[str, float] = {}
    print(f"Creating {_dbname(url)}", flush=True)
    database_drop(url)
    _maintenance(url, f'CREATE DATABASE "{_dbname(url)}"')
    started = time.perf_counter()
    (WORK / "var").mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=src,
        env=child_env(url),
        check=True,
    )
    timings["migrate"] = round(time.perf_counter() - started, 1)
    print(f"  migrate: {timings['migrate']} s", flush=True)
    django_setup(src, url)
    meta = cases_fill(sizes=sizes, timings=timings)
    return meta


def _timed(label: str, timings: dict, fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    timings[label] = round(time.perf_counter() - started, 1)
    print(f"  {label}: {timings[label]} s", flush=True)
    return result


def without_secondary_indexes(table: str, fn, timings: dict, label: str) -> None:
    """Run ``fn`` with ``table``'s secondary indexes and foreign keys dropped, then recreate
    them from their saved definitions (as a pg_dump restore does): a bulk load into a table
    with a dozen indexes and five foreign keys is many times slower row by row."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT pg_get_indexdef(i.indexrelid), c.relname FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
            [table],
        )
        indexes = cur.fetchall()
        cur.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f'",
            [table],
        )
        foreign_keys = cur.fetchall()
        for name, _definition in foreign_keys:
            cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for _definition, name in indexes:
            cur.execute(f'DROP INDEX "{name}"')
    try:
        _timed(label, timings, fn)
    finally:

        def recreate():
            with connection.cursor() as cur:
                cur.execute("SET maintenance_work_mem = '256MB'")
                for definition, _name in indexes:
                    cur.execute(definition)
                for name, definition in foreign_keys:
                    cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')

        _timed(f"recreate {table}'s indexes and foreign keys", timings, recreate)


def people_seed() -> dict:
    """The demo tree and people, plus a head and two handlers in each county's environment
    department (the demo staffs only the city's), so that the sweep's department notices have
    someone to reach."""
    from django.db import transaction

    from core.models import User
    from grids import services as grid_services
    from grids.demo import demo_city_seed
    from grids.models import Department

    counts = demo_city_seed()
    with transaction.atomic():
        for dept in Department.objects.filter(sector__code="environment", grid__depth=1):
            for position, k in (("head", 1), ("handler", 1), ("handler", 2)):
                user, _ = User.objects.get_or_create(
                    username=f"bench_{dept.code}_{position}{k}", defaults={"full_name": "基准"}
                )
                grid_services.department_member_add(department=dept, user=user, position=position)
    counts["users"] = User.objects.count()
    return counts


def cases_fill(*, sizes: dict, timings: dict) -> dict:
    """The cases, their timers and breaches, with set-based SQL; see the module docstring."""
    from django.db import connection
    from django.utils import timezone

    from core.models import User

    tree = _timed("grid tree and people (demo_city_seed)", timings, people_seed)
    now = timezone.now().replace(second=0, microsecond=0)
    users = dict(
        User.objects.filter(username__in=["platform", "inspector", "dispatcher"]).values_list(
            "username", "pk"
        )
    )
    params = {
        "n": sizes["cases"],
        "open_every": sizes["cases"] // sizes["open"],
        "backlog": sizes["backlog"],
        "t": now,
        "platform": users["platform"],
        "inspector": users["inspector"],
        "dispatcher": users["dispatcher"],
    }
    assert sizes["cases"] % sizes["open"] == 0 and sizes["backlog"] <= sizes["open"]

    def run(sql: str) -> None:
        with connection.cursor() as cur:
            cur.execute(sql, params)

    # Leaf grids (villages, and the development zones' sub-grids) with their county's
    # environment department.
    villages = """
        CREATE TEMP TABLE bench_leaf AS
        SELECT v.id, (row_number() OVER (ORDER BY v.id) - 1)::int AS rn, d.id AS dept_id
        FROM grids_grid v
        JOIN grids_grid c ON c.tree_id = v.tree_id AND c.lft <= v.lft AND c.rght >= v.rght
             AND c.depth = 1
        LEFT JOIN grids_department d ON d.grid_id = c.id
             AND d.sector_id = (SELECT id FROM grids_sector WHERE code = 'environment')
        WHERE v.rght = v.lft + 1
    """
    # The nine ordinary categories numbered 0-8, the emergency one 9.
    categories = """
        CREATE TEMP TABLE bench_category AS
        SELECT id, code, is_emergency,
               (row_number() OVER (ORDER BY is_emergency, sort_order, code) - 1)::int AS rn
        FROM cases_problemcategory WHERE active
    """
    # One row per case: its state and moments. Open: every (n / open)-th row; backlog: the
    # first ``backlog`` of the open rows in random order. Closed cases spread over three years,
    # open ones over the last 15 days.
    plan = """
        CREATE TEMP TABLE bench_plan AS
        SELECT x.*,
            CASE WHEN x.channel IN ('complaint', 'hotline', 'platform') OR x.emergency
                 THEN x.reported_at + CASE WHEN x.emergency THEN interval '0'
                      WHEN x.r_b < 0.6 THEN interval '30 minutes' ELSE interval '2 hours' END
            END AS response_deadline,
            CASE WHEN x.status NOT IN ('collected', 'rejected')
                 THEN least(x.reported_at + make_interval(mins => 20 + (x.r_a * 160)::int),
                            %(t)s - interval '50 minutes') END AS filed_at
        FROM (
            SELECT n, n %% %(open_every)s = 0 AS open, r_status, r_time, r_a, r_b, r_c, r_late,
                CASE WHEN n %% %(open_every)s = 0 THEN
                    CASE WHEN r_status < 0.10 THEN 'collected' WHEN r_status < 0.20 THEN 'filed'
                         WHEN r_status < 0.35 THEN 'dispatched' WHEN r_status < 0.80 THEN 'handling'
                         WHEN r_status < 0.92 THEN 'fed_back' WHEN r_status < 0.98 THEN 'verified'
                         ELSE 'suspended' END
                ELSE
                    CASE WHEN r_status < 0.30 THEN 'evaluated' WHEN r_status < 0.90 THEN 'assessed'
                         WHEN r_status < 0.96 THEN 'rejected' ELSE 'voided' END
                END AS status,
                CASE WHEN r_chan < 0.35 THEN 'inspector' WHEN r_chan < 0.50 THEN 'patrol'
                     WHEN r_chan < 0.65 THEN 'complaint' WHEN r_chan < 0.75 THEN 'hotline'
                     WHEN r_chan < 0.90 THEN 'platform' WHEN r_chan < 0.95 THEN 'online_monitoring'
                     WHEN r_chan < 0.98 THEN 'superior' ELSE 'transfer' END AS channel,
                cat.id AS category_id, cat.is_emergency AS emergency, cat.code AS category_code,
                leaf.id AS grid_id, leaf.dept_id,
                CASE WHEN n %% %(open_every)s = 0
                     THEN %(t)s - make_interval(secs => 1800 + r_time * 15 * 86400)
                     ELSE %(t)s - make_interval(secs => 2 * 86400 + r_time * 1093 * 86400)
                END AS reported_at
            FROM (SELECT n, random() AS r_status, random() AS r_chan, random() AS r_cat,
                         random() AS r_grid, random() AS r_time, random() AS r_a,
                         random() AS r_b, random() AS r_c, random() AS r_late
                  FROM generate_series(1, %(n)s) n) g
            JOIN bench_category cat ON cat.rn = CASE WHEN g.r_cat < 0.002 THEN 9
                 ELSE floor(g.r_cat * 9)::int %% 9 END
            JOIN bench_leaf leaf
              ON leaf.rn = floor(g.r_grid * (SELECT count(*) FROM bench_leaf))::int
        ) x
    """
    # Later moments, each only for the states that have reached it; closed cases that were late
    # (r_late < 0.3) fed back after their handling deadline.
    moments = """
        ALTER TABLE bench_plan ADD COLUMN dispatched_at timestamptz,
            ADD COLUMN handling_deadline timestamptz, ADD COLUMN fed_back_at timestamptz,
            ADD COLUMN verify_deadline timestamptz, ADD COLUMN verified_at timestamptz,
            ADD COLUMN closed_at timestamptz, ADD COLUMN running text,
            ADD COLUMN warn_at timestamptz, ADD COLUMN due_at timestamptz,
            ADD COLUMN backlog boolean NOT NULL DEFAULT false;
        UPDATE bench_plan SET dispatched_at = least(filed_at + make_interval(mins => 10
                + (r_b * 110)::int), %(t)s - interval '40 minutes')
            WHERE status IN ('dispatched', 'handling', 'fed_back', 'verified', 'suspended',
                             'evaluated', 'assessed');
        UPDATE bench_plan SET handling_deadline = dispatched_at + interval '3 days'
            WHERE dispatched_at IS NOT NULL;
        UPDATE bench_plan SET fed_back_at = least(CASE WHEN NOT open AND r_late < 0.3
                THEN handling_deadline + make_interval(secs => 3600 + r_c * 2 * 86400)
                ELSE dispatched_at + make_interval(secs => 1800 + r_c * 2.5 * 86400) END,
                %(t)s - interval '30 minutes')
            WHERE status IN ('fed_back', 'verified', 'evaluated', 'assessed');
        UPDATE bench_plan SET verify_deadline = fed_back_at + interval '2 days'
            WHERE fed_back_at IS NOT NULL;
        UPDATE bench_plan SET verified_at = least(fed_back_at + make_interval(secs => 7200
                + r_a * 86400), %(t)s - interval '20 minutes')
            WHERE status IN ('verified', 'evaluated', 'assessed');
        UPDATE bench_plan SET closed_at = CASE
                WHEN status IN ('evaluated', 'assessed')
                    THEN verified_at + make_interval(secs => 3600 + r_b * 86400)
                ELSE reported_at + interval '1 hour' END
            WHERE NOT open;
        UPDATE bench_plan SET running = CASE status WHEN 'collected' THEN 'response'
                WHEN 'filed' THEN 'dispatch' WHEN 'fed_back' THEN 'verify'
                WHEN 'verified' THEN 'verify' ELSE 'handling' END
            WHERE open;
    """
    # The open cases' running deadline: the backlog's within the hour after T, the others'
    # two hours or more after it; the case's own column for that deadline says the same.
    running = """
        UPDATE bench_plan p SET backlog = true FROM (
            SELECT n FROM bench_plan WHERE open ORDER BY r_late LIMIT %(backlog)s) b
        WHERE p.n = b.n;
        UPDATE bench_plan SET
            due_at = CASE WHEN backlog THEN %(t)s + make_interval(secs => 600 + r_c * 3000)
                ELSE %(t)s + make_interval(secs => 4 * 3600 + r_c * 10 * 86400) END
        WHERE open;
        UPDATE bench_plan SET warn_at = CASE WHEN backlog THEN due_at - interval '6 minutes'
                ELSE due_at - make_interval(secs => 3600 + r_a * 3600) END
        WHERE open;
        UPDATE bench_plan SET
            response_deadline = CASE WHEN running = 'response' THEN due_at
                                     ELSE response_deadline END,
            handling_deadline = CASE WHEN running = 'handling' THEN due_at
                                     ELSE handling_deadline END,
            verify_deadline = CASE WHEN running = 'verify' THEN due_at ELSE verify_deadline END
        WHERE open;
    """
    # Numbers as the service makes them: category + local date + the day's sequence.
    insert_cases = """
        INSERT INTO cases_case (number, channel, category_id, description, emergency,
            reporter_name, reporter_phone, created_by_id, external_id, lat, lng, address, grid_id,
            source_id, status, department_id, reported_at, created_at, updated_at,
            response_deadline, arrived_at, arrived_lat, arrived_lng, response_met, filed_at,
            dispatch_deadline, dispatched_at, dispatch_met, handling_deadline, fed_back_at,
            handling_met, verify_deadline, verified_at, verify_met, closed_at, evaluation_score,
            suspended_at, suspended_seconds, extension_until, extension_reason, rework_count,
            return_count, escalation_count, extension_count)
        SELECT upper(replace(p.category_code, '_', '')) || '-'
                || to_char(p.reported_at AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || '-'
                || lpad(row_number() OVER (PARTITION BY p.category_code,
                        (p.reported_at AT TIME ZONE 'Asia/Shanghai')::date
                        ORDER BY p.reported_at, p.n)::text, 4, '0'),
            p.channel, p.category_id, '基准案件 ' || p.n || '：道路扬尘，渣土车未苫盖', p.emergency,
            CASE WHEN p.channel IN ('complaint', 'hotline') THEN '群众' ELSE '' END, '',
            CASE p.channel WHEN 'platform' THEN %(platform)s WHEN 'inspector' THEN %(inspector)s
                 ELSE %(dispatcher)s END,
            CASE WHEN p.channel = 'platform' THEN 'SZCG-' || p.n ELSE '' END,
            NULL, NULL, '临沂市基准路' || (p.n %% 997) || '号', p.grid_id, NULL, p.status,
            CASE WHEN p.dispatched_at IS NOT NULL THEN p.dept_id END,
            p.reported_at, p.reported_at, coalesce(p.closed_at, p.reported_at),
            p.response_deadline,
            CASE WHEN p.response_deadline IS NOT NULL AND p.status NOT IN ('collected', 'rejected',
                'voided') THEN p.reported_at + interval '25 minutes' END,
            NULL, NULL,
            CASE WHEN p.response_deadline IS NOT NULL AND p.status NOT IN ('collected', 'rejected',
                'voided') THEN p.reported_at + interval '25 minutes' <= p.response_deadline END,
            p.filed_at, p.filed_at + interval '2 hours', p.dispatched_at,
            CASE WHEN p.dispatched_at IS NOT NULL THEN true END,
            p.handling_deadline, p.fed_back_at,
            CASE WHEN p.fed_back_at IS NOT NULL THEN p.fed_back_at <= p.handling_deadline END,
            p.verify_deadline, p.verified_at,
            CASE WHEN p.verified_at IS NOT NULL THEN true END,
            p.closed_at,
            CASE WHEN p.status IN ('evaluated', 'assessed')
                 THEN CASE WHEN p.fed_back_at > p.handling_deadline THEN 90 ELSE 100 END END,
            CASE WHEN p.status = 'suspended' THEN %(t)s - interval '1 day' END, 0, NULL, '',
            0, 0, 0, 0
        FROM bench_plan p
        ORDER BY p.reported_at, p.n
    """
    timers = """
        CREATE TEMP TABLE bench_ids AS
        SELECT c.id, p.n FROM cases_case c
        JOIN bench_plan p ON p.open AND c.description = '基准案件 ' || p.n || '：道路扬尘，渣土车未苫盖'
        WHERE c.status IN ('collected', 'filed', 'dispatched', 'handling', 'fed_back',
                           'verified', 'suspended');
        INSERT INTO cases_casetimer (case_id, deadline, level, due_at, deadline_at, fired_at)
        SELECT i.id, p.running, l.level,
               CASE l.level WHEN 'warning' THEN p.warn_at WHEN 'breach' THEN p.due_at
                    WHEN 'principal' THEN p.due_at + interval '1 day'
                    ELSE p.due_at + interval '3 days' END,
               p.due_at, NULL
        FROM bench_ids i JOIN bench_plan p ON p.n = i.n
        CROSS JOIN (VALUES ('warning'), ('breach'), ('principal'), ('leader')) l(level);
        CREATE TABLE bench_backlog AS
        SELECT i.id AS case_id, p.running AS deadline
        FROM bench_ids i JOIN bench_plan p ON p.n = i.n WHERE p.backlog;
    """
    # Fired timers of the past: the late closed cases' handling deadline, 10 %% of the open
    # (already filed) cases' response deadline; each with its breach rows.
    history = """
        INSERT INTO cases_casetimer (case_id, deadline, level, due_at, deadline_at, fired_at)
        SELECT c.id, 'handling', l.level,
               CASE l.level WHEN 'warning'
                    THEN c.dispatched_at + (c.handling_deadline - c.dispatched_at) * 0.8
                    ELSE c.handling_deadline END,
               c.handling_deadline,
               CASE l.level WHEN 'warning'
                    THEN c.dispatched_at + (c.handling_deadline - c.dispatched_at) * 0.8
                    ELSE c.handling_deadline END + interval '20 seconds'
        FROM cases_case c
        CROSS JOIN (VALUES ('warning'), ('breach')) l(level)
        WHERE c.status IN ('evaluated', 'assessed') AND c.fed_back_at > c.handling_deadline;
        INSERT INTO cases_casetimer (case_id, deadline, level, due_at, deadline_at, fired_at)
        SELECT c.id, 'response', l.level,
               c.reported_at + (c.response_deadline - c.reported_at) * CASE l.level
                    WHEN 'warning' THEN 0.8 ELSE 1 END,
               c.response_deadline,
               c.reported_at + (c.response_deadline - c.reported_at) * CASE l.level
                    WHEN 'warning' THEN 0.8 ELSE 1 END + interval '20 seconds'
        FROM cases_case c JOIN bench_ids i ON i.id = c.id
        CROSS JOIN (VALUES ('warning'), ('breach')) l(level)
        WHERE c.status <> 'collected' AND c.response_deadline IS NOT NULL
          AND c.id %% 10 = 0;
        UPDATE cases_case SET response_met = false,
            arrived_at = response_deadline + interval '20 minutes'
        WHERE id IN (SELECT case_id FROM cases_casetimer WHERE deadline = 'response'
                     AND fired_at IS NOT NULL);
        INSERT INTO cases_casebreach (case_id, deadline, level, due_at, at)
        SELECT case_id, deadline, level, deadline_at, fired_at FROM cases_casetimer
        WHERE fired_at IS NOT NULL;
    """
    meta_sql = """
        CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value text NOT NULL)
    """

    def vacuum():
        with connection.cursor() as cur:
            for table in (
                "cases_case",
                "cases_casetimer",
                "cases_casebreach",
                "core_notification",
                "core_user",
                "grids_grid",
                "grids_gridrole",
                "grids_department",
                "grids_departmentmembership",
                "cases_idempotencyrecord",
                "cases_caseevent",
            ):
                cur.execute(f"VACUUM ANALYZE {table}")

    run("SELECT setseed(0.371302)")
    _timed("leaf grids", timings, run, villages)
    run(categories)
    _timed("plan the cases", timings, run, plan)
    _timed("their moments", timings, run, moments)
    _timed("running deadlines", timings, run, running)
    without_secondary_indexes("cases_case", lambda: run(insert_cases), timings, "insert cases")
    _timed("insert open cases' timers", timings, run, timers)
    _timed("insert past timers and breaches", timings, run, history)
    run("DROP TABLE bench_plan, bench_ids, bench_leaf, bench_category")
    _timed("VACUUM ANALYZE", timings, vacuum)
    counts = fill_counts(now)
    meta = {
        **sizes,
        "t": now.isoformat(),
        "made": datetime.now().astimezone().isoformat(timespec="minutes"),
        "timings": timings,
        "tree": tree,
        "counts": counts,
    }
    run(meta_sql)
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO bench_meta VALUES ('fill', %s) ON CONFLICT (key) DO UPDATE "
            "SET value = excluded.value",
            [json.dumps(meta)],
        )
    return meta


def fill_counts(t: datetime) -> dict:
    from django.db import connection

    queries = {
        "cases": "SELECT count(*) FROM cases_case",
        "open cases": "SELECT count(*) FROM cases_case WHERE status IN ('collected', 'filed',"
        " 'dispatched', 'handling', 'fed_back', 'verified', 'suspended')",
        "timers": "SELECT count(*) FROM cases_casetimer",
        "unfired timers": "SELECT count(*) FROM cases_casetimer WHERE fired_at IS NULL",
        "unfired timers due by T": "SELECT count(*) FROM cases_casetimer WHERE fired_at IS NULL"
        " AND due_at <= %(t)s",
        "unfired timers due by T + 61 min": "SELECT count(*) FROM cases_casetimer"
        " WHERE fired_at IS NULL AND due_at <= %(t)s + interval '61 minutes'",
        "cases with timers due by T + 61 min": "SELECT count(DISTINCT case_id) FROM"
        " cases_casetimer WHERE fired_at IS NULL AND due_at <= %(t)s + interval '61 minutes'",
        "breaches": "SELECT count(*) FROM cases_casebreach",
        "grids": "SELECT count(*) FROM grids_grid",
        "size of cases_case (with indexes)": "SELECT pg_size_pretty("
        "pg_total_relation_size('cases_case'))",
        "size of cases_casetimer (with indexes)": "SELECT pg_size_pretty("
        "pg_total_relation_size('cases_casetimer'))",
        "size of the partial index case_timer_due_idx": "SELECT pg_size_pretty("
        "pg_relation_size('case_timer_due_idx'))",
    }
    out = {}
    with connection.cursor() as cur:
        for label, sql in queries.items():
            cur.execute(sql, {"t": t})
            out[label] = cur.fetchone()[0]
    with connection.cursor() as cur:
        cur.execute("SELECT status, count(*) FROM cases_case GROUP BY 1 ORDER BY 2 DESC")
        out["by status"] = dict(cur.fetchall())
    return out


# --- reporting helpers (shared) ----------------------------------------------------------------


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return "? GiB"


def postgres_facts() -> dict:
    from django.db import connection

    out = {}
    with connection.cursor() as cur:
        cur.execute("SELECT version()")
        out["version"] = cur.fetchone()[0].split(" on ")[0]
        for name in ("shared_buffers", "work_mem", "synchronous_commit", "jit", "max_connections"):
            cur.execute(f"SHOW {name}")
            out[name] = cur.fetchone()[0]
    return out


def run_header(*, src: Path, started_load: float, runs: int) -> list[str]:
    import django

    commit = git("rev-parse", "--short", "HEAD")
    if src != ROOT:  # the commit that was exported, though HEAD may have moved since
        commit = src.name.removeprefix("head-")
    if src == ROOT:
        dirty = git("status", "--porcelain", "--untracked-files=no")
        where = "the working tree" + (
            " (with other sessions' uncommitted changes)" if dirty else ""
        )
    else:
        where = "a clean export of HEAD (`--head`)"
    pg = postgres_facts()
    load_now = os.getloadavg()
    return [
        f"- Date: {datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}; commit `{commit}`,"
        f" measured on {where}",
        f"- Machine: {os.cpu_count()} cores ({cpu_model()}), {memory_gib()} RAM,"
        f" {platform.platform()}; Python {platform.python_version()}, Django {django.__version__}",
        f"- {pg['version']}, local over TCP on 127.0.0.1, default configuration"
        f" (shared_buffers {pg['shared_buffers']}, work_mem {pg['work_mem']},"
        f" synchronous_commit {pg['synchronous_commit']}, jit {pg['jit']})",
        f"- Load average (1 min) when the run started: {started_load:.2f}; at its end:"
        f" {load_now[0]:.2f}. The machine is shared with other sessions (test suites, other"
        " benchmarks) on 2 cores, so every time is an upper bound; best of"
        f" {runs} counts, every run is listed.",
    ]


def ms(seconds: float) -> str:
    value = seconds * 1000
    if value >= 100:
        return f"{value:.0f} ms"
    if value >= 10:
        return f"{value:.1f} ms"
    return f"{value:.2f} ms"


def runs_cell(times: list[float]) -> str:
    """The best in bold, then every run, or with many runs the median and the worst."""
    best = f"**{ms(min(times))}**"
    if len(times) <= 6:
        return f"{best} ({', '.join(ms(t) for t in times)})"
    return (
        f"{best} (median {ms(statistics.median(times))}, worst {ms(max(times))}; {len(times)} runs)"
    )


def cpu_cell(seconds: list[float]) -> str:
    """CPU seconds from /proc (10 ms ticks)."""
    return ", ".join(f"{s * 1000:.0f} ms" for s in seconds) if seconds else ""


SECTIONS = ("fill", "deadlines", "intake", "list")
TITLES = {
    "fill": "The data",
    "deadlines": "1. Deadline sweep",
    "intake": "2. Intake through the API",
    "list": "3. The scoped case list",
}


def results_update(section: str, lines: list[str]) -> None:
    """Replace one section of bench/results/cases.md, keeping the others and the reading."""
    text = RESULTS.read_text() if RESULTS.exists() else ""
    blocks = {}
    for name in SECTIONS:
        match = re.search(
            rf"<!-- section:{name} -->\n(.*?)<!-- /section:{name} -->", text, flags=re.S
        )
        blocks[name] = match.group(1) if match else f"(not run yet: `bench/case_{name}.py`)\n"
    reading = "(to be written after a run)\n"
    match = re.search(rf"{READING_START}\n(.*?){READING_END}", text, flags=re.S)
    if match:
        reading = match.group(1)
    blocks[section] = "\n".join(lines).rstrip() + "\n"
    out = [
        "# Case workflow benchmarks",
        "",
        "Generated by `bench/case_deadlines.py`, `bench/case_intake.py` and `bench/case_list.py`"
        ' for issue 4 ("Performance"); each script rewrites its own section. Targets, on'
        " PostgreSQL with 1,000,000 cases of which 20,000 are open: the deadline sweep under"
        " 5 ms in steady state and under 500 ms with a 10,000-case backlog; intake through the"
        " API at 200 cases/s or more with gunicorn on 2 cores; the scoped case list (first page"
        " of 50, a county subtree, filtered by status) with a constant number of queries, no"
        " unbounded COUNT, under 50 ms. Each is shown next to its bare-SQL floor.",
        "",
        "## Reading",
        "",
        READING_START,
        reading.rstrip("\n"),
        READING_END,
        "",
    ]
    for name in SECTIONS:
        out += [
            f"## {TITLES[name]}",
            "",
            f"<!-- section:{name} -->",
            blocks[name].rstrip("\n"),
            f"<!-- /section:{name} -->",
            "",
        ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(out))


def fill_section(meta: dict) -> list[str]:
    counts = meta["counts"]
    lines = [
        f"Made {meta['made']} by `database_prepare` in `bench/case_deadlines.py` (its docstring"
        " has the recipe); the three scripts share it. Fill times (set-based SQL after the"
        " tree):",
        "",
        "| step | time |",
        "|---|---:|",
    ]
    lines += [f"| {k} | {v} s |" for k, v in meta["timings"].items()]
    lines += [
        "",
        f"Grid tree: {meta['tree']['grids']:,} grids, {meta['tree']['departments']} departments,"
        f" {meta['tree']['users']} users. The fill's moment T = {meta['t']} (UTC).",
        "",
        "| count | value |",
        "|---|---:|",
    ]
    for label, value in counts.items():
        if label == "by status":
            continue
        lines.append(
            f"| {label} | {value:,} |" if isinstance(value, int) else f"| {label} | {value} |"
        )
    lines.append(
        "| cases by status | "
        + ", ".join(f"{k} {v:,}" for k, v in counts["by status"].items())
        + " |"
    )
    return lines


# --- the proposed sweep (benchmark only) ------------------------------------------------------

PROPOSED_SWEEP = """
    WITH fired AS MATERIALIZED (
        {claim}
        RETURNING id, case_id, deadline, level, deadline_at),
    breached AS (
        INSERT INTO cases_casebreach (case_id, deadline, level, due_at, at)
        SELECT case_id, deadline, level, deadline_at, %(now)s FROM fired
        ON CONFLICT (case_id, deadline, level) DO NOTHING
        RETURNING 1),
    missed AS MATERIALIZED (
        SELECT case_id, bool_or(deadline = 'response') AS response,
               bool_or(deadline = 'dispatch') AS dispatch,
               bool_or(deadline = 'handling') AS handling,
               bool_or(deadline = 'verify') AS verify
        FROM fired WHERE level = 'breach' GROUP BY case_id),
    flagged AS (
        UPDATE cases_case c SET
            response_met = CASE WHEN m.response AND c.response_met IS NULL
                AND c.arrived_at IS NULL THEN false ELSE c.response_met END,
            dispatch_met = CASE WHEN m.dispatch AND c.dispatch_met IS NULL
                AND c.dispatched_at IS NULL THEN false ELSE c.dispatch_met END,
            handling_met = CASE WHEN m.handling AND c.handling_met IS NULL
                AND c.fed_back_at IS NULL THEN false ELSE c.handling_met END,
            verify_met = CASE WHEN m.verify AND c.verify_met IS NULL
                AND c.verified_at IS NULL THEN false ELSE c.verify_met END
        FROM missed m
        WHERE c.id = m.case_id AND (
            (m.response AND c.response_met IS NULL AND c.arrived_at IS NULL)
            OR (m.dispatch AND c.dispatch_met IS NULL AND c.dispatched_at IS NULL)
            OR (m.handling AND c.handling_met IS NULL AND c.fed_back_at IS NULL)
            OR (m.verify AND c.verify_met IS NULL AND c.verified_at IS NULL))
        RETURNING 1),
    levels (level, role, title) AS (VALUES
        ('warning', 'direct_responsible', %(t_warning)s),
        ('breach', 'direct_responsible', %(t_breach)s),
        ('principal', 'principal', %(t_principal)s),
        ('leader', 'leader', %(t_leader)s)),
    subject AS MATERIALIZED (
        SELECT f.id AS timer_id, f.level, c.id AS case_id, c.number, c.grid_id, c.department_id
        FROM fired f CROSS JOIN LATERAL (
            SELECT id, number, grid_id, department_id FROM cases_case WHERE id = f.case_id
            OFFSET 0) c),
    held AS MATERIALIZED (
        SELECT r.role, r.user_id, g.tree_id, g.lft, g.rght
        FROM grids_gridrole r JOIN grids_grid g ON g.id = r.grid_id
        WHERE r.role IN ('direct_responsible', 'principal', 'leader')
          AND r.starts_on <= %(today)s AND (r.ends_on IS NULL OR r.ends_on >= %(today)s)),
    wanted AS MATERIALIZED (
        SELECT w.grid_id, w.role, me.tree_id, me.lft, me.rght
        FROM (SELECT DISTINCT s.grid_id, l.role
              FROM subject s JOIN levels l ON l.level = s.level) w
        CROSS JOIN LATERAL (
            SELECT tree_id, lft, rght FROM grids_grid WHERE id = w.grid_id OFFSET 0) me),
    nearest AS MATERIALIZED (
        SELECT DISTINCT ON (w.grid_id, w.role) w.grid_id, w.role, h.tree_id, h.lft
        FROM wanted w
        JOIN held h ON h.role = w.role AND h.tree_id = w.tree_id
             AND h.lft <= w.lft AND h.rght >= w.rght
        ORDER BY w.grid_id, w.role, h.lft DESC),
    recipients AS (
        SELECT h.user_id, s.timer_id, s.level, s.case_id, s.number
        FROM subject s JOIN levels l ON l.level = s.level
        JOIN nearest n ON n.grid_id = s.grid_id AND n.role = l.role
        JOIN held h ON h.role = n.role AND h.tree_id = n.tree_id AND h.lft = n.lft
        UNION
        SELECT m.user_id, s.timer_id, s.level, s.case_id, s.number
        FROM subject s JOIN grids_departmentmembership m ON m.department_id = s.department_id
             AND m.position IN ('head', 'handler') AND m.ends_on IS NULL
        WHERE s.level IN ('warning', 'breach')),
    notified AS (
        INSERT INTO core_notification (user_id, kind, title, body, url, dedupe_key, created_at)
        SELECT r.user_id, 'case_deadline', l.title || r.number, '', '/cases/' || r.case_id || '/',
               'case_timer:' || r.timer_id, %(now)s
        FROM recipients r JOIN levels l ON l.level = r.level
        ON CONFLICT (user_id, dedupe_key) DO NOTHING
        RETURNING 1)
    SELECT (SELECT count(*) FROM fired), (SELECT count(*) FROM breached),
           (SELECT count(*) FROM notified), (SELECT count(*) FROM flagged)
"""
CLAIM_UPDATE = (
    "UPDATE cases_casetimer SET fired_at = %(now)s WHERE fired_at IS NULL AND due_at <= %(now)s"
)
CLAIM_DELETE = "DELETE FROM cases_casetimer WHERE fired_at IS NULL AND due_at <= %(now)s"
DUE_ANY = (
    "SELECT 1 FROM cases_casetimer WHERE fired_at IS NULL AND due_at <= %s ORDER BY due_at LIMIT 1"
)


def proposed_sweep(*, now: datetime, delete: bool = False):
    """``cases.deadlines.case_deadlines_sweep`` as one statement, implemented here only so that
    its effect is measured (same breaches, flags and messages; the benchmark compares them).

    A cheap indexed probe first (nothing due: done). Then one statement claims the due timers
    and carries the claimed rows (``RETURNING``) through data-modifying CTEs: the breaches, the
    four ``*_met`` flags in one UPDATE of the cases, and every message in one INSERT — instead
    of eleven statements that each find the fired timers again by ``fired_at = now`` (no index:
    a scan of the whole timer table, fired history included). The people to tell are found
    once per distinct (grid, role) by joining the grids to the few current holders and keeping
    the deepest containing one, instead of ``grids.selectors.nearest_role_holders_join`` per
    timer, whose ancestor test walks half the tree's (tree_id, lft) index for every timer,
    twice (the NOT EXISTS). With ``delete`` the claim deletes the fired timers instead of
    marking them (no new row versions, no index entries; the breach row is the record).
    Two lateral subqueries with ``OFFSET 0`` keep the lookups of the cases and the grids
    nested-loop index probes: the claim's row estimate comes from the partial index's table
    statistics (fired history included) and is several times too high, which made the planner
    merge-join the claimed timers against the whole ``cases_case`` primary key.
    """
    from django.db import connection, transaction
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from cases.deadlines import DeadlineSweepResult

    with connection.cursor() as cursor:
        cursor.execute(DUE_ANY, [now])
        if cursor.fetchone() is None:
            return DeadlineSweepResult(0, 0, 0)
    params = {
        "now": now,
        "today": timezone.localdate(now),
        "t_warning": str(_("Deadline near (80 percent of the time used): ")),
        "t_breach": str(_("Deadline passed: ")),
        "t_principal": str(_("Overdue case, supervise (督办): ")),
        "t_leader": str(_("Overdue case, supervise (督办): ")),
    }
    sql = PROPOSED_SWEEP.replace("{claim}", CLAIM_DELETE if delete else CLAIM_UPDATE)
    with transaction.atomic(), connection.cursor() as cursor:
        # the estimates of a statement this size pass jit_above_cost: compiling costs more
        # than the statement saves
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        fired, breaches, notified, _flagged = cursor.fetchone()
    return DeadlineSweepResult(fired=fired, breaches=breaches, notified=notified)


def outcome_digest(t_fire: datetime) -> str:
    """A digest of what a sweep at ``t_fire`` left: breaches, flags and messages (no ids)."""
    import hashlib

    from django.db import connection

    parts = []
    with connection.cursor() as cur:
        cur.execute(
            "SELECT case_id, deadline, level, due_at FROM cases_casebreach WHERE at = %s"
            " ORDER BY 1, 2, 3",
            [t_fire],
        )
        parts.append(cur.fetchall())
        cur.execute(
            "SELECT user_id, title, url, dedupe_key FROM core_notification"
            " WHERE kind = 'case_deadline' AND created_at = %s ORDER BY 1, 4",
            [t_fire],
        )
        parts.append(cur.fetchall())
        cur.execute(
            "SELECT id, response_met, dispatch_met, handling_met, verify_met FROM cases_case"
            " WHERE id IN (SELECT case_id FROM bench_backlog) ORDER BY id"
        )
        parts.append(cur.fetchall())
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:12]


# --- measuring the sweep -----------------------------------------------------------------------


class StatementTimer:
    """``connection.execute_wrapper``: each statement's SQL, parameters and time."""

    def __init__(self):
        self.calls: list[tuple[str, object, float]] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.calls.append((sql, params, time.perf_counter() - started))


def statement_label(sql: str, params=None) -> str:
    flat = " ".join(sql.split())
    level = ""
    if isinstance(params, dict):
        level = params.get("level", "")
    elif isinstance(params, list | tuple) and params and isinstance(params[-1], str):
        level = params[-1]
    if flat.startswith("SET LOCAL"):
        return flat
    if flat.startswith("SELECT 1 FROM cases_casetimer"):
        return "probe: is any timer due? (index only)"
    if flat.startswith("WITH fired"):
        return "one statement: claim, breaches, flags and messages"
    if flat.startswith(('UPDATE "cases_casetimer"', "UPDATE cases_casetimer")):
        return "claim the due timers (UPDATE cases_casetimer)"
    if "INTO cases_casebreach" in flat:
        return "INSERT breaches"
    match = re.match(r"UPDATE cases_case SET (\w+)", flat)
    if match:
        return f"UPDATE cases_case SET {match.group(1)}"
    if "INTO core_notification" in flat:
        if "grids_departmentmembership" in flat:
            return f"INSERT notifications, {level}: lead department's heads and handlers"
        return f"INSERT notifications, {level}: nearest holders of the role"
    return flat[:60]


def restore(t_fire: datetime) -> None:
    """Undo a sweep at ``t_fire``: the backlog's timers due and unfired again (put back from a
    copy where a variant deleted them), its breaches, messages and flags gone; vacuumed."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass('bench_backlog_timers') IS NOT NULL")
        copied = cur.fetchone()[0]
        if copied:
            cur.execute(
                "INSERT INTO cases_casetimer (id, case_id, deadline, level, due_at, deadline_at,"
                " fired_at) SELECT id, case_id, deadline, level, due_at, deadline_at, NULL"
                " FROM bench_backlog_timers b"
                " WHERE NOT EXISTS (SELECT 1 FROM cases_casetimer t WHERE t.id = b.id)"
            )
        cur.execute("UPDATE cases_casetimer SET fired_at = NULL WHERE fired_at = %s", [t_fire])
        if not copied:
            cur.execute(
                "CREATE TABLE bench_backlog_timers AS SELECT id, case_id, deadline, level,"
                " due_at, deadline_at FROM cases_casetimer"
                " WHERE fired_at IS NULL AND due_at <= %s",
                [t_fire],
            )
        cur.execute("DELETE FROM cases_casebreach WHERE at = %s", [t_fire])
        cur.execute(
            "DELETE FROM core_notification WHERE kind = 'case_deadline' AND created_at = %s",
            [t_fire],
        )
        for deadline, done in (
            ("response", "arrived_at"),
            ("dispatch", "dispatched_at"),
            ("handling", "fed_back_at"),
            ("verify", "verified_at"),
        ):
            cur.execute(
                f"UPDATE cases_case SET {deadline}_met = NULL WHERE id IN (SELECT case_id FROM"
                f" bench_backlog WHERE deadline = %s) AND {deadline}_met = false"
                f" AND {done} IS NULL",
                [deadline],
            )
        for table in ("cases_casetimer", "cases_casebreach", "core_notification", "cases_case"):
            cur.execute(f"VACUUM ANALYZE {table}")


def explain(sql: str, params=None) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of one statement, in a transaction that is rolled back."""
    from django.db import connection, transaction

    lines: list[str] = []

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            lines = [row[0] for row in cur.fetchall()]
            raise Rollback
    except Rollback:
        pass
    return "\n".join(lines)


def explain_sequence(calls: list[tuple[str, object]]) -> list[tuple[str, object, str]]:
    """EXPLAIN (ANALYZE, BUFFERS) of each statement in order, in one transaction rolled back."""
    from django.db import connection, transaction

    plans: list[tuple[str, object, str]] = []

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic(), connection.cursor() as cur:
            for sql, params in calls:
                if sql.lstrip().upper().startswith("SET "):
                    cur.execute(sql, params)
                    plans.append((sql, params, "(a setting, not a query)"))
                    continue
                cur.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                plans.append((sql, params, "\n".join(row[0] for row in cur.fetchall())))
            raise Rollback
    except Rollback:
        pass
    return plans


def backend_cpu() -> float:
    """CPU seconds (user + system) the PostgreSQL backend of Django's connection has used,
    from /proc (same machine): the work, apart from the waiting for a core."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def variants() -> dict:
    from functools import partial

    from cases.deadlines import case_deadlines_sweep

    return {
        "as committed": case_deadlines_sweep,
        "proposed A (one statement)": proposed_sweep,
        "proposed B (one statement, fired timers deleted)": partial(proposed_sweep, delete=True),
    }


def measure(meta: dict, runs: int, committed_runs: int) -> dict:
    from django.db import connection

    t = datetime.fromisoformat(meta["t"])
    t_fire = t + BACKLOG_AFTER
    claim = "UPDATE cases_casetimer SET fired_at = %s WHERE fired_at IS NULL AND due_at <= %s"
    select_due = "SELECT id FROM cases_casetimer WHERE fired_at IS NULL AND due_at <= %s"
    out: dict = {"t": t.isoformat(), "t_fire": t_fire.isoformat(), "variants": {}}
    restore(t_fire)  # in case an earlier run was interrupted
    connection.ensure_connection()
    raw = connection.connection  # the psycopg2 connection, in autocommit as Django leaves it

    # Steady state.
    for name, sweep in variants().items():
        v = out["variants"].setdefault(name, {})
        started = time.perf_counter()
        result = sweep(now=t)
        v["steady_first"] = time.perf_counter() - started
        assert result.fired == 0, result
        times = []
        for _ in range(max(runs, 20)):
            started = time.perf_counter()
            result = sweep(now=t)
            times.append(time.perf_counter() - started)
            assert result.fired == 0
        v["steady"] = times
        print(f"  {name}, steady: best {ms(min(times))}", flush=True)
    floor_claim, floor_select = [], []
    for _ in range(max(runs, 20)):
        with raw.cursor() as cur:
            started = time.perf_counter()
            cur.execute(claim, [t, t])
            floor_claim.append(time.perf_counter() - started)
            assert cur.rowcount == 0
            started = time.perf_counter()
            cur.execute(select_due, [t])
            cur.fetchall()
            floor_select.append(time.perf_counter() - started)
    out["steady_floor_claim"] = floor_claim
    out["steady_floor_select"] = floor_select
    out["explain_claim_steady"] = explain(claim, [t, t])

    # The floor of the backlog: a SELECT of the due timers, and the claim alone (as an
    # UPDATE, and as the DELETE of variant B).
    floor_claim, floor_select, floor_delete, floor_cpu = [], [], [], []
    for _ in range(runs):
        restore(t_fire)
        with raw.cursor() as cur:
            started = time.perf_counter()
            cur.execute(select_due, [t_fire])
            rows = len(cur.fetchall())
            floor_select.append(time.perf_counter() - started)
            cpu = backend_cpu()
            started = time.perf_counter()
            cur.execute(claim, [t_fire, t_fire])
            floor_claim.append(time.perf_counter() - started)
            floor_cpu.append(backend_cpu() - cpu)
            claimed = cur.rowcount
        restore(t_fire)
        with raw.cursor() as cur:
            started = time.perf_counter()
            cur.execute(CLAIM_DELETE.replace("%(now)s", "%s"), [t_fire])
            floor_delete.append(time.perf_counter() - started)
            assert cur.rowcount == claimed
    out["backlog_floor_claim"] = floor_claim
    out["backlog_floor_select"] = floor_select
    out["backlog_floor_delete"] = floor_delete
    out["backlog_floor_cpu"] = floor_cpu
    out["backlog_rows"] = (rows, claimed)
    print(f"  floor: claim of {claimed:,} timers best {ms(min(floor_claim))}", flush=True)
    restore(t_fire)
    out["explain_claim_backlog"] = explain(claim, [t_fire, t_fire])

    # The backlog, each variant.
    for name, sweep in variants().items():
        v = out["variants"][name]
        v["backlog"], v["after"], v["results"], v["digests"], calls = [], [], [], [], []
        v["cpu"] = []
        for n in range(committed_runs if name == "as committed" else runs):
            restore(t_fire)
            timer = StatementTimer()
            cpu = backend_cpu()
            with connection.execute_wrapper(timer):
                started = time.perf_counter()
                result = sweep(now=t_fire)
                v["backlog"].append(time.perf_counter() - started)
            v.setdefault("cpu", []).append(backend_cpu() - cpu)
            v["results"].append(result.__dict__)
            v["digests"].append(outcome_digest(t_fire))
            calls.append(timer.calls)
            # straight after: nothing left, but the partial index still holds the fired rows
            started = time.perf_counter()
            again = sweep(now=t_fire)
            v["after"].append(time.perf_counter() - started)
            assert again.fired == 0, again
            print(
                f"  {name}, backlog run {n + 1}: {ms(v['backlog'][-1])} ({result.fired} fired,"
                f" {result.breaches} breaches, {result.notified} messages; digest"
                f" {v['digests'][-1]}); next sweep {ms(v['after'][-1])}",
                flush=True,
            )
        best = min(range(len(calls)), key=lambda i: v["backlog"][i])
        v["statement_runs"] = [
            [(statement_label(sql, params), elapsed) for sql, params, elapsed in c] for c in calls
        ]
        v["best"] = best
        restore(t_fire)
        statements = [(sql, params) for sql, params, _elapsed in calls[best]]
        v["explain"] = [
            (statement_label(sql, params), plan)
            for sql, params, plan in explain_sequence(statements)
        ]
        restore(t_fire)
    with connection.cursor() as cur:
        cur.execute("SELECT pg_size_pretty(pg_relation_size('case_timer_due_idx'))")
        out["partial_index_size"] = cur.fetchone()[0]
    return out


def plan_excerpt(plan: str, limit: int = 60, width: int = 220) -> list[str]:
    """At most ``limit`` lines of ``width`` characters (the id arrays make very long lines)."""
    lines = [line if len(line) <= width else line[: width - 1] + "…" for line in plan.splitlines()]
    if len(lines) > limit:
        lines = lines[:limit] + [f"… ({len(plan.splitlines()) - limit} more lines)"]
    return lines


def section(meta: dict, m: dict, header: list[str], runs: int, command: str) -> list[str]:
    names = list(m["variants"])
    committed = m["variants"]["as committed"]
    digests = {d for v in m["variants"].values() for d in v["digests"]}
    res = committed["results"][0]
    lines = [
        *header,
        f"- Command: `{command}`",
        "",
        "`cases.deadlines.case_deadlines_sweep(now=…)` **as committed**, called in this process"
        " (local settings, DEBUG off, a warm connection), next to two rewrites implemented in"
        " the script only so that their effect is measured (`proposed_sweep`; see the reading):"
        " **A** does the same work in one statement, **B** is A with the fired timers deleted"
        " instead of marked. Steady state: `now` = T, no unfired timer due. Backlog: `now` ="
        f" T + 61 min, when the warning and the deadline of the 10,000 backlog cases are due"
        f" ({m['backlog_rows'][0]:,} timers); before each backlog run the fill's state is"
        " restored and the tables vacuumed. The floor is bare SQL on the same connection"
        " (autocommit): the claim `UPDATE cases_casetimer SET fired_at = $1 WHERE fired_at IS"
        " NULL AND due_at <= $2` alone (and B's `DELETE … WHERE fired_at IS NULL AND due_at <="
        " $1`), and `SELECT id FROM cases_casetimer WHERE fired_at IS NULL AND due_at <= $1`.",
        "",
        "| | steady state (nothing due) | backlog (10,000 cases) | backlog: CPU of the"
        " PostgreSQL backend, same runs | the sweep straight after a backlog |",
        "|---|---|---|---|---|",
    ]
    for name in names:
        v = m["variants"][name]
        lines.append(
            f"| {name} | {runs_cell(v['steady'])} | {runs_cell(v['backlog'])} |"
            f" {cpu_cell(v['cpu'])} | {runs_cell(v['after'])} |"
        )
    lines += [
        f"| floor: the claim UPDATE alone | {runs_cell(m['steady_floor_claim'])} |"
        f" {runs_cell(m['backlog_floor_claim'])} | {cpu_cell(m['backlog_floor_cpu'])} | |",
        f"| floor: the claim as a DELETE alone | | {runs_cell(m['backlog_floor_delete'])} | | |",
        f"| floor: SELECT of the due timers | {runs_cell(m['steady_floor_select'])} |"
        f" {runs_cell(m['backlog_floor_select'])} | | |",
        "| target | < 5 ms | < 500 ms | | < 5 ms |",
        "",
        f"The first call in the process (cold caches) took {ms(committed['steady_first'])}"
        f" (as committed). A backlog sweep fired {res['fired']:,} timers, recorded"
        f" {res['breaches']:,} breaches and wrote {res['notified']:,} inbox messages; every run"
        " of every variant left the same breaches, flags and messages (digest of the rows):"
        f" {'yes' if len(digests) == 1 else 'NO: ' + ', '.join(sorted(digests))}. The partial"
        f" index `case_timer_due_idx` (unfired timers only) is {m['partial_index_size']} after"
        " the runs.",
        "",
    ]
    for name in names:
        v = m["variants"][name]
        best = v["best"]
        lines += [
            f"Statements of the best backlog sweep, {name} (time seen from Python; every run"
            " in the last column):",
            "",
            "| # | statement | time | all runs |",
            "|---:|---|---:|---|",
        ]
        for i, (label, elapsed) in enumerate(v["statement_runs"][best]):
            others = ", ".join(ms(c[i][1]) for c in v["statement_runs"] if len(c) > i)
            lines.append(f"| {i + 1} | {label} | {ms(elapsed)} | {others} |")
        lines.append("")
    lines += [
        "### EXPLAIN (ANALYZE, BUFFERS) of the claim",
        "",
        "Steady state (`now` = T):",
        "",
        "```",
        *plan_excerpt(m["explain_claim_steady"]),
        "```",
        "",
        "Backlog (`now` = T + 61 min):",
        "",
        "```",
        *plan_excerpt(m["explain_claim_backlog"]),
        "```",
        "",
    ]
    for name in names:
        v = m["variants"][name]
        lines += [
            f"### EXPLAIN (ANALYZE, BUFFERS) of a backlog sweep, {name}",
            "",
            "Every statement, replayed in order in one transaction that is then rolled back"
            " (each sees what the ones before it wrote); under EXPLAIN ANALYZE, so slower than"
            " above.",
            "",
        ]
        for i, (label, plan) in enumerate(v["explain"]):
            lines += [f"{i + 1}. {label}:", "", "```", *plan_excerpt(plan, 120), "```", ""]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="backlog runs (default 5)")
    parser.add_argument(
        "--committed-runs", type=int, default=3, help="backlog runs of the committed sweep"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database for the others")
    parser.add_argument("--rebuild", action="store_true", help="refill even if a fill exists")
    parser.add_argument("--head", action="store_true", help="run the committed project (HEAD)")
    parser.add_argument("--cases", type=int, default=FILL["cases"])
    parser.add_argument("--open", type=int, default=FILL["open"])
    parser.add_argument("--backlog", type=int, default=FILL["backlog"])
    args = parser.parse_args()

    load = os.getloadavg()[0]
    url = database_url()
    src = source_tree(args.head)
    WORK.mkdir(parents=True, exist_ok=True)
    sizes = {"cases": args.cases, "open": args.open, "backlog": args.backlog}
    meta = database_prepare(src=src, url=url, sizes=sizes, rebuild=args.rebuild)
    try:
        print("Measuring the sweep", flush=True)
        m = measure(meta, args.runs, args.committed_runs)
        header = run_header(src=src, started_load=load, runs=args.runs)
        command = "bench/case_deadlines.py " + " ".join(sys.argv[1:])
        results_update("fill", fill_section(meta))
        results_update("deadlines", section(meta, m, header, args.runs, command.strip()))
        (WORK / "case_deadlines.json").write_text(json.dumps(m, default=str, indent=1))
        print(f"Written to {RESULTS.relative_to(ROOT)}")
    finally:
        if not args.keep:
            database_drop(url)


if __name__ == "__main__":
    main()
