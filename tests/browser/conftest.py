"""Real headless Chromium (Debian's ``chromium``) driven by Playwright, against a live server.

One server for the session: uvicorn on a free port serving the app on embedded SQLite,
local blobs and a generator the tests can switch to failing. Two users, ``alice`` and
``bob``, each with private images; 30 public images with known prompts and tags. Tests
that create or delete images do so with their own, and compute what they expect from
the API at the time, so they do not depend on their order.
Every test gets a fresh browser context (no cookies, no cached credentials). When a
test fails, a screenshot of its page is saved under ``artifacts/browser/``.

Playwright's own browser download is never used: ``executable_path`` points at the
system Chromium. Without it the tests are skipped, except under ``CI``, where that fails.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from core.models import ImageDetail
from tests.support.gallery_app import GalleryApp, SwitchableGenerator, build_gallery_services, seed
from tests.support.live_server import LiveServer
from tests.support.live_server_fixtures import assert_no_500
from web.app import create_app

CHROMIUM = os.environ.get("PIXYPROXY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"
PUBLIC_COUNT = 30
USERS = {"alice": "alice-wonderland-pw", "bob": "bob-builder-pw"}
TIMEOUT_MS = 15_000  # generous: CI shares two cores between the server, Chromium and pytest

expect.set_options(timeout=TIMEOUT_MS)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the item, so fixtures can tell that the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@dataclass
class Gallery:
    """The running app: its URL, services, generator and the images seeded into it."""

    url: str
    app: GalleryApp
    public: list[ImageDetail]
    private: dict[str, list[ImageDetail]]

    @property
    def generator(self) -> SwitchableGenerator:
        """The generator, to make the next creation fail."""
        return self.app.generator


def public_prompts() -> list[tuple[str, list[str]]]:
    """30 prompts, oldest first: tagged ``even``/``odd``, one unique word each."""
    words = [
        "aurora",
        "bonsai",
        "canyon",
        "dunes",
        "ember",
        "fjord",
        "glacier",
        "harbour",
        "iris",
        "jungle",
        "kelp",
        "lagoon",
        "meadow",
        "nebula",
        "orchard",
        "prairie",
        "quartz",
        "reef",
        "savanna",
        "tundra",
        "umber",
        "valley",
        "willow",
        "xylophone",
        "yucca",
        "zephyr",
        "basalt",
        "cobalt",
        "delta",
        "estuary",
    ]
    return [
        (f"a {word} scene, study number {n}", ["even" if n % 2 == 0 else "odd", "study"])
        for n, word in enumerate(words[:PUBLIC_COUNT])
    ]


@pytest.fixture(scope="package")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gallery]:
    """The app served by uvicorn, seeded with public and private images."""
    app = build_gallery_services(tmp_path_factory.mktemp("gallery"))
    for name, password in USERS.items():
        app.services.users.add_user(name, password)
    private = {
        name: seed(
            app.services,
            [(f"{name}'s secret sketch {n}", ["mine"]) for n in range(count)],
            owner=name,
            private=True,
        )
        for name, count in (("alice", 3), ("bob", 2))
    }
    public = seed(app.services, public_prompts())
    with LiveServer(create_app(services=app.services)) as server:
        yield Gallery(server.url, app, public, private)
    app.services.close()


@pytest.fixture(autouse=True)
def no_server_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail a test if the server answered any request of it with a 500."""
    caplog.set_level(logging.INFO, logger="pixyproxy.access")
    yield
    assert_no_500(caplog)


# Package scope, not session: Playwright's sync API keeps an asyncio loop running on the
# main thread while it is open, which would break every later test that calls asyncio.run.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    """Playwright's driver, once for the browser tests."""
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        if os.environ.get("CI"):
            pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install chromium")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's headless Chromium, once per session."""
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


NewPage = Callable[..., Page]


@pytest.fixture
def new_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[NewPage]:
    """A factory of pages, each in its own context (``new_page(http_credentials=...)``).

    A JavaScript error on any page fails the test; on failure every page of the test
    is saved as a screenshot under ``artifacts/browser``.
    """
    contexts: list[BrowserContext] = []
    pages: list[Page] = []
    script_errors: list[str] = []

    def make(**options: Any) -> Page:
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: script_errors.append(str(error)))
        pages.append(page)
        return page

    yield make
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        for n, page in enumerate(pages):
            with contextlib.suppress(PlaywrightError):  # a closed page has nothing to save
                page.screenshot(path=str(ARTIFACTS / f"{stem}-{n}.png"), full_page=True)
    for context in contexts:
        context.close()
    assert script_errors == [], f"JavaScript errors: {script_errors}"


@pytest.fixture
def page(new_page: NewPage) -> Page:
    """One page in a fresh context, desktop sized."""
    return new_page()
