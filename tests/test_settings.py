"""The settings modules, each loaded in a fresh interpreter with a clean environment, because
settings are read once per process and the test run's own environment (CI's DATABASE_URL,
for one) must not leak into what is checked."""

import json
import os
import subprocess
import sys

from django.conf import settings

ROOT = settings.BASE_DIR
PRINT_SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
db = s.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": db["NAME"], "host": db.get("HOST", ""),
    "broker": s.CELERY_BROKER_URL, "debug": s.DEBUG,
    "language": s.LANGUAGE_CODE, "time_zone": s.TIME_ZONE,
}))
"""
PRODUCTION_SECRET = "x9-production-test-key-" + "k3Q8vR2mZ7pL4tW6yB1nC5" * 2


def run(args: list[str], *, tmp_path, **env: str) -> subprocess.CompletedProcess:
    clean = {"PATH": os.environ["PATH"], "GRIDSUP_VAR_DIR": str(tmp_path / "var"), **env}
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def settings_of(module: str, *, tmp_path, **env: str) -> dict:
    result = run(["-c", PRINT_SETTINGS], tmp_path=tmp_path, DJANGO_SETTINGS_MODULE=module, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_refuses_to_start_without_secret_key(tmp_path):
    # given the production settings and no SECRET_KEY in the environment
    # when Django starts
    result = run(
        ["-c", "import django; django.setup()"],
        tmp_path=tmp_path,
        DJANGO_SETTINGS_MODULE="gridsup.settings.production",
        ALLOWED_HOSTS="example.org",
    )

    # then it refuses, naming the missing variable
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_production_passes_the_deployment_checklist(tmp_path):
    # given the production settings with the variables the README lists
    # when Django's deployment checklist runs, failing on warnings
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        tmp_path=tmp_path,
        DJANGO_SETTINGS_MODULE="gridsup.settings.production",
        SECRET_KEY=PRODUCTION_SECRET,
        ALLOWED_HOSTS="example.org",
    )

    # then it finds nothing
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_local_settings_need_no_server(tmp_path):
    # given the local settings and an empty environment
    # when they are loaded
    local = settings_of("gridsup.settings.local", tmp_path=tmp_path)

    # then the database is SQLite under var/ and Celery uses the filesystem broker
    assert local["engine"] == "django.db.backends.sqlite3"
    assert local["name"] == str(tmp_path / "var" / "gridsup.sqlite3")
    assert local["broker"] == "filesystem://"
    assert local["debug"] is True


def test_database_url_and_redis_url_switch_to_postgresql_and_redis(tmp_path):
    # given DATABASE_URL and REDIS_URL
    # when the local settings are loaded
    local = settings_of(
        "gridsup.settings.local",
        tmp_path=tmp_path,
        DATABASE_URL="postgres://gridsup:secret@db.internal:5432/gridsup",
        REDIS_URL="redis://cache.internal:6379/0",
    )

    # then they point at PostgreSQL and Redis
    assert local["engine"] == "django.db.backends.postgresql"
    assert (local["name"], local["host"]) == ("gridsup", "db.internal")
    assert local["broker"] == "redis://cache.internal:6379/0"


def test_chinese_language_and_china_time_in_every_environment(tmp_path):
    # given each environment's settings: local and production loaded fresh, test as used here
    loaded = [
        settings_of("gridsup.settings.local", tmp_path=tmp_path),
        settings_of(
            "gridsup.settings.production",
            tmp_path=tmp_path,
            SECRET_KEY=PRODUCTION_SECRET,
            ALLOWED_HOSTS="example.org",
        ),
        {"language": settings.LANGUAGE_CODE, "time_zone": settings.TIME_ZONE},
    ]

    # then the interface is Simplified Chinese and times are China Standard Time
    assert {(each["language"], each["time_zone"]) for each in loaded} == {
        ("zh-hans", "Asia/Shanghai")
    }
