"""A plain install (runtime dependencies only, as scripts/serve-demo makes) can run the server.

0.2.0 shipped a server that could not start from a plain install: gunicorn's gevent worker
imports `packaging`, which only the test extras brought in. This test builds the wheel, installs
it into a fresh virtual environment that cannot see the test environment's packages, and runs
`checkin` from there as a user would.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import ROOT, free_port

BANNER_END = "Stop with Ctrl+C."
# Only the test extras bring these; a plain install that could import them would prove nothing.
TEST_ONLY = ("pytest", "requests", "hypothesis", "playwright", "websocket", "hatchling")


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> Iterator[Path]:
    """The `bin` folder of a fresh venv holding checkin and its runtime dependencies only."""
    work = tmp_path_factory.mktemp("plain")
    # The wheel is built by this environment (hatchling is a test extra) so that the build
    # backend is never installed into the plain venv: it would bring `packaging` along.
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "-w", str(work / "wheel"), str(ROOT)],
                   check=True, timeout=300)
    wheel = next((work / "wheel").glob("checkin-*.whl"))
    venv = work / "venv"
    # No --system-site-packages: the venv sees neither this one's nor the system's packages.
    # Without its own pip: this environment's pip installs into it (`pip --python`), with the
    # same configuration and package indexes as scripts/install, from pip's warm cache.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                    "--no-compile", str(wheel)], check=True, timeout=600)
    yield venv / "bin"


def plain_env(home: Path) -> dict[str, str]:
    """The environment of a user's shell, without anything pointing into this checkout."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
            "PYTHONNOUSERSITE": "1"}


def run(bin_dir: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the plain install's `checkin` in an empty folder, as a user would."""
    return subprocess.run([str(bin_dir / "checkin"), *args], cwd=home, env=plain_env(home),
                          capture_output=True, text=True, timeout=120)


def stop_group(proc: subprocess.Popen) -> None:
    """Stop the server and every process it started (gunicorn's workers)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=15)
    # Whatever is left of the group (a worker that outlived its arbiter, or all of it).
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=15)


def left_behind(db: Path, seconds: float = 10) -> list[str]:
    """Wait for every process naming the database (the server's keeper too) to end; kill and
    return those still running after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        running = {}
        for entry in Path("/proc").iterdir():
            with contextlib.suppress(OSError):
                if entry.name.isdigit() and str(db).encode() in (entry / "cmdline").read_bytes():
                    running[int(entry.name)] = (entry / "cmdline").read_bytes()
        if not running or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for pid in running:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return [c.replace(b"\0", b" ").decode(errors="replace") for c in running.values()]


@pytest.mark.server
def test_plain_install_runs_help_demo_and_serves_https(plain: Path, tmp_path: Path) -> None:
    """`checkin --help`, `demo` and `serve` (HTTPS) work from runtime dependencies alone."""
    leaked = subprocess.run(
        [str(plain / "python"), "-c",
         "import importlib.util as u, sys; "
         f"print(' '.join(m for m in {TEST_ONLY!r} if u.find_spec(m)))"],
        cwd=tmp_path, env=plain_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert leaked.returncode == 0 and leaked.stdout.strip() == "", leaked.stdout + leaked.stderr

    helped = run(plain, tmp_path, "--help")
    assert helped.returncode == 0 and "serve" in helped.stdout, helped.stderr

    db = tmp_path / "event" / "event.db"
    made = run(plain, tmp_path, "--db", str(db), "demo")
    assert made.returncode == 0 and db.is_file(), made.stdout + made.stderr

    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        # Its own session: the server and its workers are stopped as one process group.
        proc = subprocess.Popen([str(plain / "checkin"), "--db", str(db), "serve", "--port",
                                 str(port)], cwd=tmp_path, env=plain_env(tmp_path),
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 45
        while BANNER_END not in log_path.read_text(errors="replace"):
            assert proc.poll() is None, f"server exited: {log_path.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"no banner: {log_path.read_text()[-3000:]}"
            time.sleep(0.1)
        ca = db.parent / "tls" / "ca.crt"
        page = requests.get(f"https://127.0.0.1:{port}/login", verify=str(ca), timeout=15)
        assert page.status_code == 200, log_path.read_text()[-3000:]
        # A request to a worker is where the missing `packaging` showed: the worker died.
        assert proc.poll() is None
        with socket.create_connection(("127.0.0.1", port), timeout=15) as conn:
            conn.sendall(f"GET /login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            answer = b""
            while chunk := conn.recv(4096):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 301 "), answer[:200]
        assert f"Location: https://127.0.0.1:{port}/login".encode() in answer
    finally:
        stop_group(proc)
        left = left_behind(db)
    assert left == [], f"still running after the server stopped: {left}"
