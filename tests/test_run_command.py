"""``python3 dev.py run``, the README's first command, for real: it brings the site up with the
demo city, a Celery worker that consumes from the filesystem broker, and beat; it stops all of
them on Ctrl-C, and stops the rest when one of them dies.

Each run gets a clean environment (SQLite and the broker in a temporary var/), so what is
checked is the fresh-machine default, whatever DATABASE_URL the suite itself runs with."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
READY = "Press Ctrl-C to stop."


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def group_alive(pgid: int, *, grace: float = 10) -> bool:
    """Whether any process of the group is left once ``grace`` seconds have passed (a process
    just killed lingers until init has reaped it)."""
    deadline = time.monotonic() + grace
    while True:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        if time.monotonic() > deadline:
            return True
        time.sleep(0.2)


class DevRun:
    """``dev.py run`` in the background, its output collected line by line."""

    def __init__(self, var_dir: Path):
        self.port = free_port()
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8",
            "GRIDSUP_VAR_DIR": str(var_dir),
            "PORT": str(self.port),
        }
        self.lines: list[str] = []
        self.proc = subprocess.Popen(  # noqa: S603 - our own script
            [sys.executable, "dev.py", "run"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = 240) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.output())
            if match:
                return match
            if self.proc.poll() is not None and not self.reader.is_alive():
                break
            time.sleep(0.2)
        raise AssertionError(f"{pattern!r} not seen; dev.py printed:\n{self.output()[-6000:]}")

    def children(self) -> dict[str, int]:
        """dev.py's children by role; each leads its own process group."""
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        pids = [int(pid) for pid in path.read_text().split()]
        return {
            "worker" if b"celery" in Path(f"/proc/{pid}/cmdline").read_bytes() else "web": pid
            for pid in pids
        }

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            for pid in self.children().values():
                os.killpg(pid, signal.SIGKILL)
        self.proc.wait()


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory) -> Path:
    # Shared by the tests below, so only the first one migrates and loads the demo city.
    return tmp_path_factory.mktemp("var")


def http(url: str, *, data: dict | None = None, token: str = "") -> tuple[int, bytes]:
    method = "POST" if data is not None else "GET"
    request = urllib.request.Request(url, method=method)  # noqa: S310 - our own server
    if data is not None:
        request.data = json.dumps(data).encode()
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return response.status, response.read()


def test_run_serves_the_demo_city_with_worker_and_beat_and_stops_on_ctrl_c(var_dir):
    # given a fresh machine's defaults: no DATABASE_URL, no REDIS_URL
    run = DevRun(var_dir)
    try:
        # when dev.py run has started
        run.wait_for(re.escape(READY), timeout=480)  # migrate + the demo seed on a busy machine
        children = run.children()

        # then the login page answers and the demo logins work for the API
        assert http(run.url("/login/"))[0] == 200
        assert "gridsup-demo-2026" in run.output()
        status, body = http(
            run.url("/api/v1/auth/token/"),
            data={"username": "office", "password": "gridsup-demo-2026"},
        )
        assert status == 201
        status, schema = http(run.url("/api/schema/"), token=json.loads(body)["token"])
        assert status == 200
        assert b"openapi" in schema

        # and beat runs inside the worker, which consumes a task sent through the broker
        run.wait_for(r"beat: Starting")
        sent = subprocess.run(  # noqa: S603 - our own manage.py
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                "from core.tasks import api_tokens_purge; print(api_tokens_purge.delay().id)",
            ],
            cwd=ROOT,
            env=run.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert sent.returncode == 0, sent.stderr
        task_id = sent.stdout.strip().splitlines()[-1]
        run.wait_for(rf"Task core\.tasks\.api_tokens_purge\[{task_id}\] succeeded", timeout=60)
        # (the schedule has entries every minute or less, e.g. the case-deadline sweep)
        run.wait_for(r"Scheduler: Sending due task", timeout=120)

        # when Ctrl-C reaches dev.py
        run.proc.send_signal(signal.SIGINT)

        # then everything stops cleanly
        assert run.proc.wait(timeout=90) == 0
        assert not port_open(run.port)
        assert not [name for name, pid in children.items() if group_alive(pid)]
    finally:
        run.stop()


def test_run_stops_the_web_server_when_the_worker_dies(var_dir):
    # given dev.py run up and running
    run = DevRun(var_dir)
    try:
        run.wait_for(re.escape(READY), timeout=480)  # migrate + the demo seed on a busy machine
        children = run.children()

        # when the worker dies
        os.killpg(children["worker"], signal.SIGKILL)

        # then dev.py stops the web server and exits with an error
        assert run.proc.wait(timeout=90) != 0
        assert "celery worker exited" in run.output()
        assert not group_alive(children["web"])
        assert not port_open(run.port)
    finally:
        run.stop()
