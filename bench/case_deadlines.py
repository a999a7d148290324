#!/usr/bin/env python
"""Benchmark of the case deadline sweep (issue 4, "Performance") on PostgreSQL.

    .venv/bin/python bench/case_deadlines.py [--head] [--keep] [--runs 5]

DATABASE_URL may name the database to use (its name must contain "bench"); the default is
``postgres://gridsup_dev:dev@127.0.0.1:5432/gridsup_case_bench``. The database is created,
migrated and filled unless it already holds a fill of the same size from an earlier run with
``--keep`` (``case_list.py`` and ``case_intake.py`` use the same database and the same fill, so
run them with ``--keep`` in between). A reused fill is migrated first; when ``cases_case``'s
fillfactor (cases migration 0009 sets 90) is not the one its pages were filled at (a fill made
before that migration was packed at 100), the table is rewritten with ``VACUUM FULL cases_case``
so that it is laid out as a new fill would be, and the rewrite is recorded with the fill. A new
fill inserts into the migrated table, so its pages honour the fillfactor from the start.
``--head`` runs the committed project (an export of HEAD in ``bench/results/tmp/``) instead of
the working tree, which other work may have changed.

The fill (``database_prepare``): the Linyi grid tree with its people
(``grids.demo.demo_city_seed``, the grid part of ``manage.py seed_demo``), a head and two case
handlers in every county's environment department, then with set-based SQL (generate_series,
no ORM row by row) 1,000,000 cases over three years on the leaf grids, of which 20,000 open
(reported in the last 15 days) and 980,000 closed (evaluated, assessed, rejected, voided).
Every open case has the four unfired timers (``CaseTimer``) of its running deadline: for 10,000
of them (the backlog) the warning and the deadline fall within the hour after the fill's
moment ``T``; every other unfired timer is due two hours or more after ``T``. 30 % of the
evaluated and assessed cases missed their handling deadline and keep its two ``CaseBreach``
rows, as do 10 % of the open cases for their response deadline (their timers were fired, so
deleted, as the sweep does). Then VACUUM ANALYZE.

Measured (wall-clock time in this process, DEBUG off; best and median of ``--runs``, every
run listed), with the CPU time of the PostgreSQL backend from /proc next to it:

* steady state: ``case_deadlines_sweep(now=T)``, nothing due, next to its probe alone;
* a backlog: ``case_deadlines_sweep(now=T + 61 min)`` fires the 20,000 timers (warning and
  deadline) of the 10,000 backlog cases and records 10,000 breach rows (the warnings are sent,
  not recorded), next to two floors in bare SQL: the claim DELETE alone, and the writes alone
  (``WRITES_ONLY``: the claim and the breach rows in one statement; no locks, no people, no
  messages); then a second sweep straight after (nothing due). Before every backlog run the
  fill's state is restored (the backlog's timers put back, its breaches and messages deleted,
  and any ``*_met`` flag a sweep before ``aea3db9`` set undone) and the touched tables
  vacuumed. As a check, the rows of ``cases_case`` each backlog run updated
  (``pg_stat_user_tables``): the sweep writes no case row, so 0;
* EXPLAIN (ANALYZE, BUFFERS) of the probe, of the writes alone and of every statement of the
  backlog sweep (replayed in one transaction that is rolled back).

The figures go to the "Deadline sweep" section of bench/results/cases.md; the other sections
(and "The data", unless ``--fill-section``) and the hand-written reading between the
``<!-- reading -->`` markers are kept. The database is dropped at the end unless ``--keep``.
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
        migrate(src, url)  # a fill made under older migrations gets the newer ones
        django_setup(src, url)
        case_table_repack(meta)
        return meta
    timings: dict[str, float] = {}
    print(f"Creating {_dbname(url)}", flush=True)
    database_drop(url)
    _maintenance(url, f'CREATE DATABASE "{_dbname(url)}"')
    started = time.perf_counter()
    migrate(src, url)
    timings["migrate"] = round(time.perf_counter() - started, 1)
    print(f"  migrate: {timings['migrate']} s", flush=True)
    django_setup(src, url)
    meta = cases_fill(sizes=sizes, timings=timings)
    return meta


def migrate(src: Path, url: str) -> None:
    (WORK / "var").mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=src,
        env=child_env(url),
        check=True,
    )


def case_table_layout() -> dict:
    """``cases_case``'s fillfactor (100 when not set), heap size and number of indexes."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT coalesce((SELECT option_value::int FROM pg_options_to_table(c.reloptions)"
            " WHERE option_name = 'fillfactor'), 100), pg_relation_size(c.oid),"
            " pg_indexes_size(c.oid), (SELECT count(*) FROM pg_index WHERE indrelid = c.oid)"
            " FROM pg_class c WHERE c.oid = 'cases_case'::regclass"
        )
        fillfactor, heap, indexes_size, indexes = cur.fetchone()
    return {
        "fillfactor": fillfactor,
        "heap": heap,
        "indexes_size": indexes_size,
        "indexes": indexes,
    }


def case_table_repack(meta: dict) -> None:
    """Rewrite ``cases_case`` when its fillfactor is not the one its pages were filled at.

    ALTER TABLE … SET (fillfactor) (cases migration 0009) leaves the existing pages as full as
    they were; only new pages get the free room. A fill made before it (recorded without
    ``packed_fillfactor``: filled at 100) is rewritten here with ``VACUUM FULL cases_case``,
    which packs every page to the new fillfactor and rebuilds the table's indexes, so that a
    reused fill is laid out as a new one would be. Recorded in the fill's metadata."""
    from django.db import connection

    layout = case_table_layout()
    packed = meta.get("packed_fillfactor", 100)
    if layout["fillfactor"] == packed:
        return
    print(
        f"  cases_case is at fillfactor {layout['fillfactor']} but was filled at {packed}:"
        " VACUUM FULL",
        flush=True,
    )
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '256MB'")
        cur.execute("VACUUM FULL cases_case")
        cur.execute("VACUUM ANALYZE cases_case")
    seconds = round(time.perf_counter() - started, 1)
    print(f"  VACUUM FULL cases_case: {seconds} s", flush=True)
    meta.setdefault("repacks", []).append(
        {
            "at": datetime.now().astimezone().isoformat(timespec="minutes"),
            "from": packed,
            "to": layout["fillfactor"],
            "seconds": seconds,
            "heap_before": layout["heap"],
            "heap_after": case_table_layout()["heap"],
        }
    )
    meta["packed_fillfactor"] = layout["fillfactor"]
    with connection.cursor() as cur:
        cur.execute("UPDATE bench_meta SET value = %s WHERE key = 'fill'", [json.dumps(meta)])


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
    # (already filed) cases' response deadline; each with its breach rows. The timers are then
    # deleted, as the sweep deletes the timers it fires (migration 0007 did the same).
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
        DELETE FROM cases_casetimer WHERE fired_at IS NOT NULL;
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
        "packed_fillfactor": case_table_layout()["fillfactor"],
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
    """The best in bold and the median, then every run, or with many runs the worst."""
    best = f"**{ms(min(times))}**"
    if len(times) <= 6:
        runs = ", ".join(ms(t) for t in times)
        return f"{best} (median {ms(statistics.median(times))}; {runs})"
    return (
        f"{best} (median {ms(statistics.median(times))}, worst {ms(max(times))}; {len(times)} runs)"
    )


def cpu_cell(seconds: list[float]) -> str:
    """CPU seconds from /proc (10 ms ticks): the best in bold, the median, then every run."""
    if not seconds:
        return ""
    runs = ", ".join(f"{s * 1000:.0f} ms" for s in seconds)
    return (
        f"**{min(seconds) * 1000:.0f} ms** (median {statistics.median(seconds) * 1000:.0f} ms;"
        f" {runs})"
    )


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


# --- bare SQL next to the sweep ------------------------------------------------------------

CLAIM_DELETE = "DELETE FROM cases_casetimer WHERE fired_at IS NULL AND due_at <= %(now)s"
DUE_ANY = (
    "SELECT 1 FROM cases_casetimer WHERE fired_at IS NULL AND due_at <= %s ORDER BY due_at LIMIT 1"
)
# The writes any sweep of the backlog must make, and nothing else: the claim (the due timers
# deleted) and a breach row for each fired timer past its deadline (not the warnings), in the
# unique index's order as the sweep inserts them; no row locks, no people, no messages.
WRITES_ONLY = """
    WITH fired AS MATERIALIZED (
        DELETE FROM cases_casetimer WHERE fired_at IS NULL AND due_at <= %(now)s
        RETURNING case_id, deadline, level, deadline_at),
    breached AS (
        INSERT INTO cases_casebreach (case_id, deadline, level, due_at, at)
        SELECT case_id, deadline, level, deadline_at, %(now)s FROM fired
        WHERE level <> 'warning' ORDER BY case_id, deadline, level RETURNING 1)
    SELECT (SELECT count(*) FROM fired), (SELECT count(*) FROM breached)
"""


def outcome_digest(t_fire: datetime) -> str:
    """A digest of what a sweep at ``t_fire`` left: breaches and messages (no ids)."""
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
    if flat.startswith("SET LOCAL"):
        return flat
    if flat.startswith("SAVEPOINT"):
        return "SAVEPOINT (the breach rows' fallback, see cases/deadlines.py)"
    if flat.startswith("RELEASE SAVEPOINT"):
        return "RELEASE SAVEPOINT"
    if "default_toast_compression" in flat:
        return "is lz4 available? (once per process)"
    if flat.startswith("SELECT 1 FROM cases_casetimer"):
        return "probe: is any timer due? (index only)"
    if flat.startswith("WITH sweep_fired"):
        return "one statement: claim (SKIP LOCKED), breaches, messages"
    return flat[:60]


def restore(t_fire: datetime) -> None:
    """Undo a sweep at ``t_fire``: the backlog's timers due and unfired again (put back from a
    copy where a variant deleted them), its breaches and messages gone, and the ``*_met`` flags
    a sweep before ``aea3db9`` set undone; vacuumed."""
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
                word = sql.lstrip().split(None, 1)[0].upper()
                if word in ("SET", "SAVEPOINT", "RELEASE"):
                    cur.execute(sql, params)
                    kind = "a setting" if word == "SET" else "a savepoint"
                    plans.append((sql, params, f"({kind}, not a query)"))
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


def case_updates() -> int:
    """Rows of ``cases_case`` updated so far, from the cumulative statistics; this backend's
    pending counts are flushed first."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pg_stat_force_next_flush()")
        cur.execute("SELECT pg_stat_clear_snapshot()")
        cur.execute(
            "SELECT n_tup_upd FROM pg_stat_user_tables WHERE relid = 'cases_case'::regclass"
        )
        return cur.fetchone()[0]


def measure(meta: dict, runs: int) -> dict:
    from django.db import connection

    from cases.deadlines import case_deadlines_sweep

    t = datetime.fromisoformat(meta["t"])
    t_fire = t + BACKLOG_AFTER
    select_due = "SELECT id FROM cases_casetimer WHERE fired_at IS NULL AND due_at <= %s"
    claim = CLAIM_DELETE.replace("%(now)s", "%s")
    out: dict = {"t": t.isoformat(), "t_fire": t_fire.isoformat()}
    restore(t_fire)  # in case an earlier run was interrupted
    out["layout"] = case_table_layout()
    connection.ensure_connection()
    raw = connection.connection  # the psycopg2 connection, in autocommit as Django leaves it

    # Steady state: the sweep, and its probe alone as bare SQL.
    started = time.perf_counter()
    assert case_deadlines_sweep(now=t).fired == 0
    out["steady_first"] = time.perf_counter() - started
    steady, floor_probe, floor_select = [], [], []
    for _ in range(max(runs, 20)):
        started = time.perf_counter()
        result = case_deadlines_sweep(now=t)
        steady.append(time.perf_counter() - started)
        assert result.fired == 0
        with raw.cursor() as cur:
            started = time.perf_counter()
            cur.execute(DUE_ANY, [t])
            assert cur.fetchone() is None
            floor_probe.append(time.perf_counter() - started)
            started = time.perf_counter()
            cur.execute(select_due, [t])
            cur.fetchall()
            floor_select.append(time.perf_counter() - started)
    out["steady"], out["steady_floor_probe"] = steady, floor_probe
    out["steady_floor_select"] = floor_select
    print(f"  steady: best {ms(min(steady))}", flush=True)
    out["explain_probe_steady"] = explain(DUE_ANY, [t])

    # The floors of the backlog: the claim alone, and the writes alone (bare SQL).
    floors: dict[str, list] = {
        "select": [],
        "claim": [],
        "writes": [],
        "writes_cpu": [],
    }
    for _ in range(runs):
        restore(t_fire)
        with raw.cursor() as cur:
            started = time.perf_counter()
            cur.execute(select_due, [t_fire])
            due = len(cur.fetchall())
            floors["select"].append(time.perf_counter() - started)
            started = time.perf_counter()
            cur.execute(claim, [t_fire])
            floors["claim"].append(time.perf_counter() - started)
            claimed = cur.rowcount
        restore(t_fire)
        with raw.cursor() as cur:
            cpu = backend_cpu()
            started = time.perf_counter()
            cur.execute(WRITES_ONLY, {"now": t_fire})
            floors["writes"].append(time.perf_counter() - started)
            floors["writes_cpu"].append(backend_cpu() - cpu)
            written = cur.fetchone()
    out["floors"], out["backlog_rows"], out["writes_rows"] = floors, (due, claimed), written
    print(f"  floor: writes alone best {ms(min(floors['writes']))} {written}", flush=True)
    restore(t_fire)
    out["explain_writes"] = explain(WRITES_ONLY, {"now": t_fire})

    # The backlog through the sweep.
    out["backlog"], out["after"], out["results"], out["digests"], out["cpu"] = [], [], [], [], []
    out["case_updates"] = []  # rows of cases_case each run updated: the sweep writes none
    calls = []
    for n in range(runs):
        restore(t_fire)
        updates = case_updates()
        timer = StatementTimer()
        cpu = backend_cpu()
        with connection.execute_wrapper(timer):
            started = time.perf_counter()
            result = case_deadlines_sweep(now=t_fire)
            out["backlog"].append(time.perf_counter() - started)
        out["cpu"].append(backend_cpu() - cpu)
        out["case_updates"].append(case_updates() - updates)
        out["results"].append(result.__dict__)
        out["digests"].append(outcome_digest(t_fire))
        calls.append(timer.calls)
        # straight after: nothing left
        started = time.perf_counter()
        again = case_deadlines_sweep(now=t_fire)
        out["after"].append(time.perf_counter() - started)
        assert again.fired == 0, again
        print(
            f"  backlog run {n + 1}: {ms(out['backlog'][-1])}, backend CPU"
            f" {out['cpu'][-1] * 1000:.0f} ms ({result.fired} fired, {result.breaches} breaches,"
            f" {result.notified} messages; digest {out['digests'][-1]}; case rows updated"
            f" {out['case_updates'][-1]}); next sweep"
            f" {ms(out['after'][-1])}; load {os.getloadavg()[0]:.2f}",
            flush=True,
        )
    with connection.cursor() as cur:  # what the last run's messages look like
        cur.execute(
            "SELECT count(*), count(DISTINCT user_id), max(length(body) - length(replace(body,"
            " chr(10), '')) + 1) FROM core_notification"
            " WHERE kind = 'case_deadline' AND created_at = %s",
            [t_fire],
        )
        out["messages"] = cur.fetchone()
        cur.execute(
            "SELECT title, url, CASE WHEN body = '' THEN 0 ELSE length(body) - length(replace("
            "body, chr(10), '')) + 1 END AS n FROM core_notification"
            " WHERE kind = 'case_deadline' AND created_at = %s ORDER BY n DESC, id LIMIT 3",
            [t_fire],
        )
        out["message_samples"] = cur.fetchall()
    best = min(range(len(calls)), key=lambda i: out["backlog"][i])
    out["statement_runs"] = [
        [(statement_label(sql, params), elapsed) for sql, params, elapsed in c] for c in calls
    ]
    out["best"] = best
    restore(t_fire)
    statements = [(sql, params) for sql, params, _elapsed in calls[best]]
    out["explain"] = [
        (statement_label(sql, params), plan) for sql, params, plan in explain_sequence(statements)
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
    res = m["results"][0]
    floors = m["floors"]
    layout = m["layout"]
    repacks = meta.get("repacks") or []
    repacked = (
        f" (a fill made at {repacks[-1]['from']}, rewritten by `VACUUM FULL cases_case` in"
        f" {repacks[-1]['seconds']} s on {repacks[-1]['at']}: heap"
        f" {repacks[-1]['heap_before'] / 2**20:,.0f} → {repacks[-1]['heap_after'] / 2**20:,.0f}"
        " MB)"
        if repacks
        else " (as filled)"
    )
    n_messages, n_people, longest = m["messages"]
    lines = [
        *header,
        f"- Command: `{command}`",
        f'- The data: a fill made {meta["made"]} by the recipe of "The data" below (same'
        f" sizes; the past fired timers deleted as the sweep now does): {meta['counts']['cases']:,}"
        f" cases, {meta['counts']['open cases']:,} open; T = {meta['t']} (UTC).",
        "",
        "`cases.deadlines.case_deadlines_sweep(now=…)` as committed, called in this process"
        " (local settings, DEBUG off, a warm connection). Steady state: `now` = T, no timer"
        " due. Backlog: `now` = T + 61 min, when the warning and the deadline of the 10,000"
        f" backlog cases are due ({m['backlog_rows'][0]:,} timers); before each backlog run the"
        " fill's state is restored and the tables vacuumed. The sweep claims the due timers"
        " (`FOR UPDATE SKIP LOCKED`, deleted by tuple id), records a breach row for each one past"
        " its deadline (the warnings are sent, not recorded) and writes the messages; it locks"
        " no case and updates no case row. Floors, bare SQL on the same connection"
        " (autocommit): the probe `SELECT 1 … WHERE fired_at IS NULL AND due_at <= $1 ORDER BY"
        " due_at LIMIT 1`; the claim `DELETE FROM cases_casetimer WHERE fired_at IS NULL AND"
        " due_at <= $1` alone; and **the writes alone** (`WRITES_ONLY` in the script: that"
        f" claim and the {m['writes_rows'][1]:,} breach rows in one statement, without row"
        " locks, people or messages), which no sweep of this backlog can go below.",
        "",
        f"`cases_case` as measured: fillfactor {layout['fillfactor']}, heap"
        f" {layout['heap'] / 2**20:,.0f} MB, {layout['indexes']} indexes"
        f" ({layout['indexes_size'] / 2**20:,.0f} MB); its pages were written at fillfactor"
        f" {meta.get('packed_fillfactor', 100)}{repacked}.",
        "",
        "| | time | CPU of the PostgreSQL backend, same runs |",
        "|---|---|---|",
        f"| steady state (nothing due) | {runs_cell(m['steady'])} | |",
        f"| floor: the probe alone | {runs_cell(m['steady_floor_probe'])} | |",
        f"| floor: SELECT of the due timers (none) | {runs_cell(m['steady_floor_select'])} | |",
        "| target, steady state | < 5 ms | |",
        f"| **backlog of 10,000 cases** | {runs_cell(m['backlog'])} | {cpu_cell(m['cpu'])} |",
        f"| floor: the writes alone | {runs_cell(floors['writes'])} |"
        f" {cpu_cell(floors['writes_cpu'])} |",
        f"| floor: the claim DELETE alone | {runs_cell(floors['claim'])} | |",
        f"| floor: SELECT of the due timers | {runs_cell(floors['select'])} | |",
        "| target, backlog | < 500 ms | |",
        f"| the sweep straight after a backlog | {runs_cell(m['after'])} | |",
        "",
        f"The first call in the process (cold caches) took {ms(m['steady_first'])}. A backlog"
        f" sweep fired {res['fired']:,} timers, recorded {res['breaches']:,} breaches (the"
        f" writes alone: {m['writes_rows'][0]:,} timers claimed, {m['writes_rows'][1]:,}"
        f" breaches) and wrote {res['notified']:,} inbox messages to {n_people:,} people (one"
        f" per person and level; the longest lists {longest:,} cases). Rows of `cases_case` each"
        f" backlog run updated (`pg_stat_user_tables`; the sweep writes none):"
        f" {', '.join(f'{n:,}' for n in m['case_updates'])}. Every run left the same breaches"
        " and messages (digest of the rows):"
        f" {'yes' if len(set(m['digests'])) == 1 else 'NO: ' + ', '.join(sorted(set(m['digests'])))}."
        f" The partial index `case_timer_due_idx` is {m['partial_index_size']} after the runs.",
        "",
        "Messages of the last run, the three longest:",
        "",
        "| title | link | cases listed |",
        "|---|---|---:|",
        *[f"| {title} | `{url}` | {count} |" for title, url, count in m["message_samples"]],
        "",
        "Statements of the best backlog sweep (time seen from Python; every run in the last"
        " column):",
        "",
        "| # | statement | time | all runs |",
        "|---:|---|---:|---|",
    ]
    best = m["best"]
    # a statement of the best run next to the same statement of the others, by label (a
    # once-per-process query makes the first run's list longer)
    for i, (label, elapsed) in enumerate(m["statement_runs"][best]):
        nth = [lab for lab, _ in m["statement_runs"][best][:i]].count(label)
        others = []
        for run in m["statement_runs"]:
            same = [t for lab, t in run if lab == label]
            others.append(ms(same[nth]) if len(same) > nth else "—")
        lines.append(f"| {i + 1} | {label} | {ms(elapsed)} | {', '.join(others)} |")
    rest = [
        total - sum(t for _, t in run)
        for total, run in zip(m["backlog"], m["statement_runs"], strict=True)
    ]
    lines.append(
        f"| | the commit, and Python around the statements (the call's time less its"
        f" statements') | {ms(rest[best])} | {', '.join(ms(r) for r in rest)} |"
    )
    lines += [
        "",
        "### EXPLAIN (ANALYZE, BUFFERS) of the probe, steady state",
        "",
        "```",
        *plan_excerpt(m["explain_probe_steady"]),
        "```",
        "",
        "### EXPLAIN (ANALYZE, BUFFERS) of the writes alone (the floor), backlog",
        "",
        "```",
        *plan_excerpt(m["explain_writes"], 80),
        "```",
        "",
        "### EXPLAIN (ANALYZE, BUFFERS) of a backlog sweep",
        "",
        "Every statement, replayed in order in one transaction that is then rolled back; under"
        " EXPLAIN ANALYZE, so slower than above.",
        "",
    ]
    for i, (label, plan) in enumerate(m["explain"]):
        lines += [f"{i + 1}. {label}:", "", "```", *plan_excerpt(plan, 400), "```", ""]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="backlog runs (default 5)")
    parser.add_argument("--keep", action="store_true", help="keep the database for the others")
    parser.add_argument("--rebuild", action="store_true", help="refill even if a fill exists")
    parser.add_argument("--head", action="store_true", help="run the committed project (HEAD)")
    parser.add_argument(
        "--fill-section",
        action="store_true",
        help='also rewrite "The data" (which the intake and list sections were measured on)',
    )
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
        m = measure(meta, args.runs)
        header = run_header(src=src, started_load=load, runs=args.runs)
        command = "bench/case_deadlines.py " + " ".join(sys.argv[1:])
        if args.fill_section:
            results_update("fill", fill_section(meta))
        results_update("deadlines", section(meta, m, header, args.runs, command.strip()))
        (WORK / "case_deadlines.json").write_text(json.dumps(m, default=str, indent=1))
        print(f"Written to {RESULTS.relative_to(ROOT)}")
    finally:
        if not args.keep:
            database_drop(url)


if __name__ == "__main__":
    main()
