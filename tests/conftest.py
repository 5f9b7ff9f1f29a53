"""Shared fixtures: a real event database, the real app, a real server, a real Chromium."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import requests

from checkin import create_app
from checkin.auth.accounts import add_organiser
from checkin.core.db import connect
from checkin.demo import create_demo
from tests import processes

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
ORGANISER = ("orga", "correct horse battery")
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


SEED_VARIABLE = "CHECKIN_HYPOTHESIS_SEED"


def pytest_configure(config: pytest.Config) -> None:
    """Give every run one hypothesis seed, chosen here unless `--hypothesis-seed` names one.

    Without it each property test draws its own random seed and a failure seen in CI cannot
    be replayed; with it the header names the seed and one command replays the whole run. The
    seed travels in the environment, so processes this run starts draw the same one.
    """
    from hypothesis import core

    given = config.getoption("hypothesis_seed", None)
    seed = given if given is not None else os.environ.get(SEED_VARIABLE)
    if seed is None:
        seed = str(secrets.randbelow(2**32))
    os.environ[SEED_VARIABLE] = str(seed)
    core.global_force_seed = int(seed) if str(seed).isdigit() else seed


# Markers that keep a test out of the quick loop; every other test is marked `quick`.
NOT_QUICK = ("server", "browser", "slow")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `quick` every test that starts no server or browser and is not marked slow."""
    for item in items:
        if not any(item.get_closest_marker(name) for name in NOT_QUICK):
            item.add_marker(pytest.mark.quick)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tell `processes` which test runs, before any of its fixtures (module-scoped too) start."""
    # Setup, call and teardown of one test all happen between two setups: the test stays
    # current until the next one begins, so a fixture's teardown is checked against it too.
    processes.current_test = item


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # At the end, also under -q (which hides the header), where a failure is read.
    seed = os.environ[SEED_VARIABLE]
    terminalreporter.write_line(
        f"hypothesis seed {seed}: replay with scripts/test --hypothesis-seed={seed}")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A fresh event database file holding the demo event and one organiser account."""
    path = tmp_path / "event.db"
    db = connect(path)
    create_demo(db, tmp_path)
    add_organiser(db, *ORGANISER)
    db.conn.close()
    return path


@pytest.fixture
def db(db_path: Path):
    """An open connection to the demo event database."""
    conn = connect(db_path)
    yield conn
    conn.conn.close()


@pytest.fixture
def app(db_path: Path):
    """The real app on the demo event database."""
    return create_app({"TESTING": True, "DATABASE": str(db_path)})


@pytest.fixture
def client(app):
    """A test client that is not signed in."""
    return app.test_client()


def csrf_token(client, path: str = "/login") -> str:
    """Fetch a page and return the CSRF token in its first form."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


@pytest.fixture
def organiser(client):
    """A test client signed in as an organiser."""
    token = csrf_token(client)
    response = client.post("/login", data={"username": ORGANISER[0], "password": ORGANISER[1],
                                           "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def free_port() -> int:
    """Return a TCP port on loopback that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """`checkin serve` running in a subprocess, as a user starts it (plain HTTP on loopback
    unless other serve options are given)."""

    def __init__(self, db_path: Path, port: int, log: Path,
                 args: Sequence[str] = ("--http", "--host", "127.0.0.1"), scheme: str = "http",
                 start_timeout: float = 30):
        self.db_path, self.port, self.log_path, self.args = db_path, port, log, tuple(args)
        self.url = f"{scheme}://127.0.0.1:{port}"
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        """Start the server and wait until it is ready; if it is not, stop all of it."""
        self.log = self.log_path.open("ab")
        self.proc = processes.spawn(
            [sys.executable, "-m", "checkin.cli", "--db", str(self.db_path), "serve", *self.args,
             "--port", str(self.port)],
            stdout=self.log, stderr=subprocess.STDOUT)
        try:
            started = time.monotonic()
            while not self.ready():
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
                if time.monotonic() - started > self.start_timeout:
                    raise RuntimeError("server did not start: "
                                       + self.log_path.read_text()[-3000:])
                time.sleep(0.1)
        except BaseException:
            # No orphan: its workers and keeper go with it (an interrupt included).
            self.stop()
            raise

    def ready(self) -> bool:
        """Whether the server answers a request."""
        try:
            requests.get(self.url + "/login", timeout=5)
            return True
        # A busy machine may accept the connection before the app answers in time.
        except (requests.ConnectionError, requests.Timeout):
            return False

    def stop(self) -> None:
        """Stop the server (SIGTERM), then whatever of its process tree is left; wait for it."""
        if self.proc is not None:
            processes.stop(self.proc, timeout=15)
        self.log.close()


@pytest.fixture
def live_server(db_path: Path, tmp_path: Path) -> Iterator[LiveServer]:
    """The real server (`checkin serve --http`) on the demo event, on a free loopback port."""
    server = LiveServer(db_path, free_port(), tmp_path / "server.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _no_process_outlives_its_test() -> Iterator[None]:
    """Stop every process the test spawned and left running, also when it failed between
    starting one and the `try` that stops it."""
    mark = processes.spawned()
    yield
    processes.stop_spawned_since(mark)


@pytest.fixture(scope="session")
def _playwright():
    """One Playwright driver for the whole test session (per xdist worker)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture
def playwright_instance(_playwright):
    """The session's Playwright driver, for a test marked `browser` only."""
    # Checked per test, not once per session: each test that launches Chromium must say so.
    processes.require_marker("browser", "a browser")
    return _playwright


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture
def browser(playwright_instance):
    """Debian's headless Chromium (never a downloaded browser)."""
    b = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True,
                                            args=CHROMIUM_ARGS)
    yield b
    b.close()


def axe_violations(page, include_best_practice: bool = False) -> list[dict]:
    """Run axe-core (WCAG 2.2 A/AA rules) on the page and return its violations."""
    # evaluate(), not an inline <script>: our Content-Security-Policy forbids inline scripts.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
    if include_best_practice:
        tags.append("best-practice")
    return page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help, "
        "nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))", tags)


def browser_login(page, base_url: str) -> None:
    """Sign a Chromium page in as the demo organiser."""
    page.goto(base_url + "/login")
    page.fill("#username", ORGANISER[0])
    page.fill("#password", ORGANISER[1])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/participants.*"))


ARTIFACTS = Path(os.environ.get("CHECKIN_ARTIFACTS", ROOT / "test-artifacts"))
