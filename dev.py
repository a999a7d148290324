#!/usr/bin/env python3
"""Start GridSup, or test it, with one command on a machine that has only Python 3.11.

    python3 dev.py run              migrate, load the demo city, start web + Celery worker/beat
    python3 dev.py test [ARGS]      ruff check, then pytest ARGS with gridsup.settings.test

Both first make sure .venv exists and holds the project's pinned dependencies. The install is
skipped while pyproject.toml is unchanged since the last one: its hash is kept in .venv.

Standard library only, because this file runs before anything else is installed.
"""

# ruff: noqa: S603 - starting the project's own programs is what this file is for

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_BIN = VENV / "bin"
STAMP = VENV / "gridsup-install.sha256"
STOP_TIMEOUT = 30  # seconds a child gets to finish after SIGTERM before it is killed

# Run inside the virtualenv after migrate/seed: what the banner shows, and the folders kombu's
# filesystem transport expects to exist (it does not create them itself).
INFO_SCRIPT = """
import json
from pathlib import Path

import django

django.setup()
from django.conf import settings

from grids.demo import DEMO_LOGINS

options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
if settings.CELERY_BROKER_URL.startswith("filesystem://"):
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        if key in options:
            Path(options[key]).mkdir(parents=True, exist_ok=True)
db = settings.DATABASES["default"]
print(json.dumps({
    "database": f"{db['ENGINE'].rsplit('.', 1)[-1]} {db['NAME']}",
    "broker": settings.CELERY_BROKER_URL.split("@")[-1].split("://")[0],
    "debug": settings.DEBUG,
    "password": settings.DEMO_PASSWORD,
    "logins": [[login.username, login.description] for login in DEMO_LOGINS],
}))
"""


def say(message: str) -> None:
    print(f"dev.py: {message}", flush=True)


# --- virtualenv ------------------------------------------------------------------------------


def requirements_hash() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def venv_ensure() -> Path:
    """Create .venv if missing and install the project when pyproject.toml has changed."""
    python = VENV_BIN / "python"
    if not python.exists():
        say(f"creating {VENV.relative_to(ROOT)} with Python {sys.version.split()[0]}")
        result = subprocess.run([sys.executable, "-m", "venv", str(VENV)])
        if result.returncode != 0:
            sys.exit(
                "dev.py: could not create the virtualenv. On Debian/Ubuntu install the venv "
                "module first: apt-get install python3-venv"
            )
    wanted = requirements_hash()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return python
    say("installing the pinned dependencies into .venv (pip install -e '.[dev]')")
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-e", ".[dev]"],
        cwd=ROOT,
    )
    if result.returncode != 0:
        sys.exit(f"dev.py: pip install failed with exit code {result.returncode}")
    STAMP.write_text(wanted + "\n")
    return python


def child_env(settings_module: str) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    env["PYTHONUNBUFFERED"] = "1"
    env["VIRTUAL_ENV"] = str(VENV)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def step(args: list[str], env: dict[str, str]) -> None:
    """Run one preparation step; stop dev.py if it fails."""
    result = subprocess.run(args, cwd=ROOT, env=env)
    if result.returncode != 0:
        sys.exit(f"dev.py: {' '.join(args[1:3])} failed with exit code {result.returncode}")


# --- run -------------------------------------------------------------------------------------


class Stop(KeyboardInterrupt):
    """Raised by the signal handler: someone asked dev.py to stop."""


def on_stop_signal(signum, frame):
    raise Stop(signal.Signals(signum).name)


def stop_signals_catch() -> None:
    # SIGINT explicitly too: a shell starts background jobs with SIGINT ignored, and Python then
    # never turns it into KeyboardInterrupt. SIGHUP only where nohup has not asked to ignore it.
    signal.signal(signal.SIGINT, on_stop_signal)
    signal.signal(signal.SIGTERM, on_stop_signal)
    if signal.getsignal(signal.SIGHUP) != signal.SIG_IGN:
        signal.signal(signal.SIGHUP, on_stop_signal)


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def child_start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    # Each child leads its own process group, so a Ctrl-C in the terminal reaches dev.py only
    # and dev.py stops the children in order (the web server's autoreloader has a child of its
    # own, and Celery's worker has its pool and the beat process).
    return subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True)


def children_stop(children: dict[str, subprocess.Popen]) -> None:
    """SIGTERM each child, wait, then SIGKILL whatever is left of its process group.

    SIGTERM makes the Celery worker shut down warm (it finishes running tasks and stops its pool
    and beat itself); Django's autoreloader ends the server process it started.
    """
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown short
    for proc in children.values():
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT
    for name, proc in children.items():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{name} did not stop within {STOP_TIMEOUT} s; killing it")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of its process group
        proc.wait()


def supervise(
    children: dict[str, subprocess.Popen], *, port: int | None = None, on_ready=None
) -> int:
    """Wait until a signal asks to stop (→ 0) or a child dies (→ its code, at least 1); stop the
    others either way. ``on_ready`` runs once when ``port`` accepts connections."""
    try:
        while True:
            for name, proc in children.items():
                code = proc.poll()
                if code is not None:
                    say(f"{name} exited with code {code}; stopping the rest")
                    children_stop(children)
                    return code if code > 0 else 1  # a child killed by a signal has code < 0
            if on_ready is not None and port is not None and port_open(port):
                on_ready()
                on_ready = None
            time.sleep(0.5)
    except KeyboardInterrupt as exc:
        say(f"{exc or 'SIGINT'} received; stopping the web server and the worker")
        children_stop(children)
        say("stopped")
        return 0


def banner(info: dict, port: int) -> None:
    width = max(len(username) for username, _ in info["logins"])
    lines = [
        "",
        f"GridSup is running at http://127.0.0.1:{port}/",
        f"  admin http://127.0.0.1:{port}/admin/   API docs http://127.0.0.1:{port}/api/docs/",
        f"  database: {info['database']}   Celery broker: {info['broker']}",
        "",
        f"Demo logins, all with the password {info['password']!r} (env DEMO_PASSWORD):",
        *(f"  {username:<{width}}  {who}" for username, who in info["logins"]),
        "",
        "Press Ctrl-C to stop.",
        "",
    ]
    print("\n".join(lines), flush=True)


def cmd_run() -> int:
    stop_signals_catch()
    python = venv_ensure()
    env = child_env("gridsup.settings.local")
    port = int(os.environ.get("PORT", "8000"))
    manage = [str(python), "manage.py"]
    step([*manage, "migrate", "--noinput"], env)
    step([*manage, "seed_demo"], env)
    probe = subprocess.run(
        [str(python), "-c", INFO_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if probe.returncode != 0:
        sys.stderr.write(probe.stderr)
        sys.exit("dev.py: could not read the settings")
    info = json.loads(probe.stdout.strip().splitlines()[-1])
    if not info["debug"]:
        # With DEBUG on, runserver serves static files straight from the apps; without it,
        # WhiteNoise serves what collectstatic gathered.
        step([*manage, "collectstatic", "--noinput", "--verbosity", "0"], env)

    children: dict[str, subprocess.Popen] = {}
    try:
        children["web server"] = child_start([*manage, "runserver", f"0.0.0.0:{port}"], env)
        worker = ["-A", "gridsup", "worker", "-B", "-l", "info", "--concurrency", "2"]
        children["celery worker"] = child_start([str(VENV_BIN / "celery"), *worker], env)
    except KeyboardInterrupt:
        children_stop(children)
        return 0
    return supervise(children, port=port, on_ready=lambda: banner(info, port))


# --- test ------------------------------------------------------------------------------------


def cmd_test(pytest_args: list[str]) -> int:
    python = venv_ensure()
    env = child_env("gridsup.settings.test")
    env["DJANGO_SETTINGS_MODULE"] = "gridsup.settings.test"  # whatever the shell exported
    lint = subprocess.run([str(VENV_BIN / "ruff"), "check", "."], cwd=ROOT, env=env).returncode
    # Ctrl-C (or CI's timeout) is for pytest: it stops and still prints what failed so far.
    # A handler, not SIG_IGN, so that pytest does not inherit the ignoring.
    signal.signal(signal.SIGINT, lambda signum, frame: None)
    tests = subprocess.run(
        [str(python), "-m", "pytest", *pytest_args], cwd=ROOT, env=env
    ).returncode
    if lint != 0:
        say("ruff check found problems (see above)")
    if tests == 5:
        say("pytest collected no tests")
    return tests or (1 if lint else 0)


USAGE = """usage: python3 dev.py run | test [pytest arguments]

  run    create/update .venv, migrate, load the demo city, start the web server and a Celery
         worker with beat (PORT, DATABASE_URL, REDIS_URL, DEMO_PASSWORD are read from the
         environment)
  test   create/update .venv, run ruff check and pytest with the given arguments"""


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - an older python3 may well run this file
        sys.exit("dev.py: GridSup needs Python 3.11 or newer")
    command, rest = (argv[0], argv[1:]) if argv else ("", [])
    if command not in ("run", "test") or (command == "run" and rest):
        print(USAGE, file=sys.stderr)
        return 2
    try:
        return cmd_run() if command == "run" else cmd_test(rest)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
