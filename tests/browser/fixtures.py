"""The browser fixtures (a pytest plugin the root conftest loads, so that every app's browser
tests share one Chromium per test process: two sync Playwright sessions cannot run in one
thread). Debian's Chromium driven by Playwright's sync API against ``live_server``.

Without Chromium the tests are skipped on a developer's machine and fail in CI (``CI`` set),
so a CI machine that lost its browser cannot pass silently.
"""

import os
import shutil
from dataclasses import dataclass, field

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        message = (
            "Chromium is not installed (Debian package 'chromium'): the browser tests need "
            "/usr/bin/chromium."
        )
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in the test thread; Django refuses database
    # access from a thread with a running loop unless told that this is intended.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class BrowserPage:
    """A page plus what its console reported: CSP violations and script errors land here."""

    page: object
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def browser_page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    result = BrowserPage(page=page)
    page.on("console", lambda msg: result.errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: result.errors.append(str(exc)))
    yield result
    context.close()
