#!/usr/bin/env python
"""Benchmark of case intake through the API (issue 4, "Performance"): gunicorn, PostgreSQL.

    .venv/bin/python bench/case_intake.py [--head] [--keep] [--requests 600 --runs 3]

Uses the bench database and fill of ``bench/case_deadlines.py`` (1,000,000 cases; made if
missing, reused if a run with ``--keep`` left it). Starts gunicorn on 127.0.0.1 (a free port)
with the production settings (``gridsup.settings.production``: DEBUG off, a SECRET_KEY,
ALLOWED_HOSTS=127.0.0.1, SECURE_SSL_REDIRECT=false, DATABASE_URL = the bench database,
REDIS_URL = a redis-server of its own, as the throttle's shared cache) and ``--workers`` sync
workers, gets a bearer token for the ``platform`` demo user from
``POST /api/v1/auth/token/``, and posts cases to ``POST /api/v1/cases/`` over loopback from a
bounded load generator: wrk (``--generator wrk``, the default when the Debian package ``wrk``
is installed; ``--threads`` connections for ``--seconds`` per run after 2 s unmeasured, the
bodies written into a Lua script), or ``--threads`` threads of this process with
``http.client`` (``--generator python``; ``--requests`` per run after ``--warmup``
unmeasured ones). Both share the server's two cores; wrk takes about a tenth of the CPU per
request. Every request has its own ``Idempotency-Key`` and ``external_id``. Each body is what the
city-management platform sends: channel ``platform``, a category (the nine ordinary ones in
turn), a description, an address and a GPS point inside a leaf grid (the grid is located from
it), or the grid's code instead. The idempotency table holds the platform's keys of the last
48 hours (50,000, ``idempotency_history``), as in service. gunicorn starts in the project's
directory and so reads its ``gunicorn.conf.py``, as deployed: each worker reads the grid
outlines ahead when it starts. The CPU the gunicorn workers and
the PostgreSQL backends used during each run is read from /proc, per request.

Configurations, each in its own gunicorn, best of ``--runs``: the application as configured
with a GPS point, and with the grid code; and the floor, ``floor_app()`` below: an empty DRF
view behind the same middleware, token authentication and intake throttle, parsing the same
body. The intake throttle as configured is checked in this process against Redis (how many
intake requests of the platform one window lets through).

The bare-SQL floor, from one connection in this process: a single-row ``INSERT`` into
``cases_case`` per transaction, and the rows one intake writes (the idempotency claim, the
case, its event, its four timers, the idempotency answer) as bare SQL in its one
transaction. Every query of one intake is listed (Django's test client in this process with
``CaptureQueriesContext``). The cases the benchmark posts are deleted at the end, so the fill
is as it was. Results: the "Intake" section of bench/results/cases.md. The database is dropped
at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import case_deadlines as shared  # noqa: E402 - the shared fill and reporting helpers

CATEGORIES = [
    "dust",
    "open_burning",
    "coal_stove",
    "black_smoke",
    "odour",
    "wastewater",
    "new_source",
    "online_anomaly",
    "complaint",
]
MARK = "BENCHINTAKE"  # external_id prefix of the cases this benchmark posts


# --- gunicorn (shared with case_list.py) -------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process, from /proc; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_pids(server: Gunicorn, redis: Redis | None = None) -> dict[str, list[int]]:
    """gunicorn's workers, the PostgreSQL backends of the bench database (but this
    process's own) and redis-server, so that their CPU can be counted."""
    from django.db import connection

    master = server.process.pid
    try:
        workers = [
            int(x) for x in Path(f"/proc/{master}/task/{master}/children").read_text().split()
        ]
    except OSError:
        workers = []
    with connection.cursor() as cur:
        cur.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        backends = [row[0] for row in cur.fetchall()]
    return {
        "workers": workers,
        "backends": backends,
        "redis": [redis.process.pid] if redis else [],
        "generator": [os.getpid()],
    }


def machine_cpu() -> list[int]:
    """The machine's CPU time by kind (/proc/stat: user, nice, system, idle, iowait, irq,
    softirq, steal), in ticks."""
    with open("/proc/stat") as stat:
        return [int(x) for x in stat.readline().split()[1:9]]


def steal_share(before: list[int], after: list[int]) -> float:
    """The share of the time in between that the hypervisor gave the machine's cores to
    others (steal): a run with much of it had fewer than two cores."""
    spent = [b - a for a, b in zip(before, after, strict=True)]
    return spent[7] / (sum(spent) or 1)


def cpu_snapshot(pids: dict[str, list[int]]) -> dict[str, dict[int, float]]:
    return {kind: {pid: proc_cpu(pid) for pid in ids} for kind, ids in pids.items()}


def cpu_used(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds used between two snapshots, by the processes alive at both."""
    return {
        kind: sum(
            max(0.0, after[kind][pid] - cpu)
            for pid, cpu in before[kind].items()
            if after[kind].get(pid, 0.0) > 0
        )
        for kind in before
    }


class Redis:
    """A redis-server of the benchmark's own on a free port (no persistence), for the cache
    the throttle counts in, as in production (REDIS_URL)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"redis://127.0.0.1:{self.port}/0"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class Gunicorn:
    """gunicorn on 127.0.0.1 with the production settings on the bench database."""

    def __init__(
        self,
        *,
        src: Path,
        url: str,
        app: str = "gridsup.wsgi",
        workers: int = 2,
        redis_url: str = "",
    ):
        self.port = free_port()
        self.log = shared.WORK / f"gunicorn-{self.port}.log"
        env = shared.child_env(
            url,
            DJANGO_SETTINGS_MODULE="gridsup.settings.production",
            SECRET_KEY=secrets.token_urlsafe(40),
            ALLOWED_HOSTS="127.0.0.1",
            SECURE_SSL_REDIRECT="false",
            # connections kept through a run (the default is 60 s), so that the CPU of their
            # PostgreSQL backends can be counted; one reconnect a minute changes nothing else
            DB_CONN_MAX_AGE="3600",
        )
        if redis_url:  # the throttle's shared cache, as in production
            env["REDIS_URL"] = redis_url
        env.pop("DEBUG", None)
        env["PYTHONPATH"] = os.pathsep.join([str(src), str(Path(__file__).resolve().parent)])
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.command = [
            str(gunicorn),
            app,
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{self.port}",
            "--chdir",
            str(src),
            "--timeout",
            "60",
            "--error-logfile",
            str(self.log),
        ]
        self.app = app
        self.workers = workers
        self.src = src
        self.log.write_text("")
        # (appending: gunicorn writes its own lines to the same file, through its own handle)
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                self.command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=src
            )
        self._wait_ready()

    # what each worker of a project with ``gunicorn.conf.py`` logs once it has read the grid
    # outlines ahead, before its first request
    WARMED = "grid outlines kept ready"

    def _wait_ready(self, timeout: float = 120) -> None:
        """Until one worker answers and, where the project reads the outlines ahead
        (``gunicorn.conf.py``), every worker has done so: a worker still reading them would
        share the cores with the first measurements."""
        deadline = time.monotonic() + timeout
        warms = (self.src / "gunicorn.conf.py").exists()
        answered = False
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: see {self.log}")
            if not answered:
                try:
                    status, _body, _h = self.request("GET", "/api/v1/cases/")
                    answered = status in (401, 403)  # up, and asking for a token
                except OSError:
                    pass
            if answered and (
                not warms or self.log.read_text(errors="replace").count(self.WARMED) >= self.workers
            ):
                return
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"gunicorn was not ready within {timeout} s: see {self.log}")

    def request(self, method: str, path: str, body=None, headers=None, timeout: float = 60):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            payload = json.dumps(body).encode() if body is not None else None
            head = {"Accept": "application/json", **(headers or {})}
            if payload is not None:
                head["Content-Type"] = "application/json"
            conn.request(method, path, body=payload, headers=head)
            response = conn.getresponse()
            data = response.read()
            return response.status, data, dict(response.getheaders())
        finally:
            conn.close()

    def token(self, username: str) -> str:
        from django.conf import settings

        status, data, _h = self.request(
            "POST",
            "/api/v1/auth/token/",
            {"username": username, "password": settings.DEMO_PASSWORD},
        )
        if status != 201:
            raise RuntimeError(f"token for {username}: HTTP {status} {data[:200]!r}")
        return json.loads(data)["token"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class _FloorUrls:
    """The project's URLs plus ``POST /api/v1/bench/empty/``: a DRF view that does nothing
    but what every intake's view does before its own work (middleware, bearer-token
    authentication, permission, the intake's throttle scope, parsing the JSON body) and answers
    201 with a small body. Its rate is the floor the intake's rate is to be read against."""

    @staticmethod
    def patterns() -> list:
        from django.urls import include, path
        from rest_framework.response import Response
        from rest_framework.views import APIView

        class EmptyIntakeApi(APIView):
            machine_throttle_scopes = {"POST": "intake"}

            def post(self, request):
                return Response({"id": 0, "fields": len(request.data)}, status=201)

        return [
            path("api/v1/bench/empty/", EmptyIntakeApi.as_view()),
            path("", include("gridsup.urls")),
        ]


def floor_app():
    """The project's WSGI application with ``_FloorUrls`` as its URLconf (benchmark only:
    ``gunicorn 'case_intake:floor_app()'``)."""
    import django
    from django.conf import settings

    django.setup()
    _FloorUrls.urlpatterns = _FloorUrls.patterns()
    settings.ROOT_URLCONF = _FloorUrls
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


# --- the load ----------------------------------------------------------------------------------


def intake_points(limit: int = 2000) -> list[dict]:
    """Points inside leaf grids (the centre of the bounding box where the boundary covers it),
    with the grid's code, spread over the city."""
    from grids import geometry
    from grids.models import Grid

    out = []
    leaves = (
        Grid.objects.filter(boundary__isnull=False, rght=models_f("lft") + 1)
        .order_by("code")
        .values_list("code", "boundary", "min_lat", "max_lat", "min_lng", "max_lng")
    )
    for code, boundary, min_lat, max_lat, min_lng, max_lng in leaves:
        lat, lng = (min_lat + max_lat) / 2, (min_lng + max_lng) / 2
        if geometry.covers_point(boundary, lat=lat, lng=lng):
            out.append({"grid": code, "lat": round(lat, 6), "lng": round(lng, 6)})
    step = max(1, len(out) // limit)
    return out[::step][:limit]


def models_f(name: str):
    from django.db.models import F

    return F(name)


def body_for(n: int, run: str, points: list[dict], with_grid: bool) -> dict:
    point = points[(n * 7919) % len(points)]
    body = {
        "external_id": f"{MARK}-{run}-{n}",
        "channel": "platform",
        "category": CATEGORIES[n % len(CATEGORIES)],
        "description": f"数字城管平台转办：道路扬尘，渣土车未苫盖（基准 {n}）",
        "address": f"临沂市兰山区基准路{n % 997}号",
        "reporter_name": "市民",
        "reporter_phone": "13800000000",
    }
    if with_grid:
        body["grid"] = point["grid"]
    else:
        body["lat"], body["lng"] = point["lat"], point["lng"]
    return body


def load_run(
    server: Gunicorn,
    *,
    token: str,
    run: str,
    requests: int,
    threads: int,
    points: list[dict],
    with_grid: bool,
    path: str = "/api/v1/cases/",
) -> dict:
    """Post ``requests`` cases from ``threads`` threads; returns rate, latencies, statuses."""
    lock = threading.Lock()
    counter = iter(range(requests))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[str] = []

    def worker():
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
            started = time.perf_counter()
            try:
                status, data, _h = server.request(
                    "POST", path, body_for(n, run, points, with_grid), headers
                )
            except OSError as exc:
                status, data = 0, str(exc).encode()
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1
                if status not in (201, 429) and len(errors) < 5:
                    errors.append(f"{status}: {data[:300]!r}")

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))]

    return {
        "requests": requests,
        "wall": wall,
        "created_per_s": statuses.get(201, 0) / wall,
        "answered_per_s": requests / wall,
        "statuses": statuses,
        "p50": pct(50),
        "p90": pct(90),
        "p99": pct(99),
        "max": latencies[-1],
        "mean": statistics.fmean(latencies),
        "errors": errors,
    }


_WRK_SCRIPT = r"""
-- written by bench/case_intake.py: the bodies of body_for(), for a fixed time
local mark, run, token, path, nonce = %(mark)s, %(run)s, %(token)s, %(path)s, %(nonce)s
local with_grid = %(with_grid)s
local categories = {%(categories)s}
local points = {%(points)s}
local sent = 0
c201, cother, answered, others = 0, 0, 0, ""
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function request()
  local n = sent
  sent = sent + 1
  local p = points[((n * 7919) %% #points) + 1]
  local where
  if with_grid then
    where = string.format('"grid":"%%s"', p[1])
  else
    where = string.format('"lat":%%s,"lng":%%s', p[2], p[3])
  end
  local body = string.format(
    '{"external_id":"%%s-%%s-%%d","channel":"platform","category":"%%s",'
    .. '"description":"数字城管平台转办：道路扬尘，渣土车未苫盖（基准 %%d）",'
    .. '"address":"临沂市兰山区基准路%%d号","reporter_name":"市民",'
    .. '"reporter_phone":"13800000000",%%s}',
    mark, run, n, categories[(n %% #categories) + 1], n, n %% 997, where)
  local headers = {
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = string.format("%%s-%%s-%%s-%%d", mark, run, nonce, n),
  }
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  answered = answered + 1
  if status == 201 then
    c201 = c201 + 1
  else
    cother = cother + 1
    if #others < 200 then
      local said = string.gsub(string.sub(body, 1, 80), '[%%c"\\]', " ")
      others = others .. status .. " " .. said .. "; "
    end
  end
end

function done(summary, latency, requests)
  local t = threads[1]
  io.write(string.format(
    'WRK {"answered":%%d,"c201":%%d,"cother":%%d,"others":"%%s","duration_us":%%d,'
    .. '"p50":%%d,"p90":%%d,"p99":%%d,"max":%%d,"mean":%%f,"connect_errors":%%d,"read_errors":%%d}\n',
    t:get("answered"), t:get("c201"), t:get("cother"), t:get("others"), summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean, summary.errors.connect, summary.errors.read))
end
"""


def _lua(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def load_run_wrk(
    server: Gunicorn,
    *,
    token: str,
    run: str,
    seconds: float,
    threads: int,
    points: list[dict],
    with_grid: bool,
    path: str = "/api/v1/cases/",
) -> dict:
    """The same bodies as ``load_run``, sent by wrk for ``seconds`` (one event-loop thread,
    ``threads`` connections; a new connection per request, as gunicorn's sync workers close
    each one). wrk is written in C: it takes about a tenth of the CPU per request of the
    Python generator, which shares the server's two cores."""
    script = shared.WORK / f"wrk-{run}.lua"
    script.write_text(
        _WRK_SCRIPT
        % {
            "mark": _lua(MARK),
            "run": _lua(run),
            "token": _lua(token),
            "path": _lua(path),
            "nonce": _lua(secrets.token_hex(6)),
            "with_grid": "true" if with_grid else "false",
            "categories": ", ".join(_lua(c) for c in CATEGORIES),
            "points": ", ".join(
                f"{{{_lua(p['grid'])}, {_lua(str(p['lat']))}, {_lua(str(p['lng']))}}}"
                for p in points
            ),
        },
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [
            "wrk",
            "-t1",
            f"-c{threads}",
            f"-d{seconds}s",
            "--timeout",
            "60s",
            "-s",
            str(script),
            f"http://127.0.0.1:{server.port}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out = process.stdout.read()
    _pid, _status, usage = os.wait4(process.pid, 0)
    line = next((x for x in out.splitlines() if x.startswith("WRK ")), None)
    if line is None:
        raise RuntimeError(f"wrk: {out[-2000:]}")
    got = json.loads(line[4:])
    wall = got["duration_us"] / 1e6
    statuses = {201: got["c201"]}
    if got["cother"]:
        statuses[0] = got["cother"]
    return {
        "requests": got["answered"],
        "wall": wall,
        "created_per_s": got["c201"] / wall,
        "answered_per_s": got["answered"] / wall,
        "statuses": statuses,
        "p50": got["p50"] / 1e6,
        "p90": got["p90"] / 1e6,
        "p99": got["p99"] / 1e6,
        "max": got["max"] / 1e6,
        "mean": got["mean"] / 1e6,
        "errors": [got["others"]] if got["cother"] else [],
        "generator_cpu": usage.ru_utime + usage.ru_stime,
        "generator": "wrk",
    }


# --- floor and queries -------------------------------------------------------------------------


def floor_inserts(n: int) -> dict:
    """From one connection: a bare single-row INSERT per transaction, and the rows of one
    intake in its one transaction, as bare SQL."""
    from django.db import connection
    from django.utils import timezone

    from core.models import User
    from grids.models import Grid

    platform = User.objects.get(username="platform").pk
    grid = Grid.objects.filter(rght=models_f("lft") + 1).order_by("code").first().pk
    with connection.cursor() as cur:
        cur.execute("SELECT id FROM cases_problemcategory WHERE code = 'dust'")
        category = cur.fetchone()[0]
    connection.ensure_connection()
    raw = connection.connection
    raw.autocommit = True
    case_sql = """
        INSERT INTO cases_case (number, channel, category_id, description, emergency,
            reporter_name, reporter_phone, created_by_id, external_id, lat, lng, address, grid_id,
            status, reported_at, created_at, updated_at, response_deadline, suspended_seconds,
            extension_reason, rework_count, return_count, escalation_count, extension_count)
        VALUES (%s, 'platform', %s, '数字城管平台转办：道路扬尘', false, '市民', '13800000000', %s,
            %s, 35.06, 118.35, '临沂市兰山区基准路1号', %s, 'collected', %s, %s, %s, %s, 0, '',
            0, 0, 0, 0)
        RETURNING id
    """
    out = {}
    now = timezone.now()
    day = now.strftime("%Y%m%d")
    with raw.cursor() as cur:
        started = time.perf_counter()
        for i in range(n):
            cur.execute(
                case_sql,
                [
                    f"FLOOR-{day}-A{i:06d}",
                    category,
                    platform,
                    f"{MARK}-FA-{i}",
                    grid,
                    now,
                    now,
                    now,
                    now,
                ],
            )
        out["bare_insert"] = n / (time.perf_counter() - started)
        raw.autocommit = False
        started = time.perf_counter()
        for i in range(n):
            key = f"{MARK}-FB-{i}"
            cur.execute(
                "INSERT INTO cases_idempotencyrecord (client_id, key, body_hash, created_at)"
                " VALUES (%s, %s, %s, %s) RETURNING id",
                [platform, key, "0" * 64, now],
            )
            record = cur.fetchone()[0]
            cur.execute(
                case_sql,
                [f"FLOOR-{day}-B{i:06d}", category, platform, key, grid, now, now, now, now],
            )
            case_id = cur.fetchone()[0]
            cur.execute(
                "INSERT INTO cases_caseevent (case_id, seq, action, from_status, to_status,"
                " actor_id, at, note, data) VALUES (%s, 1, 'collect', '', 'collected', %s, %s,"
                " '', '{\"channel\": \"platform\"}')",
                [case_id, platform, now],
            )
            cur.execute(
                "INSERT INTO cases_casetimer (case_id, deadline, level, due_at, deadline_at)"
                " VALUES (%s, 'response', 'warning', %s, %s), (%s, 'response', 'breach', %s, %s),"
                " (%s, 'response', 'principal', %s, %s), (%s, 'response', 'leader', %s, %s)",
                [case_id, now, now] * 4,
            )
            cur.execute(
                "UPDATE cases_idempotencyrecord SET status_code = 201, response = %s WHERE id = %s",
                [json.dumps({"id": case_id}), record],
            )
            raw.commit()
        out["bare_intake_rows"] = n / (time.perf_counter() - started)
    raw.autocommit = True
    return out


def intake_queries(points: list[dict]) -> list[tuple[str, float]]:
    """The queries of one intake (in-process test client, bearer token, Idempotency-Key)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from core.models import User
    from core.services import api_token_issue

    raw, _token = api_token_issue(user=User.objects.get(username="platform"))
    client = Client(HTTP_HOST="127.0.0.1")
    headers = {"Authorization": f"Bearer {raw}", "Idempotency-Key": str(uuid.uuid4())}
    client.post(
        "/api/v1/cases/",
        data=body_for(0, "Q0", points, False),
        content_type="application/json",
        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(
            "/api/v1/cases/",
            data=body_for(1, "Q1", points, False),
            content_type="application/json",
            headers=headers,
        )
    assert response.status_code == 201, response.content[:300]
    return [(q["sql"], float(q["time"])) for q in ctx.captured_queries]


def throttle_check(redis_url: str) -> dict:
    """The intake throttle as configured, in this process, counting in Redis as the workers do:
    how many intake requests of the ``platform`` machine client one window lets through before
    refusing (the clock held still, so the window cannot turn during the count)."""
    from django.conf import settings
    from django.core.cache import cache
    from django.test import RequestFactory
    from django.test.utils import override_settings
    from rest_framework.request import Request

    from core.api import throttles
    from core.models import User

    class View:
        machine_throttle_scopes = {"POST": "intake"}

    request = Request(RequestFactory().post("/api/v1/cases/"))
    request.user = User.objects.get(username="platform")
    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["intake"]
    clock = throttles.time
    frozen = time.time()
    caches = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }
    allowed = 0
    with override_settings(CACHES=caches):
        throttles.time = type("Frozen", (), {"time": staticmethod(lambda: frozen)})
        try:
            cache.clear()
            throttle = throttles.ClientRateThrottle()
            for _ in range(1_000_000):
                if not throttle.allow_request(request, View()):
                    break
                allowed += 1
            wait = throttle.wait()
            cache.clear()
        finally:
            throttles.time = clock
    return {"rate": rate, "allowed": allowed, "wait": wait, "cache": caches["default"]["BACKEND"]}


# The keys of the last 48 hours: the platform's records are kept that long
# (``cases.idempotency.KEEP_FOR``), so a service's table is never empty. Left empty (as a purge
# of everything would leave it), PostgreSQL plans the answer's ``UPDATE … WHERE id`` as a scan
# of the table, keeps that as the connection's plan while a run fills the table, and the
# benchmark measures a table no service has.
HISTORY_KEY = "history-"
HISTORY_KEYS = 50_000


def idempotency_history(n: int = HISTORY_KEYS) -> int:
    """Make sure the idempotency table holds ``n`` records of the platform's from the last 48
    hours (written once, kept by ``cleanup``); returns how many it holds."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT id FROM core_user WHERE username = 'platform'")
        (client,) = cur.fetchone()
        cur.execute(
            "SELECT count(*) FROM cases_idempotencyrecord WHERE key LIKE %s", [f"{HISTORY_KEY}%"]
        )
        (have,) = cur.fetchone()
        if have < n:
            cur.execute(
                "INSERT INTO cases_idempotencyrecord"
                " (client_id, key, body_hash, status_code, response, created_at)"
                " SELECT %s, %s || g, md5(g::text) || md5(g::text), 201,"
                " jsonb_build_object('id', g, 'number', 'DUST-20261120-' || g,"
                "  'status', 'collected', 'external_id', 'PLATFORM-' || g),"
                " now() - make_interval(secs => (g * 172800.0 / %s))"
                " FROM generate_series(%s, %s) AS g"
                " ON CONFLICT DO NOTHING",
                [client, HISTORY_KEY, n, have + 1, n],
            )
            cur.execute("VACUUM ANALYZE cases_idempotencyrecord")
        return max(have, n)


def cleanup() -> int:
    """Delete what the benchmark wrote: its cases (with their events, timers, photos …), its
    idempotency records (not the history, ``idempotency_history``) and tokens."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE bench_posted AS SELECT id FROM cases_case WHERE external_id LIKE %s",
            [f"{MARK}-%"],
        )
        for table in ("cases_caseevent", "cases_casetimer", "cases_casebreach", "cases_casephoto"):
            cur.execute(f"DELETE FROM {table} WHERE case_id IN (SELECT id FROM bench_posted)")
        cur.execute(
            "DELETE FROM cases_callbackdelivery WHERE case_id IN (SELECT id FROM bench_posted)"
        )
        cur.execute("DELETE FROM cases_case WHERE id IN (SELECT id FROM bench_posted)")
        deleted = cur.rowcount
        cur.execute("DROP TABLE bench_posted")
        cur.execute(
            "DELETE FROM cases_idempotencyrecord WHERE key NOT LIKE %s", [f"{HISTORY_KEY}%"]
        )
        cur.execute("DELETE FROM core_apitoken")
        for table in (
            "cases_case",
            "cases_casetimer",
            "cases_caseevent",
            "cases_idempotencyrecord",
        ):
            cur.execute(f"VACUUM ANALYZE {table}")
    return deleted


# --- report ------------------------------------------------------------------------------------


def cpu_cell(run: dict) -> str:
    cpu = run.get("cpu_per_request_ms")
    if not cpu:
        return ""
    total = cpu["workers"] + cpu["backends"] + cpu.get("redis", 0.0)
    return (
        f"{cpu['workers']:.1f} + {cpu['backends']:.1f} + {cpu.get('redis', 0.0):.2f}"
        f" = **{total:.1f} ms** (generator {cpu.get('generator', 0.0):.1f} ms)"
    )


def summarise(label: str, runs: list[dict]) -> dict:
    best = max(runs, key=lambda r: r["created_per_s"])
    return {"label": label, "runs": runs, "best": best}


def section(results: dict, header: list[str], command: str, args) -> list[str]:
    floor = results["floor"]
    lines = [
        *header,
        f"- Command: `{command}`",
        "",
        f"gunicorn {results['gunicorn_version']} (`-w {args.workers}`, sync workers) on"
        " 127.0.0.1 with `gridsup.settings.production` on the bench database"
        " (`DB_CONN_MAX_AGE=3600`, so that the CPU of the workers' PostgreSQL backends can be read"
        " from /proc for a whole run; the default of 60 s would only add a reconnect a minute) and"
        " `REDIS_URL` pointing at a redis-server of the benchmark's own (the throttle's shared"
        " cache); the load generator runs on the same two cores, "
        + (
            f"wrk {args.threads} connections on one thread (a new loopback connection per"
            f" request, as gunicorn's sync workers close it), {args.seconds} s measured per run"
            " after 2 s unmeasured"
            if args.generator == "wrk"
            else f"{args.threads} threads in this process (a new loopback connection per"
            f" request, as gunicorn's sync workers close it), {args.requests:,} measured"
            f" requests per run after {args.warmup} unmeasured ones"
        )
        + f"; best of {args.runs} runs by cases created per second. Latency is per"
        " request as the client sees it. CPU per request from /proc over the measured requests:"
        " gunicorn workers + their PostgreSQL backends + redis-server, and apart the load"
        " generator. The floor row is `floor_app()`: an empty DRF view behind the"
        " same middleware, bearer-token authentication (its query), permission and intake"
        " throttle, parsing the same JSON body. Each run's steal (/proc/stat) is the share of"
        " the two cores the hypervisor gave to others meanwhile. The target: 200 cases/s or"
        " more.",
        "",
        "| configuration | created /s (best) | all runs (created/s) | answered (best run) |"
        " p50 | p90 | p99 | max | CPU per request: workers + PostgreSQL + Redis |",
        "|---|---:|---|---|---:|---:|---:|---:|---|",
    ]
    for conf in results["configurations"]:
        best = conf["best"]
        statuses = ", ".join(f"{k}: {v:,}" for k, v in sorted(best["statuses"].items()))
        every = ", ".join(
            f"{r['created_per_s']:.0f}"
            + (f" (steal {100 * r['steal']:.0f} %)" if r.get("steal") is not None else "")
            for r in conf["runs"]
        )
        lines.append(
            f"| {conf['label']} | **{best['created_per_s']:.0f}** | {every} |"
            f" {statuses} | {shared.ms(best['p50'])} | {shared.ms(best['p90'])} |"
            f" {shared.ms(best['p99'])} | {shared.ms(best['max'])} |"
            f" {cpu_cell(best)} |"
        )
    lines += [
        "",
        f"Bare-SQL floor, one connection in this process, {results['floor_n']:,} rows each:"
        f" a single-row `INSERT INTO cases_case` per transaction:"
        f" **{floor['bare_insert']:.0f} rows/s**; the rows of one intake (idempotency claim;"
        " case, event and four timers; idempotency answer) as bare SQL in its one transaction:"
        f" **{floor['bare_intake_rows']:.0f} intakes/s**.",
        "",
    ]
    throttle = results["throttle"]
    lines += [
        f"The intake throttle as configured (`intake`: `{throttle['rate']}` for machine clients,"
        f" counted in `{throttle['cache'].rsplit('.', 1)[-1]}`): one window let"
        f" {throttle['allowed']:,} intake requests of the `platform` client through, then"
        f" refused with a wait of {throttle['wait']:.0f} s. All workers count in the same"
        " Redis key, so the rate does not depend on the number of workers.",
        "",
    ]
    errors = [e for conf in results["configurations"] for r in conf["runs"] for e in r["errors"]]
    if errors:
        lines += ["Errors seen (first few):", "", "```", *errors[:5], "```", ""]
    queries = results["queries"]
    lines += [
        f"The {len(queries)} queries of one intake (GPS point, Idempotency-Key; Django's test"
        " client in the bench process, time as Django measured it):",
        "",
        "| # | query | time |",
        "|---:|---|---:|",
    ]
    for i, (sql, elapsed) in enumerate(queries):
        flat = " ".join(sql.split())
        if len(flat) > 150:
            flat = flat[:149] + "…"
        flat = flat.replace("|", "\\|")
        lines.append(f"| {i + 1} | `{flat}` | {shared.ms(elapsed)} |")
    lines.append("")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--requests", type=int, default=600, help="measured requests per run (python)"
    )
    parser.add_argument("--seconds", type=int, default=10, help="measured time per run (wrk)")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument(
        "--threads", type=int, default=6, help="concurrent connections (python: threads)"
    )
    parser.add_argument(
        "--generator",
        choices=("wrk", "python"),
        default="wrk" if shutil.which("wrk") else "python",
        help="the load generator: wrk (Debian package wrk) or this process's threads",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=4,
        help="gunicorn sync workers (4: the deployment the README describes)",
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--floor", type=int, default=2000, help="rows for the floor")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--head", action="store_true", help="run the committed project (HEAD)")
    parser.add_argument("--dry", action="store_true", help="print, do not write the results")
    args = parser.parse_args()

    load = os.getloadavg()[0]
    url = shared.database_url()
    src = shared.source_tree(args.head)
    shared.WORK.mkdir(parents=True, exist_ok=True)
    shared.database_prepare(src=src, url=url, sizes=dict(shared.FILL))
    import gunicorn

    results: dict = {"configurations": [], "gunicorn_version": gunicorn.__version__}
    redis = Redis()
    try:
        cleanup()
        print(f"{idempotency_history():,} idempotency records of the last 48 hours", flush=True)
        points = intake_points()
        print(f"{len(points)} intake points", flush=True)
        configurations = [
            ("as configured, GPS point", "gridsup.wsgi", False, "/api/v1/cases/"),
            ("as configured, grid code given", "gridsup.wsgi", True, "/api/v1/cases/"),
            ("floor: empty DRF view", "case_intake:floor_app()", False, "/api/v1/bench/empty/"),
        ]
        for label, app, with_grid, path in configurations:
            server = Gunicorn(src=src, url=url, app=app, workers=args.workers, redis_url=redis.url)
            try:
                token = server.token("platform")
                measured = []
                for n in range(args.runs):
                    tag = f"{len(results['configurations'])}{n}"
                    common = {
                        "token": token,
                        "threads": args.threads,
                        "points": points,
                        "with_grid": with_grid,
                        "path": path,
                    }
                    if args.generator == "wrk":
                        load_run_wrk(server, run=f"W{tag}", seconds=2, **common)
                    else:
                        load_run(server, run=f"W{tag}", requests=args.warmup, **common)
                    pids = server_pids(server, redis)
                    before = cpu_snapshot(pids)
                    machine = machine_cpu()
                    if args.generator == "wrk":
                        r = load_run_wrk(server, run=f"R{tag}", seconds=args.seconds, **common)
                    else:
                        r = load_run(server, run=f"R{tag}", requests=args.requests, **common)
                    measured.append(r)
                    after = cpu_snapshot(pids)
                    r = measured[-1]
                    r["steal"] = steal_share(machine, machine_cpu())
                    r["cpu"] = cpu_used(before, after)
                    if "generator_cpu" in r:  # wrk, a child process: its own rusage
                        r["cpu"]["generator"] = r["generator_cpu"]
                    r["cpu_per_request_ms"] = {
                        k: 1000 * v / r["requests"] for k, v in r["cpu"].items()
                    }
                    r["load"] = os.getloadavg()[0]
                    print(
                        f"  {label}, run {n + 1}: {r['created_per_s']:.0f} created/s"
                        f" (steal {100 * r['steal']:.0f} %),"
                        f" {r['answered_per_s']:.0f} answered/s, p50 {shared.ms(r['p50'])},"
                        f" p99 {shared.ms(r['p99'])}, {r['statuses']}, CPU {cpu_cell(r)},"
                        f" load {r['load']:.2f}",
                        flush=True,
                    )
                    if r["errors"]:
                        print("   ", r["errors"][:2], flush=True)
            finally:
                server.stop()
            results["configurations"].append(summarise(label, measured))
        results["queries"] = intake_queries(points)
        results["throttle"] = throttle_check(redis.url)
        print(f"  throttle: {results['throttle']}", flush=True)
        results["floor_n"] = args.floor
        results["floor"] = floor_inserts(args.floor)
        print(f"  floor: {results['floor']}", flush=True)
        deleted = cleanup()
        print(f"  deleted the {deleted:,} posted cases", flush=True)
        header = shared.run_header(src=src, started_load=load, runs=args.runs)
        command = "bench/case_intake.py " + " ".join(sys.argv[1:])
        lines = section(results, header, command.strip(), args)
        (shared.WORK / "case_intake.json").write_text(json.dumps(results, default=str, indent=1))
        if args.dry:
            print("\n".join(lines))
        else:
            shared.results_update("intake", lines)
            print(f"Written to {shared.RESULTS.relative_to(shared.ROOT)}")
    finally:
        redis.stop()
        if not args.keep:
            shared.database_drop(url)


if __name__ == "__main__":
    main()
