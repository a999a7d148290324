"""Suite-wide rules: in CI nothing may be skipped, and ``postgres`` tests need PostgreSQL.

Locally a test marked ``@pytest.mark.postgres`` is skipped on SQLite (point DATABASE_URL at a
PostgreSQL database to run it). In CI (the environment variable CI is set) every skip, that one
included, is reported as a failure, so a missing service or browser cannot pass silently.
"""

import os

import pytest

# One set of browser fixtures for every app's browser tests (one Chromium per test process).
pytest_plugins = ["tests.browser.fixtures"]

IN_CI = os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres") is None:
        return
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL, the database is {connection.vendor} (set DATABASE_URL)")


def _skip_to_failure(report: pytest.TestReport | pytest.CollectReport) -> None:
    if not (IN_CI and report.skipped) or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
    reason = str(reason).removeprefix("Skipped: ")
    report.outcome = "failed"
    report.longrepr = f"Skipped in CI, where every test must run: {reason}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    _skip_to_failure(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    report = yield
    _skip_to_failure(report)  # a whole module skipped, e.g. by pytest.importorskip
    return report
