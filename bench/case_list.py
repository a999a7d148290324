#!/usr/bin/env python
"""Benchmark of the scoped case list (issue 4, "Performance") on PostgreSQL.

    .venv/bin/python bench/case_list.py [--head] [--keep] [--runs 20]

Uses the bench database and fill of ``bench/case_deadlines.py`` (1,000,000 cases; made if
missing, reused if a run with ``--keep`` left it). The ``county_officer`` demo user holds a role
on 兰山区 (371302000000) only, so ``GET /api/v1/cases/?status=…`` shows that county's subtree.
For each status filter (several open states of different sizes, a closed one that holds most of
the table, and none) the benchmark measures:

* the queries of the first page of 50 and of the page its ``next`` cursor names (Django's test
  client in this process with ``CaptureQueriesContext``): how many, and that none is a COUNT;
* the time of the first page through the whole Django stack in this process (test client,
  bearer token, DEBUG off), and over HTTP from gunicorn (two sync workers, production settings,
  one request at a time over loopback);
* the bare SQL of the same page: the list query the ORM sent, re-run as is on a psycopg2
  connection, and its EXPLAIN (ANALYZE, BUFFERS), with the indexes it uses.

Best of ``--runs`` for each. Results: the "Scoped case list" section of bench/results/cases.md.
The database is dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import case_deadlines as shared  # noqa: E402 - the shared fill and reporting helpers

COUNTY = "371302000000"  # 兰山区
STATUSES = ["handling", "fed_back", "collected", "suspended", "evaluated", None]


def scope_facts() -> dict:
    """How many cases the county officer sees, by status, and the county's share of leaves."""
    from django.db import connection

    from grids.models import Grid

    county = Grid.objects.get(code=COUNTY)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.status, count(*) FROM cases_case c JOIN grids_grid g ON g.id = c.grid_id"
            " WHERE g.tree_id = %s AND g.lft >= %s AND g.rght <= %s GROUP BY 1 ORDER BY 2 DESC",
            [county.tree_id, county.lft, county.rght],
        )
        by_status = dict(cur.fetchall())
        cur.execute("SELECT status, count(*) FROM cases_case GROUP BY 1")
        city = dict(cur.fetchall())
        cur.execute(
            "SELECT count(*) FROM grids_grid WHERE tree_id = %s AND lft >= %s AND rght <= %s",
            [county.tree_id, county.lft, county.rght],
        )
        grids = cur.fetchone()[0]
    return {"county": county.name, "grids": grids, "by_status": by_status, "city": city}


def path_for(status: str | None) -> str:
    return "/api/v1/cases/" + (f"?status={status}" if status else "")


def in_process(token: str, status: str | None, runs: int) -> dict:
    """Queries and times of the first page and of the next page, in this process."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1", headers={"Authorization": f"Bearer {token}"})
    path = path_for(status)
    client.get(path)  # warm
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    first_queries = [q["sql"] for q in ctx.captured_queries]
    next_url = body.get("next")
    next_queries: list[str] = []
    next_rows = 0
    if next_url:
        parts = urlsplit(next_url)
        next_path = f"{parts.path}?{parts.query}"
        with CaptureQueriesContext(connection) as ctx:
            page = client.get(next_path)
        assert page.status_code == 200
        next_queries = [q["sql"] for q in ctx.captured_queries]
        next_rows = len(page.json()["results"])
    # a page of 200 (the maximum): the same number of queries?
    with CaptureQueriesContext(connection) as ctx:
        big = client.get(path + ("&" if status else "?") + "page_size=200")
    assert big.status_code == 200
    # read now: the next request clears the connection's query log
    big_queries = len(ctx.captured_queries)
    times, next_times = [], []
    for _ in range(runs):
        started = time.perf_counter()
        client.get(path)
        times.append(time.perf_counter() - started)
    if next_url:
        for _ in range(runs):
            started = time.perf_counter()
            client.get(next_path)
            next_times.append(time.perf_counter() - started)
    return {
        "rows": len(body["results"]),
        "keys": sorted(body.keys()),
        "first_queries": first_queries,
        "next_queries": next_queries,
        "next_rows": next_rows,
        "big_queries": big_queries,
        "big_rows": len(big.json()["results"]),
        "times": times,
        "next_times": next_times,
        "counts": [q for q in first_queries + next_queries if re.search(r"\bCOUNT\(", q, re.I)],
    }


def layers(status: str | None, runs: int) -> dict:
    """The page's parts apart, in this process: the ORM (the list query and 51 model objects
    with their grid, category and department) and the serializer (50 rows to Python data)."""
    from cases import selectors
    from cases.api.serializers import CaseSerializer
    from core.models import User

    user = User.objects.get(username="county_officer")
    orm, serializer = [], []
    for _ in range(runs):
        qs = selectors.case_list(user=user, status=status).order_by("-reported_at", "-id")
        started = time.perf_counter()
        rows = list(qs[:51])
        orm.append(time.perf_counter() - started)
        started = time.perf_counter()
        CaseSerializer(rows[:50], many=True).data  # noqa: B018 - evaluated for its cost
        serializer.append(time.perf_counter() - started)
    return {"orm": orm, "serializer": serializer}


def list_query(queries: list[str]) -> str:
    """The page's own query: the SELECT from cases_case with the LIMIT."""
    for sql in queries:
        if 'FROM "cases_case"' in sql and "LIMIT" in sql:
            return sql
    raise AssertionError("no list query among: " + " / ".join(q[:80] for q in queries))


def bare(sql: str, runs: int) -> tuple[list[float], int]:
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    times = []
    rows = 0
    for _ in range(runs + 1):
        with raw.cursor() as cur:
            started = time.perf_counter()
            cur.execute(sql)
            rows = len(cur.fetchall())
            times.append(time.perf_counter() - started)
    return times[1:], rows


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(row[0] for row in cur.fetchall())


def over_http(server, token: str, status: str | None, runs: int) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    server.request("GET", path_for(status), headers=headers)  # warm both workers
    server.request("GET", path_for(status), headers=headers)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        code, _data, _h = server.request("GET", path_for(status), headers=headers)
        times.append(time.perf_counter() - started)
        assert code == 200, code
    return times


def section(results: dict, header: list[str], command: str, runs: int) -> list[str]:
    facts = results["facts"]
    seen = sum(facts["by_status"].values())
    lines = [
        *header,
        f"- Command: `{command}`",
        "",
        f"The `county_officer` demo user sees {facts['county']} ({COUNTY}, {facts['grids']:,}"
        f" grids): {seen:,} of the 1,000,000 cases. First page of 50, newest first"
        ' (`CasePagination`: a cursor on `-reported_at, -id`, no COUNT). "Django" is the'
        " request through the whole stack in this process (test client, bearer token, DEBUG"
        ' off); "HTTP" is a request to gunicorn (`-w 2`, production settings) over loopback,'
        ' one at a time; "bare SQL" is the list query the ORM sent, re-run as is on a psycopg2'
        " connection; the ORM and serializer columns time those two parts of the page alone, in"
        f" this process. Best of {runs}; the target is 50 ms.",
        "",
        "| status filter | cases in the county (city) | queries: page 1 / next page / page of"
        " 200 | COUNT? | HTTP | Django | of which ORM (the list query, 51 objects) | of which"
        " serializer (50 rows) | bare SQL | next page (Django) | indexes the page query uses |",
        "|---|---:|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        status = r["status"] or "(none)"
        in_county = facts["by_status"].get(r["status"], 0) if r["status"] else seen
        in_city = facts["city"].get(r["status"], 0) if r["status"] else sum(facts["city"].values())
        p = r["process"]
        lines.append(
            f"| {status} | {in_county:,} ({in_city:,}) | {len(p['first_queries'])} /"
            f" {len(p['next_queries']) or '–'} / {p['big_queries']} |"
            f" {'yes' if p['counts'] else 'no'} | {shared.runs_cell(r['http'])} |"
            f" {shared.runs_cell(p['times'])} | {shared.runs_cell(r['layers']['orm'])} |"
            f" {shared.runs_cell(r['layers']['serializer'])} | {shared.runs_cell(r['bare'])} |"
            f" {shared.runs_cell(p['next_times']) if p['next_times'] else '–'} |"
            f" {', '.join(r['indexes']) or 'none'} |"
        )
    first = results["rows"][0]["process"]
    lines += [
        "",
        f"The queries of a first page (status `{results['rows'][0]['status']}`):",
        "",
    ]
    for i, sql in enumerate(first["first_queries"]):
        flat = " ".join(sql.split())
        if len(flat) > 400:
            flat = flat[:399] + "…"
        lines.append(f"{i + 1}. `{flat}`")
    lines += [""]
    for r in results["rows"]:
        lines += [
            f"### EXPLAIN (ANALYZE, BUFFERS), status {r['status'] or '(none)'}",
            "",
            "```",
            *shared.plan_excerpt(r["explain"], 40),
            "```",
            "",
        ]
    return lines


def indexes_in(plan: str) -> list[str]:
    return sorted(set(re.findall(r"(?:Index|Index Only) Scan(?: Backward)? using (\S+)", plan)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--head", action="store_true", help="run the committed project (HEAD)")
    args = parser.parse_args()

    load = os.getloadavg()[0]
    url = shared.database_url()
    src = shared.source_tree(args.head)
    shared.WORK.mkdir(parents=True, exist_ok=True)
    shared.database_prepare(src=src, url=url, sizes=dict(shared.FILL))
    from case_intake import Gunicorn

    results: dict = {"rows": []}
    try:
        from core.models import ApiToken

        results["facts"] = scope_facts()
        server = Gunicorn(src=src, url=url)
        try:
            token = server.token("county_officer")
            for status in STATUSES:
                process = in_process(token, status, args.runs)
                sql = list_query(process["first_queries"])
                bare_times, rows = bare(sql, args.runs)
                assert rows == 51 or rows == process["rows"] or rows == process["rows"] + 1
                plan = explain(sql)
                http_times = over_http(server, token, status, args.runs)
                parts = layers(status, args.runs)
                results["rows"].append(
                    {
                        "status": status,
                        "process": process,
                        "bare": bare_times,
                        "http": http_times,
                        "explain": plan,
                        "indexes": indexes_in(plan),
                        "sql": sql,
                        "layers": parts,
                    }
                )
                print(
                    f"  status {status}: {len(process['first_queries'])} queries,"
                    f" Django {shared.ms(min(process['times']))}, HTTP {shared.ms(min(http_times))},"
                    f" bare {shared.ms(min(bare_times))}; {indexes_in(plan)}",
                    flush=True,
                )
        finally:
            server.stop()
        ApiToken.objects.all().delete()
        header = shared.run_header(src=src, started_load=load, runs=args.runs)
        command = "bench/case_list.py " + " ".join(sys.argv[1:])
        shared.results_update("list", section(results, header, command.strip(), args.runs))
        (shared.WORK / "case_list.json").write_text(json.dumps(results, default=str, indent=1))
        print(f"Written to {shared.RESULTS.relative_to(shared.ROOT)}")
    finally:
        if not args.keep:
            shared.database_drop(url)


if __name__ == "__main__":
    main()
