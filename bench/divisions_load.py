"""Time loading Linyi's 4,249 division rows into an empty database, on SQLite and PostgreSQL.

    .venv/bin/python bench/divisions_load.py                  # SQLite only
    DATABASE_URL=postgres://user:pw@host/db .venv/bin/python bench/divisions_load.py

Each run loads ``data/divisions/linyi.csv`` through ``grids.services.divisions_load`` (what
``manage.py load_divisions`` calls) into a fresh database that has only been migrated: a copy of
a migrated SQLite file, or a PostgreSQL database created from a migrated template (the role in
DATABASE_URL needs CREATEDB; the database it names is not touched). Every run is a separate
process with DEBUG off. The best of the runs counts. Results go to
``bench/results/divisions_load.md``; the files of the runs to ``bench/results/tmp/`` (ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
CSV = ROOT / "data" / "divisions" / "linyi.csv"
RESULTS = ROOT / "bench" / "results"
WORK = RESULTS / "tmp"


def measure_once() -> dict:
    """In a child process: load the file once into the (empty) database the settings name."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from grids import services
    from grids.divisions import divisions_parse_bytes
    from grids.models import Grid

    assert not Grid.objects.exists(), "the database must start empty"
    started = time.perf_counter()
    rows = divisions_parse_bytes(CSV.read_bytes())
    parsed = time.perf_counter()
    result = services.divisions_load(rows=rows, actor=None)
    loaded = time.perf_counter()
    assert Grid.objects.count() == result.created
    return {
        "rows": len(rows),
        "created": result.created,
        "skipped": len(result.skipped),
        "parse_s": parsed - started,
        "load_s": loaded - parsed,
    }


def child_env(database_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="gridsup.settings.local",
        DEBUG="false",  # DEBUG would record every query and slow the load down
        DATABASE_URL=database_url,
        GRIDSUP_VAR_DIR=str(WORK / "var"),
    )
    return env


def migrate(database_url: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=child_env(database_url),
        check=True,
    )


def run_once(database_url: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--one"],
        cwd=ROOT,
        env=child_env(database_url),
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_sqlite(runs: int) -> dict:
    template = WORK / "template.sqlite3"
    template.unlink(missing_ok=True)
    migrate(f"sqlite:///{template}")
    measured = []
    for n in range(runs):
        db = WORK / "run.sqlite3"
        shutil.copyfile(template, db)
        measured.append(run_once(f"sqlite:///{db}"))
        db.unlink()
        print(f"  SQLite run {n + 1}: {measured[-1]['load_s']:.2f} s", flush=True)
    template.unlink()
    return {"database": f"SQLite {sqlite3.sqlite_version}", "runs": measured}


def bench_postgres(base_url: str, runs: int) -> dict:
    import psycopg2

    parts = urlsplit(base_url)

    def url_for(name: str) -> str:
        return urlunsplit(parts._replace(path=f"/{name}"))

    admin = psycopg2.connect(url_for("postgres"))
    admin.autocommit = True
    template, scratch = "gridsup_bench_template", "gridsup_bench_run"
    with admin.cursor() as cur:
        cur.execute("SHOW server_version")
        version = cur.fetchone()[0].split()[0]
        for name in (scratch, template):
            cur.execute(f"DROP DATABASE IF EXISTS {name}")
        cur.execute(f"CREATE DATABASE {template}")
    migrate(url_for(template))
    measured = []
    try:
        for n in range(runs):
            with admin.cursor() as cur:
                cur.execute(f"CREATE DATABASE {scratch} TEMPLATE {template}")
            try:
                measured.append(run_once(url_for(scratch)))
            finally:
                with admin.cursor() as cur:
                    cur.execute(f"DROP DATABASE IF EXISTS {scratch}")
            print(f"  PostgreSQL run {n + 1}: {measured[-1]['load_s']:.2f} s", flush=True)
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {template}")
        admin.close()
    return {"database": f"PostgreSQL {version}", "runs": measured}


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


def report(results: list[dict], runs: int, load_before: float) -> str:
    commit = git("rev-parse", "--short", "HEAD")
    if git("status", "--porcelain", "--untracked-files=no"):
        commit += " (with uncommitted changes)"
    first = results[0]["runs"][0]
    lines = [
        "# Loading Linyi's divisions",
        "",
        f"`bench/divisions_load.py`: `data/divisions/linyi.csv` ({first['rows']:,} rows, city →",
        "village) through `grids.services.divisions_load` into an empty, freshly migrated",
        f"database; each run in a new database and a new process, DEBUG off; best of {runs}.",
        "Parsing the CSV is timed apart from the load.",
        "",
        f"- date: {date.today().isoformat()}",
        f"- commit: {commit}",
        f"- machine: {os.cpu_count()} cores ({cpu_model()}), Python {platform.python_version()}",
        f"- load average when the benchmark started: {load_before:.2f} (other work on the machine"
        " slows the figures down)",
        "",
        "| database | best load | all runs | parse | grids created | placeholders skipped |",
        "|---|---|---|---|---|---|",
    ]
    for result in results:
        loads = [r["load_s"] for r in result["runs"]]
        best = min(result["runs"], key=lambda r: r["load_s"])
        lines.append(
            f"| {result['database']} | {best['load_s']:.2f} s"
            f" | {' / '.join(f'{s:.2f}' for s in loads)} s"
            f" | {best['parse_s']:.3f} s | {best['created']:,} | {best['skipped']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per database (default 3)")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_once()))
        return

    WORK.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    print("SQLite", flush=True)
    results = [bench_sqlite(args.runs)]
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith(("postgres://", "postgresql://")):
        print("PostgreSQL", flush=True)
        results.append(bench_postgres(database_url, args.runs))
    else:
        print("PostgreSQL skipped: DATABASE_URL does not name a PostgreSQL database", flush=True)
    text = report(results, args.runs, load_before)
    (RESULTS / "divisions_load.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
