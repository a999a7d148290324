#!/usr/bin/env python
"""Benchmark of the patrol-frequency alarm sweep (issue 3, "Performance") on PostgreSQL.

    DATABASE_URL=postgres://gridsup_dev:dev@127.0.0.1:5432/gridsup_bench \\
        .venv/bin/python bench/patrol_sweep.py [--sources 100000 --patrols 2000000]

The database named in DATABASE_URL (its name must contain "bench") is dropped, created and
migrated (with ``--reuse``, a database a ``--keep`` run left is migrated and reused, its
sources and patrols too when they are of the size asked; ``--fill-only`` stops after the fill);
the Linyi grid tree with its responsible people is loaded once
(``grids.demo.demo_city_seed``, the grid part of ``manage.py seed_demo``); then for each size
(``--scales``, default 10,000 / 50,000 sources, then the full size; patrols in
proportion) the sources and patrols are written with set-based SQL, ``source_schedule_refresh()``
runs, the tables are vacuumed and analysed, and a fresh Python process measures:

* the bare SQL query that finds the overdue sources (on site and online), best of 3, with
  EXPLAIN (ANALYZE, BUFFERS);
* the sweep on an empty alarm table, best of 3 (alarms and patrol-alarm notifications are
  deleted between runs), then the next run an hour later (must raise and tell nothing), one
  sweep in an outer transaction to time the deferred foreign-key checks and the commit apart,
  then one sweep past the escalation delay;
* the Python memory of the sweep: tracemalloc peak, and the growth of ru_maxrss;
* each statement the sweep sends (captured with ``connection.execute_wrapper``) with its time,
  and, at the full size, its EXPLAIN (ANALYZE, BUFFERS) plan.

The sweep measured is ``inspections.services.patrol_alarms_sweep`` as it is (``--variants
committed``, the only variant). It runs in two states of the alarm table's planner statistics
(``STATS``): "history" (analysed when every alarm was cleared, as in
a table used for months) and "recent" (analysed after a sweep like the measured one). Every
statement runs under ``statement_timeout`` (``--timeout``), so a pathological plan ends the
run instead of hanging it.

The results go to bench/results/patrol_sweep.md; the hand-written reading between the
``<!-- reading -->`` markers of an existing results file is kept. The database is dropped at
the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "patrol_sweep.md"
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "gridsup.settings.local"

READING_START, READING_END = "<!-- reading -->", "<!-- /reading -->"


# --- database lifecycle ------------------------------------------------------------------------


def _db_params() -> dict:
    url = os.environ.get("DATABASE_URL", "")
    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(
            "DATABASE_URL must point at PostgreSQL, e.g. postgres://u:p@127.0.0.1:5432/gridsup_bench"
        )
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


def db_exists() -> bool:
    import psycopg2

    p = _db_params()
    conn = psycopg2.connect(
        dbname="postgres", user=p["user"], password=p["password"], host=p["host"], port=p["port"]
    )
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [p["dbname"]])
            return cur.fetchone() is not None
    finally:
        conn.close()


def meta_get(key: str):
    """A value the benchmark stored in its own database (``bench_meta``), or None."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value text)")
        cur.execute("SELECT value FROM bench_meta WHERE key = %s", [key])
        row = cur.fetchone()
    return None if row is None else json.loads(row[0])


def meta_set(key: str, value) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value text)")
        cur.execute(
            "INSERT INTO bench_meta (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [key, json.dumps(value, default=str)],
        )


def db_drop() -> None:
    from django.db import connections

    connections.close_all()
    _maintenance(f'DROP DATABASE IF EXISTS "{_db_params()["dbname"]}"')


# --- filling -----------------------------------------------------------------------------------


def _timed(label: str, timings: dict, fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    timings[label] = round(time.perf_counter() - started, 2)
    print(f"  {label}: {timings[label]:.2f} s", flush=True)
    return result


def grid_tree_seed() -> dict:
    """The Linyi grid tree with its people: the grid part of ``manage.py seed_demo``.

    ``seed_demo`` also writes demo sources through the services and ends with an alarm sweep;
    the benchmark writes its own sources, so it loads only the tree. (Before the migration that
    widened ``grids_department.code`` to 40 characters, the demo's 31-character department codes
    failed on PostgreSQL; the column is widened here only if a database still has 30.)
    """
    from django.db import connection

    from grids.demo import demo_city_seed

    with connection.cursor() as cur:
        cur.execute(
            "SELECT character_maximum_length FROM information_schema.columns "
            "WHERE table_name = 'grids_department' AND column_name = 'code'"
        )
        (width,) = cur.fetchone()
        if width is not None and width < 40:
            cur.execute("ALTER TABLE grids_department ALTER COLUMN code TYPE varchar(40)")
    return demo_city_seed()


def sources_and_patrols_fill(*, sources: int, patrols: int, now: datetime) -> dict:
    """Write ``sources`` active sources and ``patrols`` patrols with set-based SQL, set each
    source's last patrol / online check from its patrols, refresh the schedule, VACUUM ANALYZE.

    Sources are spread at random over the village grids (level 4). Tier mix by a multiplicative
    hash of the row number, so exactly: 2 % national, 5 % provincial, 3 % provincial safety-key
    (city-controlled tier with the safety-key flag), 20 % city-, 20 % county-controlled, 50 %
    other; the national, provincial and safety-key sources (10 %) have online monitoring.
    Confirmed within the past two years; 2 % tightened after a violation, 1 % with a follow-up
    due. On-site history: 1 % never patrolled, 12 % whose last patrol is past its interval
    (overdue), the rest within it; earlier patrols spaced evenly back over a year at about the
    tier's rhythm. Online checks (daily) go back from the last one as far as the remaining patrol
    budget allows; 10 % of the monitored sources last checked 2 to 10 days ago (overdue).
    """
    from django.db import connection

    from core.models import User
    from inspections import services
    from inspections.models import Patrol, PatrolAlarm, PollutionSource

    policy = services.policy_get()
    ratio = policy.tighten_ratio
    today = now.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).date()
    recorder = User.objects.get(username="office")
    src_t, pat_t = PollutionSource._meta.db_table, Patrol._meta.db_table
    timings: dict[str, float] = {}
    params = {
        "n": sources,
        "total": patrols,
        "now": now,
        "today": today,
        "uid": recorder.pk,
        "key": policy.key_days,
        "key_t": services._tightened(policy.key_days, ratio),
        "mun": policy.municipal_days,
        "mun_t": services._tightened(policy.municipal_days, ratio),
        "oth": policy.other_days,
        "oth_t": services._tightened(policy.other_days, ratio),
    }

    def run(sql: str) -> None:
        with connection.cursor() as cur:
            cur.execute(sql, params)

    def clear():
        run(f"TRUNCATE {src_t} RESTART IDENTITY CASCADE")
        run("DELETE FROM core_notification WHERE kind = 'patrol_alarm'")
        run("SELECT setseed(0.371300)")
        run("DROP TABLE IF EXISTS bench_villages; DROP TABLE IF EXISTS bench_plan")
        run(
            "CREATE TEMP TABLE bench_villages AS SELECT id, (row_number() OVER (ORDER BY id) - 1)::int"
            " AS rn FROM grids_grid WHERE level = 4"
        )

    _timed("clear", timings, clear)

    sources_sql = f"""
        INSERT INTO {src_t} (name, credit_code, address, industry, kind, control_tier,
            online_monitoring, safety_key, contact_name, contact_phone, permit_number, pollutants,
            discharge_to, status, confirmed_on, created_at, updated_at, grid_id, tightened_until,
            follow_up_due)
        SELECT '基准污染源' || lpad(x.n::text, 6, '0'), '', '临沂市基准路' || x.n || '号', '',
            (ARRAY['enterprise','construction_site','catering','livestock_farm','boiler','other'])
                [1 + floor(x.r_kind * 6)::int],
            CASE WHEN x.m < 2 THEN 'national' WHEN x.m < 7 THEN 'provincial'
                 WHEN x.m < 30 THEN 'municipal' WHEN x.m < 50 THEN 'county' ELSE 'other' END,
            x.m < 10, x.m >= 7 AND x.m < 10, '', '', '', '', '', 'active',
            %(today)s::date - floor(x.r_conf * 730)::int, %(now)s, %(now)s, v.id,
            CASE WHEN x.r_tight < 0.02 THEN %(today)s::date + 1 + floor(x.r_tight * 50 * 90)::int END,
            CASE WHEN x.r_fu < 0.01 THEN %(today)s::date - 5 + floor(x.r_fu * 100 * 15)::int END
        FROM (SELECT n, (n::bigint * 7919) %% 100 AS m, random() AS r_kind, random() AS r_grid,
                     random() AS r_conf, random() AS r_tight, random() AS r_fu
              FROM generate_series(1, %(n)s) n) x
        JOIN bench_villages v
          ON v.rn = floor(x.r_grid * (SELECT count(*) FROM bench_villages))::int
    """
    _timed("insert sources", timings, run, sources_sql)

    # Per source: interval, the state of its history, and how many patrols of each kind.
    plan_sql = f"""
        CREATE TEMP TABLE bench_plan AS
        SELECT id, online_monitoring AS online, iv,
               CASE WHEN r_state < 0.01 THEN NULL
                    WHEN r_state < 0.13 THEN %(now)s - make_interval(secs => (iv + 1 + r_off * iv) * 86400)
                    ELSE %(now)s - make_interval(secs => r_off * (iv - 1) * 86400) END AS last_on,
               CASE WHEN NOT online_monitoring THEN NULL
                    WHEN r_onl < 0.10 THEN %(now)s - make_interval(secs => (2 + r_onl * 80) * 86400)
                    ELSE %(now)s - make_interval(secs => r_onl * 20 * 3600) END AS last_ol,
               CASE WHEN r_state < 0.01 THEN 0 ELSE ceil(365.0 / iv)::int END AS d_on,
               CASE WHEN online_monitoring THEN 365 ELSE 0 END AS d_ol,
               0 AS c_on, 0 AS c_ol
        FROM (SELECT s.id, s.online_monitoring, random() AS r_state, random() AS r_off,
                     random() AS r_onl,
                     CASE WHEN s.control_tier IN ('national', 'provincial') OR s.safety_key
                              THEN CASE WHEN s.tightened_until IS NULL THEN %(key)s ELSE %(key_t)s END
                          WHEN s.control_tier IN ('municipal', 'county')
                              THEN CASE WHEN s.tightened_until IS NULL THEN %(mun)s ELSE %(mun_t)s END
                          ELSE CASE WHEN s.tightened_until IS NULL THEN %(oth)s ELSE %(oth_t)s END
                     END AS iv
              FROM {src_t} s ORDER BY s.id) y
    """
    _timed("plan", timings, run, plan_sql)
    with connection.cursor() as cur:
        cur.execute("SELECT coalesce(sum(d_on), 0), coalesce(sum(d_ol), 0) FROM bench_plan")
        demand_on, demand_ol = cur.fetchone()
    on_total = min(patrols, demand_on) if demand_ol else patrols
    ol_total = patrols - on_total
    for column, demand, total in (("on", demand_on, on_total), ("ol", demand_ol, ol_total)):
        if not total or not demand:
            continue
        # floor of the proportional share, the remainder one each to the first rows that have demand
        run(
            f"""
            UPDATE bench_plan p SET c_{column} = q.c FROM (
                SELECT id, b + (row_number() OVER (ORDER BY (d > 0) DESC, id)
                                <= {int(total)} - sum(b) OVER ())::int AS c
                FROM (SELECT id, d_{column} AS d,
                             floor(d_{column}::numeric * {int(total)} / {int(demand)})::int AS b
                      FROM bench_plan) x) q
            WHERE q.id = p.id
            """
        )
    cols = (
        "kind, patrolled_at, checklist, findings, outcome, person_present, case_reference, "
        "created_at, recorded_by_id, source_id"
    )
    onsite_sql = f"""
        INSERT INTO {pat_t} ({cols})
        SELECT CASE WHEN k %% 10 = 3 THEN 'inspection' ELSE 'patrol' END,
               p.last_on - make_interval(secs => k * 365.0 * 86400 / p.c_on),
               '{{}}', '', CASE WHEN k %% 10 = 7 THEN 'corrected_on_site' ELSE 'compliant' END,
               '', '', %(now)s, %(uid)s, p.id
        FROM bench_plan p CROSS JOIN LATERAL generate_series(0, p.c_on - 1) k
        WHERE p.c_on > 0 AND p.last_on IS NOT NULL
    """
    online_sql = f"""
        INSERT INTO {pat_t} ({cols})
        SELECT 'online_check',
               p.last_ol - make_interval(secs => k * 365.0 * 86400 / greatest(p.c_ol, 365)),
               '{{}}', '', 'compliant', '', '', %(now)s, %(uid)s, p.id
        FROM bench_plan p CROSS JOIN LATERAL generate_series(0, p.c_ol - 1) k
        WHERE p.c_ol > 0 AND p.last_ol IS NOT NULL
    """
    # Bulk load as pg_dump does: the patrol table's secondary indexes and foreign keys are
    # dropped for the load and recreated from their saved definitions straight after it.
    with connection.cursor() as cur:
        cur.execute(
            "SELECT pg_get_indexdef(i.indexrelid), c.relname FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
            [pat_t],
        )
        index_defs = cur.fetchall()
        cur.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f'",
            [pat_t],
        )
        fk_defs = cur.fetchall()
        for name, _definition in fk_defs:
            cur.execute(f'ALTER TABLE {pat_t} DROP CONSTRAINT "{name}"')
        for _definition, name in index_defs:
            cur.execute(f'DROP INDEX "{name}"')
    try:
        _timed("insert on-site patrols", timings, run, onsite_sql)
        _timed("insert online checks", timings, run, online_sql)
    finally:

        def restore():
            with connection.cursor() as cur:
                cur.execute("SET maintenance_work_mem = '256MB'")
                for definition, _name in index_defs:
                    cur.execute(definition)
                for name, definition in fk_defs:
                    cur.execute(f'ALTER TABLE {pat_t} ADD CONSTRAINT "{name}" {definition}')

        _timed("recreate patrol indexes and foreign keys", timings, restore)
    last_sql = f"""
        UPDATE {src_t} s SET last_patrol_at = x.lp, last_online_check_at = x.lo
        FROM (SELECT source_id,
                     max(patrolled_at) FILTER (WHERE kind <> 'online_check') AS lp,
                     max(patrolled_at) FILTER (WHERE kind = 'online_check') AS lo
              FROM {pat_t} GROUP BY source_id) x
        WHERE s.id = x.source_id
    """
    _timed("set last patrol / online check", timings, run, last_sql)
    _timed("source_schedule_refresh()", timings, services.source_schedule_refresh)
    alarm_t = PatrolAlarm._meta.db_table

    def vacuum():
        # The grid tables too: loading the tree through django-mptt rewrites lft/rght of many
        # rows per insert, leaving grids_grid full of dead row versions until autovacuum runs.
        for table in (
            src_t,
            pat_t,
            alarm_t,
            "core_notification",
            "grids_grid",
            "grids_gridrole",
            "core_user",
        ):
            run(f"VACUUM ANALYZE {table}")

    _timed("VACUUM ANALYZE", timings, vacuum)
    # The measurements empty and refill these two tables many times a minute; left to
    # autovacuum, their planner statistics would change at random moments between runs and
    # with them the plans. Off in the benchmark database only; the measuring code analyses them
    # where the story says time has passed (before the later sweep).
    for table in (alarm_t, "core_notification"):
        run(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
    run("DROP TABLE bench_plan; DROP TABLE bench_villages")

    with connection.cursor() as cur:
        cur.execute(
            f"""SELECT count(*), count(*) FILTER (WHERE online_monitoring),
                       count(*) FILTER (WHERE next_patrol_due < %s),
                       count(*) FILTER (WHERE online_monitoring AND next_online_check_due < %s),
                       count(*) FILTER (WHERE last_patrol_at IS NULL)
                FROM {src_t} WHERE status = 'active'""",
            [today, today],
        )
        n_src, n_online, overdue_on, overdue_ol, never = cur.fetchone()
        cur.execute(
            f"SELECT count(*), count(*) FILTER (WHERE kind = 'online_check'), "
            f"min(patrolled_at), max(patrolled_at) FROM {pat_t}"
        )
        n_pat, n_checks, first_at, last_at = cur.fetchone()
        cur.execute(
            "SELECT pg_size_pretty(pg_total_relation_size(%s)), pg_size_pretty(pg_total_relation_size(%s))",
            [src_t, pat_t],
        )
        size_src, size_pat = cur.fetchone()
        cur.execute(
            f"SELECT control_tier, safety_key, count(*) FROM {src_t} GROUP BY 1, 2 ORDER BY 1, 2"
        )
        tiers = [list(r) for r in cur.fetchall()]
    return {
        "timings": timings,
        "sources": n_src,
        "online_sources": n_online,
        "overdue_on_site": overdue_on,
        "overdue_online": overdue_ol,
        "never_patrolled": never,
        "patrols": n_pat,
        "online_checks": n_checks,
        "patrols_from": first_at.isoformat(),
        "patrols_to": last_at.isoformat(),
        "size_sources": size_src,
        "size_patrols": size_pat,
        "tiers": tiers,
    }


# --- measuring (in a fresh process) ------------------------------------------------------------


def _backend_cpu() -> float | None:
    """CPU seconds used so far by this connection's PostgreSQL backend (from /proc, so only when
    the server runs on this machine and is readable), else None."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuClock:
    """Wall time, and the CPU time of this process plus its database backend: on a shared,
    busy machine the CPU time is the steadier measure of the work a sweep does."""

    def __enter__(self):
        self.backend0 = _backend_cpu()
        self.python0 = time.process_time()
        self.wall0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall0
        self.python = time.process_time() - self.python0
        backend1 = _backend_cpu() if exc[0] is None else None
        self.backend = (
            None if backend1 is None or self.backend0 is None else backend1 - self.backend0
        )
        return False

    def as_dict(self) -> dict:
        return {"seconds": self.wall, "python_cpu": self.python, "backend_cpu": self.backend}


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class Capture:
    """Records every statement sent while installed, with its time and outcome."""

    def __init__(self):
        self.statements: list[dict] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        error = None
        try:
            return execute(sql, params, many, context)
        except Exception as exc:
            error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
            raise
        finally:
            cursor = context["cursor"]
            self.statements.append(
                {
                    "sql": sql,
                    "params": params,
                    "seconds": round(time.perf_counter() - started, 4),
                    "rowcount": getattr(cursor.cursor, "rowcount", None) if error is None else None,
                    "error": error,
                }
            )


def _reset_alarms() -> None:
    """An empty alarm table and no patrol-alarm notifications. The alarm table's planner
    statistics are left as ``_set_statistics`` made them (TRUNCATE keeps them)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("TRUNCATE inspections_patrolalarm")
        cur.execute("DELETE FROM core_notification WHERE kind = 'patrol_alarm'")
        cur.execute("VACUUM ANALYZE core_notification")


STATS = {
    "history": "statistics say no alarm is open (a table of cleared alarms, as after months of use)",
    "recent": "statistics say the alarms are open and with the officers (analysed after a sweep like this one)",
}


def _set_statistics(state: str, *, today) -> None:
    """Put the alarm table's planner statistics into a known state, then empty it: the
    statistics of a table analysed with one row per overdue source, all cleared
    (``history``) or all open at officer level and told (``recent``)."""
    from django.db import connection

    status = "cleared" if state == "history" else "open"
    _reset_alarms()
    with connection.cursor() as cur:
        for kind, column in (("on_site", "next_patrol_due"), ("online", "next_online_check_due")):
            cur.execute(
                f"""INSERT INTO inspections_patrolalarm
                        (source_id, kind, due_on, status, level, raised_at, notified_level)
                    SELECT id, %s, {column}, %s, 'officer', now() - interval '1 day', 'officer'
                    FROM inspections_pollutionsource
                    WHERE status = 'active' AND {column} < %s""",
                [kind, status, today],
            )
        cur.execute("ANALYZE inspections_patrolalarm")
        cur.execute("TRUNCATE inspections_patrolalarm")


def _fingerprint() -> str:
    """A digest of all alarms and patrol-alarm notifications, ids left out, so that variants
    can be compared: the same digest means the same alarms told to the same people."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            """SELECT md5(coalesce(string_agg(x, ',' ORDER BY x), '')) FROM (
                   SELECT concat_ws('|', 'a', source_id, kind, due_on, status, level, notified_level,
                                    raised_at, escalated_at, cleared_at) AS x
                   FROM inspections_patrolalarm
                   UNION ALL
                   SELECT concat_ws('|', 'n', n.user_id, n.url, n.title, n.created_at,
                                    split_part(n.dedupe_key, ':', 3))
                   FROM core_notification n WHERE n.kind = 'patrol_alarm') q"""
        )
        return cur.fetchone()[0]


def _short(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).strip()


def _label(sql: str) -> str:
    s = _short(sql)
    role = "officer" if "'direct_responsible'" in s else "principal"
    if s.startswith("WITH due AS MATERIALIZED"):
        kind = "online" if "next_online_check_due" in s else "on site"
        return f"raise + notify: WITH (INSERT alarms … RETURNING) INSERT notifications ({kind})"
    if s.startswith("WITH changed AS (UPDATE"):
        return "escalate + notify: WITH (UPDATE alarms … RETURNING) INSERT notifications"
    if s.startswith("INSERT INTO inspections_patrolalarm"):
        kinds = [
            k
            for k, c in (("on site", "next_patrol_due"), ("online", "next_online_check_due"))
            if c in s
        ]
        return f"raise: INSERT alarms … SELECT … ON CONFLICT ({' + '.join(kinds)})"
    if "INSERT INTO core_notification" in s:
        return f"notify: INSERT notifications … SELECT ({role})"
    if s.startswith('UPDATE "inspections_patrolalarm" SET "status"'):
        return "clear: UPDATE alarms"
    if s.startswith('UPDATE "inspections_patrolalarm" SET "level"'):
        return "escalate: UPDATE alarms"
    if s.startswith('UPDATE "inspections_patrolalarm" SET "notified_level"'):
        return "mark notified: UPDATE alarms"
    if "inspections_patrolpolicy" in s:
        return "policy: SELECT"
    return s[:60]


VARIANTS = {
    "committed": "as committed",
}


def _statements(capture: Capture) -> list[dict]:
    return [
        {k: s[k] for k in ("seconds", "rowcount", "error")} | {"label": _label(s["sql"])}
        for s in capture.statements
    ]


def measure(*, now: datetime, runs: int, timeout: int, variants: list[str], explain: bool) -> dict:
    import django

    django.setup()
    from django.db import OperationalError, connection, transaction
    from django.utils import timezone

    from inspections import services

    today = timezone.localdate(now)
    out: dict = {
        "now": now.isoformat(),
        "today": today.isoformat(),
        "timeout": timeout,
        "loadavg_start": os.getloadavg(),
    }

    def set_timeout():
        with connection.cursor() as cur:
            cur.execute(f"SET statement_timeout = '{int(timeout)}s'")

    set_timeout()

    # (a) the bare query that finds the overdue sources
    bare = {
        "on site": (
            "SELECT id FROM inspections_pollutionsource WHERE status = 'active' AND next_patrol_due < %s"
        ),
        "online": (
            "SELECT id FROM inspections_pollutionsource WHERE status = 'active' "
            "AND online_monitoring AND next_online_check_due < %s"
        ),
    }
    out["bare"] = {}
    for name, sql in bare.items():
        times, rows = [], 0
        for _ in range(runs):
            with CpuClock() as clock, connection.cursor() as cur:
                cur.execute(sql, [today])
                rows = len(cur.fetchall())
            times.append(clock.wall)
        with connection.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, [today])
            plan = "\n".join(r[0] for r in cur.fetchall())
        out["bare"][name] = {"sql": sql, "times": times, "rows": rows, "plan": plan}

    out["rss_before_sweeps_mib"] = round(_maxrss_mib(), 1)
    out["variants"] = {}
    for key in variants:
        sweep = services.patrol_alarms_sweep
        for state in STATS:
            name = f"{VARIANTS[key]} / {state}"
            v: dict = {
                "variant": VARIANTS[key],
                "stats": state,
                "runs": [],
                "second": None,
                "error": None,
            }
            out["variants"][name] = v
            capture = Capture()
            last_capture: list[dict] = []
            later_capture: list[dict] = []
            phase = "first"
            try:
                _set_statistics(state, today=today)
                for _ in range(runs):
                    _reset_alarms()
                    capture = Capture()
                    with CpuClock() as clock, connection.execute_wrapper(capture):
                        result = sweep(now=now)
                    v["runs"].append(clock.as_dict() | {"result": result.__dict__})
                    v["statements"] = _statements(capture)
                    last_capture = capture.statements
                    print(f"    {name}: sweep {clock.wall:.3f} s {result}", flush=True)
                # The next run of the beat task (or a retry), an hour later: nothing new.
                capture = Capture()
                with CpuClock() as clock, connection.execute_wrapper(capture):
                    result = sweep(now=now + timedelta(hours=1))
                v["second"] = clock.as_dict() | {"result": result.__dict__}
                v["second_statements"] = _statements(capture)
                print(f"    {name}: second sweep {clock.wall:.3f} s {result}", flush=True)

                # Where the time outside the statements goes: one more sweep on a fresh table
                # inside an outer transaction, so that the deferred foreign-key checks (Django
                # creates its foreign keys DEFERRABLE INITIALLY DEFERRED) and the commit can be
                # timed apart.
                _reset_alarms()
                with CpuClock() as clock:
                    with transaction.atomic():
                        started = time.perf_counter()
                        sweep(now=now)
                        swept = time.perf_counter()
                        with connection.cursor() as cur:
                            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
                        checked = time.perf_counter()
                    committed = time.perf_counter()
                v["commit_split"] = clock.as_dict() | {
                    "sweep": swept - started,
                    "deferred_checks": checked - swept,
                    "commit": committed - checked,
                }
                print(f"    {name}: split {v['commit_split']}", flush=True)

                # Memory: one more sweep on a fresh table with tracemalloc on (not timed).
                _reset_alarms()
                rss0 = _maxrss_mib()
                tracemalloc.start()
                memory_result = sweep(now=now)
                _current, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                v["tracemalloc_peak_kib"] = round(peak / 1024, 1)
                v["rss_growth_during_sweep_mib"] = round(_maxrss_mib() - rss0, 1)
                v["memory_run_result"] = memory_result.__dict__

                # A later sweep, past the escalation delay: escalates and tells the principals.
                # The statistics stay as set above.
                later = now + timedelta(days=services.policy_get().escalate_after_days + 1)
                phase = "later"
                capture = Capture()
                with CpuClock() as clock, connection.execute_wrapper(capture):
                    result = sweep(now=later)
                v["later"] = clock.as_dict() | {"now": later.isoformat(), "result": result.__dict__}
                v["later_statements"] = _statements(capture)
                later_capture = capture.statements
                v["fingerprint"] = _fingerprint()
                print(
                    f"    {name}: sweep at {later:%Y-%m-%d} {clock.wall:.3f} s {result}", flush=True
                )
            except OperationalError as exc:
                v["error"] = str(exc).strip().splitlines()[0]
                v["error_phase"] = phase
                v.setdefault("statements", _statements(capture))
                v["failed_statements"] = _statements(capture)
                if phase == "later":
                    later_capture = capture.statements
                else:
                    last_capture = last_capture or capture.statements
                print(f"    {name}: FAILED ({phase}) {v['error']}", flush=True)
                connection.close()
                set_timeout()
            if explain and last_capture:
                v["plans"] = explain_sweep(
                    last_capture, prepare=lambda s=state: _set_statistics(s, today=today)
                )
            if explain and later_capture:

                def first_sweep(sweep=sweep, state=state):
                    _set_statistics(state, today=today)
                    sweep(now=now)

                v["later_plans"] = explain_sweep(later_capture, prepare=first_sweep)
    out["rss_after_sweeps_mib"] = round(_maxrss_mib(), 1)
    out["loadavg_end"] = os.getloadavg()
    return out


def explain_sweep(statements: list[dict], prepare=None) -> list[dict]:
    """Replay the statements captured from a timed sweep, in order, each under EXPLAIN
    (ANALYZE, BUFFERS), on a fresh alarm table inside a transaction that is rolled back. A
    statement that hit the timeout in the timed run gets a plain EXPLAIN (no ANALYZE)."""
    from django.db import OperationalError, connection, transaction

    _reset_alarms()
    if prepare:
        prepare()
    plans = []
    with transaction.atomic():
        for stmt in statements:
            sql = stmt["sql"]
            if not _short(sql).upper().startswith(("INSERT", "UPDATE", "WITH")):
                continue
            entry = {"label": _label(sql), "sql": _short(sql), "params": repr(stmt["params"])}
            with connection.cursor() as cur:
                if stmt["error"] is None:
                    try:
                        with transaction.atomic():
                            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, stmt["params"])
                            entry["plan"] = "\n".join(r[0] for r in cur.fetchall())
                            entry["analyzed"] = True
                    except OperationalError as exc:
                        entry["error"] = str(exc).strip().splitlines()[0]
                else:
                    entry["error"] = stmt["error"]
                if "plan" not in entry:
                    cur.execute("EXPLAIN " + sql, stmt["params"])
                    entry["plan"] = "\n".join(r[0] for r in cur.fetchall())
                    entry["analyzed"] = False
            plans.append(entry)
        transaction.set_rollback(True)
    return plans


# --- report ------------------------------------------------------------------------------------


def _fmt_s(x: float | None) -> str:
    return "—" if x is None else (f"{x * 1000:.1f} ms" if x < 1 else f"{x:.2f} s")


def _runs(times: list[float]) -> str:
    return f"**{_fmt_s(min(times))}** ({', '.join(_fmt_s(x) for x in times)})"


def _cpu(runs: list[dict]) -> str:
    parts = []
    for x in runs:
        if x.get("backend_cpu") is None:
            parts.append(f"{_fmt_s(x.get('python_cpu'))} + ?")
        else:
            parts.append(f"{_fmt_s(x['python_cpu'])} + {_fmt_s(x['backend_cpu'])}")
    return ", ".join(parts) or "—"


def report(*, results: list[dict], meta: dict, target_sources: int) -> str:
    old_reading = ""
    if RESULTS.exists():
        text = RESULTS.read_text()
        if READING_START in text and READING_END in text:
            old_reading = text.split(READING_START, 1)[1].split(READING_END, 1)[0].strip("\n")
    lines = [
        "# Patrol-alarm sweep benchmark",
        "",
        'Generated by `bench/patrol_sweep.py` for issue 3 ("Performance"). Target: the alarm sweep '
        "over 100,000 sources with 2,000,000 patrols on PostgreSQL in under 2 s, with Python memory "
        "that does not grow with the number of sources, shown next to the bare SQL query that finds "
        "the overdue sources.",
        "",
        f"- Date: {meta['date']}",
        f"- Git commit: `{meta['commit']}`"
        + (
            " (other tracked files had uncommitted changes; the sweep's code — "
            "`inspections/services.py`, `inspections/models.py`, `grids/selectors.py`, "
            "`grids/models.py` — was as committed)"
            if meta["dirty"] and not meta["sweep_code_dirty"]
            else " (**the sweep's code had uncommitted changes**)"
            if meta["sweep_code_dirty"]
            else ""
        ),
        f"- Machine: {meta['nproc']} CPU cores (`nproc`), {meta['mem']} RAM, {meta['platform']}",
        f"- PostgreSQL {meta['pg_version']}, local, default configuration (shared_buffers {meta['shared_buffers']}); "
        f"Python {meta['python']}, Django {meta['django']}",
        f"- Load: the machine was shared with other sessions running test suites; 1-minute load average "
        f"{meta['load']} while measuring (2 cores), so wall times are noisy and are upper bounds.",
        f"- Command: `{meta['command']}`",
        f"- Every statement ran under `statement_timeout = {meta['timeout']} s`; a sweep that hits it is "
        "rolled back and reported as failed.",
        f"- Wall time of the whole benchmark: {meta['total_minutes']:.1f} min",
        "",
        "The sweep measured (**as committed**) is `inspections.services.patrol_alarms_sweep` as it "
        "is in the commit above. It runs with two states of the alarm table's planner statistics: "
        "**history** — "
        + STATS["history"]
        + "; **recent** — "
        + STATS["recent"]
        + ". The timed sweeps themselves "
        "always start from an empty alarm table.",
        "",
        "## Reading",
        "",
        READING_START,
        old_reading or "(to be written after a run)",
        READING_END,
        "",
        "## Data",
        "",
        "All sources active, spread at random over the 4,078 village grids of the Linyi tree "
        "(`grids.demo.demo_city_seed`: 4,260 grids, 300 users). Tiers exactly 2 % national, 5 % "
        "provincial, 3 % safety-key, 20 % city, 20 % county, 50 % other; the first three (10 %) "
        "online-monitored; confirmed within two years; 2 % tightened, 1 % with a follow-up due; 1 % "
        "never patrolled, 12 % with the last on-site patrol past the interval, the rest within it; "
        "10 % of the monitored sources last checked online 2–10 days ago. On-site patrols go back a "
        "year at the tier's rhythm; online checks take the rest of the patrol budget (daily, going "
        "back from the last one). `last_patrol_at` / `last_online_check_at` set from the patrols by "
        "one UPDATE, then `source_schedule_refresh()`, then VACUUM ANALYZE.",
        "",
        "| sources | online-monitored | patrols (of which online checks) | overdue on site | overdue online | never patrolled | size: sources / patrols (with indexes) |",
        "|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        f = r["fill"]
        lines.append(
            f"| {f['sources']:,} | {f['online_sources']:,} | {f['patrols']:,} ({f['online_checks']:,}) | "
            f"{f['overdue_on_site']:,} | {f['overdue_online']:,} | {f['never_patrolled']:,} | "
            f"{f['size_sources']} / {f['size_patrols']} |"
        )
    lines += [
        "",
        f"Fill times (set-based SQL; the grid tree before them: {meta['seed_seconds']:.1f} s):",
        "",
    ]
    steps = list(results[0]["fill"]["timings"])
    lines.append("| sources | " + " | ".join(steps) + " |")
    lines.append("|---:|" + "---:|" * len(steps))
    for r in results:
        t = r["fill"]["timings"]
        lines.append(
            f"| {r['fill']['sources']:,} | " + " | ".join(f"{t[x]:.2f} s" for x in steps) + " |"
        )
    lines += [
        "",
        "## Figures",
        "",
        f"Wall-clock times from Python (`time.perf_counter`), best of {meta['runs']} in bold, every run "
        "in brackets. The bare query fetches the ids into Python. Each timed sweep starts from an "
        "empty alarm table (alarms truncated, patrol-alarm notifications deleted); the next run "
        "comes an hour later on the table the last one left, and must raise and tell nothing. "
        "CPU: this Python process, and the PostgreSQL backend serving it (from /proc/<pid>/stat). "
        "Load: the 1-minute load average of the 2-core machine when the measuring process started "
        "and ended.",
        "",
        "### Bare query that finds the overdue sources",
        "",
        "| sources | on site: time (rows) | online: time (rows) |",
        "|---:|---|---|",
    ]
    for r in results:
        bo, bl = r["measure"]["bare"]["on site"], r["measure"]["bare"]["online"]
        lines.append(
            f"| {r['fill']['sources']:,} | {_runs(bo['times'])} ({bo['rows']:,}) | {_runs(bl['times'])} ({bl['rows']:,}) |"
        )
    lines += [
        "",
        "### Sweep",
        "",
        "| sources | load | variant | sweep on a fresh alarm table: wall | CPU per run: Python + PostgreSQL backend | raised / notified | next run an hour later: wall, backend CPU (raised / notified) | same result as |",
        "|---:|---|---|---|---|---|---|---|",
    ]
    for r in results:
        prints = {name: v.get("fingerprint") for name, v in r["measure"]["variants"].items()}
        for name, v in r["measure"]["variants"].items():
            times = [x["seconds"] for x in v["runs"]]
            if times:
                sweep = _runs(times)
                res = v["runs"][-1]["result"]
                raised = f"{res['raised']:,} / {res['notified']:,}"
            else:
                sweep, raised = "", "—"
            if v["error"]:
                sweep += (
                    "; then " if sweep else ""
                ) + f"**did not finish**: {v['error']} ({meta['timeout']} s)"
            second = (
                f"{_fmt_s(v['second']['seconds'])}, {_fmt_s(v['second']['backend_cpu'])} "
                f"({v['second']['result']['raised']} / {v['second']['result']['notified']})"
                if v["second"]
                else "—"
            )
            load = f"{r['measure']['loadavg_start'][0]:.1f} → {r['measure']['loadavg_end'][0]:.1f}"
            same = [
                o.split(":")[0]
                for o, fp in prints.items()
                if o != name and fp and fp == v.get("fingerprint")
            ]
            lines.append(
                f"| {r['fill']['sources']:,} | {load} | {name.split(':')[0]} | {sweep} | {_cpu(v['runs'])} | "
                f"{raised} | {second} | {', '.join(same) or '—'} |"
            )
    lines += [
        "",
        '"Same result as": identical digest of every alarm and patrol-alarm notification (ids left '
        "out) after the memory run and the later sweep.",
        "",
        "### Time outside the statements",
        "",
        "One more sweep on a fresh alarm table, inside an outer transaction: the sweep's own "
        "statements, then `SET CONSTRAINTS ALL IMMEDIATE`, which runs the foreign-key checks "
        "Django's DEFERRABLE INITIALLY DEFERRED constraints would otherwise run at commit (one per "
        "alarm and per inbox entry), then the commit itself (WAL flush).",
        "",
        "| sources | variant | statements | deferred foreign-key checks | commit | total wall | backend CPU |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        for name, v in r["measure"]["variants"].items():
            c = v.get("commit_split")
            if c:
                lines.append(
                    f"| {r['fill']['sources']:,} | {name.split(':')[0]} | {_fmt_s(c['sweep'])} | "
                    f"{_fmt_s(c['deferred_checks'])} | {_fmt_s(c['commit'])} | {_fmt_s(c['seconds'])} | "
                    f"{_fmt_s(c['backend_cpu'])} |"
                )
    lines += [
        "",
        "### Later sweep (escalation)",
        "",
        "Once per variant, `now` moved past the policy's escalation delay (4 days later): more sources "
        "overdue, every open alarm escalated and its grid principal told.",
        "",
        "| sources | variant | wall | CPU: Python + backend | raised / escalated / notified |",
        "|---:|---|---|---|---|",
    ]
    for r in results:
        for name, v in r["measure"]["variants"].items():
            lt = v.get("later")
            if lt:
                res = lt["result"]
                lines.append(
                    f"| {r['fill']['sources']:,} | {name.split(':')[0]} | {_fmt_s(lt['seconds'])} | {_cpu([lt])} | "
                    f"{res['raised']:,} / {res['escalated']:,} / {res['notified']:,} |"
                )
    lines += [
        "",
        "### Python memory of the sweep",
        "",
        "A fresh measuring process per size. tracemalloc peak: one extra sweep on an empty alarm table "
        "with tracemalloc on. ru_maxrss growth: the process's peak RSS after that sweep minus before it.",
        "",
        "| sources | variant | raised in that sweep | tracemalloc peak | ru_maxrss growth | process ru_maxrss before → after all sweeps |",
        "|---:|---|---:|---:|---:|---|",
    ]
    for r in results:
        m = r["measure"]
        for name, v in m["variants"].items():
            if "tracemalloc_peak_kib" not in v:
                continue
            lines.append(
                f"| {r['fill']['sources']:,} | {name.split(':')[0]} | {v['memory_run_result']['raised']:,} | "
                f"{v['tracemalloc_peak_kib']:,.0f} KiB | {v['rss_growth_during_sweep_mib']:.1f} MiB | "
                f"{m['rss_before_sweeps_mib']:.1f} → {m['rss_after_sweeps_mib']:.1f} MiB |"
            )
    lines += ["", "### Where the sweep's time goes (last timed run, statement by statement)", ""]
    for r in results:
        for name, v in r["measure"]["variants"].items():
            if not v.get("statements"):
                continue
            lines += [
                f"{r['fill']['sources']:,} sources, {name}:",
                "",
                "| statement | time | rows | error |",
                "|---|---:|---:|---|",
            ]
            for st in v["statements"]:
                rows = "" if st["rowcount"] is None else st["rowcount"]
                lines.append(
                    f"| {st['label']} | {_fmt_s(st['seconds'])} | {rows} | {st['error'] or ''} |"
                )
            lines.append("")
            if v.get("failed_statements") and v["failed_statements"] != v["statements"]:
                lines += [
                    f"The sweep that failed ({v['error']}):",
                    "",
                    "| statement | time | rows | error |",
                    "|---|---:|---:|---|",
                ]
                for st in v["failed_statements"]:
                    rows = "" if st["rowcount"] is None else st["rowcount"]
                    lines.append(
                        f"| {st['label']} | {_fmt_s(st['seconds'])} | {rows} | {st['error'] or ''} |"
                    )
                lines.append("")
    full = next((r for r in results if r["fill"]["sources"] == target_sources), results[-1])
    for name, v in full["measure"]["variants"].items():
        if v.get("later_statements"):
            lines += [
                f"Later sweep, {full['fill']['sources']:,} sources, {name}:",
                "",
                "| statement | time | rows |",
                "|---|---:|---:|",
            ]
            for st in v["later_statements"]:
                rows = "" if st["rowcount"] is None else st["rowcount"]
                lines.append(f"| {st['label']} | {_fmt_s(st['seconds'])} | {rows} |")
            lines.append("")
    m = full["measure"]
    lines += [
        f"## EXPLAIN plans at {full['fill']['sources']:,} sources",
        "",
        "The sweep's statements were captured with `connection.execute_wrapper` during the last "
        "timed run and replayed in order under EXPLAIN (ANALYZE, BUFFERS) on an empty alarm table, "
        "in a transaction rolled back afterwards. A statement that had hit the timeout gets a plain "
        "EXPLAIN. Parameters are shown as `%s` placeholders.",
        "",
    ]
    for name, b in m["bare"].items():
        lines += [
            f"### Bare overdue query, {name}",
            "",
            "```sql",
            b["sql"],
            "```",
            "",
            "```",
            b["plan"],
            "```",
            "",
        ]
    for name, v in m["variants"].items():
        plans = [(p, "") for p in v.get("plans", [])] + [
            (p, " (later sweep)") for p in v.get("later_plans", [])
        ]
        for p, when in plans:
            how = (
                "EXPLAIN (ANALYZE, BUFFERS)"
                if p["analyzed"]
                else (f"plain EXPLAIN; it did not finish under ANALYZE ({p.get('error', '')})")
            )
            lines += [
                f"### {name.split(':')[0]}{when} — {p['label']} — {how}",
                "",
                "```sql",
                p["sql"],
                "```",
                "",
                "```",
                p["plan"],
                "```",
                "",
            ]
    return "\n".join(lines) + "\n"


# --- main --------------------------------------------------------------------------------------


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=100_000)
    parser.add_argument("--patrols", type=int, default=2_000_000)
    parser.add_argument(
        "--scales",
        default="10000,50000",
        help="smaller source counts also measured (patrols in proportion); '' for none",
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=int, default=30, help="statement_timeout in seconds")
    parser.add_argument(
        "--variants",
        default="committed",
        help="sweeps to measure: committed (inspections.services.patrol_alarms_sweep as it is)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the benchmark database a --keep run left (its grid tree, and its sources and "
        "patrols when they are of the last size filled; the sweep then runs at that fill's time); "
        "implies --keep",
    )
    parser.add_argument(
        "--fill-only", action="store_true", help="fill (or reuse) the data, measure nothing"
    )
    parser.add_argument(
        "--settle",
        type=int,
        default=0,
        help="before measuring each size, wait up to this many seconds for the 1-minute load "
        "average to fall below 1 (the fill itself loads the machine)",
    )
    parser.add_argument("--no-write", action="store_true", help="do not write the results file")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # child: JSON options
    args = parser.parse_args()

    if args.measure:
        opts = json.loads(args.measure)
        out = measure(
            now=datetime.fromisoformat(opts["now"]),
            runs=opts["runs"],
            timeout=opts["timeout"],
            variants=opts["variants"],
            explain=opts["explain"],
        )
        Path(opts["out"]).write_text(json.dumps(out, default=str))
        return

    started = time.perf_counter()
    db = _db_params()
    args.keep = args.keep or args.reuse or args.fill_only
    reuse = args.reuse and db_exists()
    if reuse:
        print(f"Reusing database {db['dbname']} …", flush=True)
    else:
        print(f"Recreating database {db['dbname']} …", flush=True)
        db_recreate()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    try:
        t = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"  migrate: {time.perf_counter() - t:.1f} s", flush=True)
        seed_seconds = meta_get("seed_seconds") if reuse else None
        if seed_seconds is None:
            t = time.perf_counter()
            counts = grid_tree_seed()
            seed_seconds = time.perf_counter() - t
            meta_set("seed_seconds", seed_seconds)
            meta_set("fill", None)
            print(f"  grid tree: {seed_seconds:.1f} s {counts}", flush=True)

        now = timezone.now().replace(microsecond=0)
        variants = [v.strip() for v in args.variants.split(",") if v.strip()]
        if unknown := set(variants) - set(VARIANTS):
            sys.exit(f"Unknown variants: {sorted(unknown)}")
        sizes = [int(s) for s in args.scales.split(",") if s.strip()]
        sizes = sorted({s for s in sizes if s < args.sources}) + [args.sources]
        results = []
        for n in sizes:
            patrols = args.patrols if n == args.sources else round(args.patrols * n / args.sources)
            stored = meta_get("fill") if reuse else None
            if stored and (stored["sources"], stored["patrols_asked"]) == (n, patrols):
                fill, n_now = stored["fill"], datetime.fromisoformat(stored["now"])
                print(
                    f"Reusing the fill of {n:,} sources / {patrols:,} patrols made {n_now}",
                    flush=True,
                )
            else:
                print(f"Filling {n:,} sources / {patrols:,} patrols …", flush=True)
                n_now = now
                meta_set("fill", None)
                fill = sources_and_patrols_fill(sources=n, patrols=patrols, now=n_now)
                meta_set(
                    "fill",
                    {
                        "sources": n,
                        "patrols_asked": patrols,
                        "now": n_now.isoformat(),
                        "fill": fill,
                    },
                )
            connection.close()
            if args.fill_only:
                continue
            out_file = ROOT / "var" / f"bench_patrol_sweep_{n}.json"
            out_file.parent.mkdir(exist_ok=True)
            opts = {
                "now": n_now.isoformat(),
                "runs": args.runs,
                "timeout": args.timeout,
                "variants": variants,
                "explain": n == args.sources,
                "out": str(out_file),
            }
            waited = time.perf_counter()
            while os.getloadavg()[0] >= 1 and time.perf_counter() - waited < args.settle:
                time.sleep(5)
            print(
                f"Measuring {n:,} sources in a fresh process (load {os.getloadavg()[0]:.2f}) …",
                flush=True,
            )
            subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--measure", json.dumps(opts)],
                check=True,
                env=os.environ.copy(),
            )
            results.append({"fill": fill, "measure": json.loads(out_file.read_text())})
            if not args.keep:
                out_file.unlink()

        if args.fill_only:
            return
        with connection.cursor() as cur:
            cur.execute("SHOW server_version")
            pg_version = cur.fetchone()[0]
            cur.execute("SHOW shared_buffers")
            shared_buffers = cur.fetchone()[0]
        loads = [
            x
            for r in results
            for x in (r["measure"]["loadavg_start"][0], r["measure"]["loadavg_end"][0])
        ]
        meta = {
            "date": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            "commit": _git("rev-parse", "--short", "HEAD"),
            "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
            "sweep_code_dirty": bool(
                _git(
                    "status",
                    "--porcelain",
                    "--",
                    "inspections/services.py",
                    "inspections/models.py",
                    "grids/selectors.py",
                    "grids/models.py",
                )
            ),
            "nproc": subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip(),
            "mem": f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB",
            "platform": platform.platform(),
            "pg_version": pg_version,
            "shared_buffers": shared_buffers,
            "load": f"{min(loads):.1f}–{max(loads):.1f}",
            "python": platform.python_version(),
            "django": django.get_version(),
            "command": "DATABASE_URL=postgres://…/"
            + db["dbname"]
            + " .venv/bin/python bench/patrol_sweep.py "
            + " ".join(sys.argv[1:]),
            "timeout": args.timeout,
            "runs": args.runs,
            "seed_seconds": seed_seconds,
            "total_minutes": (time.perf_counter() - started) / 60,
        }
        if not args.no_write:
            RESULTS.parent.mkdir(parents=True, exist_ok=True)
            RESULTS.write_text(report(results=results, meta=meta, target_sources=args.sources))
            print(f"Wrote {RESULTS.relative_to(ROOT)}")
    finally:
        if not args.keep:
            db_drop()
            print(f"Dropped database {db['dbname']}.")
    print(f"Done in {(time.perf_counter() - started) / 60:.1f} min.")


if __name__ == "__main__":
    main()
