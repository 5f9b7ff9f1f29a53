"""A private CUPS for tests: Debian's cupsd in the foreground, with its own folders and port,
and a CUPS-PDF queue whose output a test can read back."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import processes
from tests.conftest import free_port

PPD = "lsb/usr/cups-pdf/CUPS-PDF_opt.ppd"


@dataclass
class Cups:
    """A running private cupsd: where it listens and the PDF queue's name."""

    server: str
    queue: str
    folder: Path

    def env(self) -> dict[str, str]:
        """The environment that makes lp/lpstat talk to this cupsd."""
        return {**os.environ, "CUPS_SERVER": self.server, "LC_ALL": "C"}

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a CUPS command against this server."""
        return subprocess.run(list(args), env=self.env(), capture_output=True, text=True,
                              timeout=30, check=False)

    @staticmethod
    def output(title: str, timeout: float = 30) -> Path:
        """Wait for CUPS-PDF's file of the job titled `title` and return its path."""
        # CUPS-PDF writes into the job owner's ~/PDF (its config is system-wide); the
        # title holds the job's random id, so parallel tests never pick each other's file.
        folder = Path(os.path.expanduser("~root")) / "PDF"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = sorted(folder.glob(f"{title}*.pdf")) if folder.is_dir() else []
            if found and found[0].stat().st_size > 0:
                time.sleep(0.3)  # let the backend finish writing
                return found[0]
            time.sleep(0.2)
        raise AssertionError(f"CUPS-PDF wrote no {title}*.pdf into {folder}")


def why_no_cups() -> str | None:
    """Say why a private cupsd cannot run here, or None if it can."""
    if os.geteuid() != 0:
        return "cupsd runs only as root (it starts its filters as the lp user)"
    for tool in ("cupsd", "lpadmin", "lp", "lpstat", "pdftoppm"):
        if not shutil.which(tool) and not Path("/usr/sbin", tool).exists():
            return f"{tool} is not installed (scripts/install --test installs it)"
    if not Path("/usr/lib/cups/backend/cups-pdf").exists():
        return "printer-driver-cups-pdf is not installed"
    return None


@contextmanager
def private_cups() -> Iterator[Cups]:
    """Start cupsd on a free port with its own folders and a CUPS-PDF queue; stop it after."""
    reason = why_no_cups()
    if reason:
        pytest.skip(reason)
    # Not under pytest's tmp_path: its folders are private to root, and CUPS's filters run
    # as the lp user, who must read the queue's PPD and write temporary files.
    folder = Path(tempfile.mkdtemp(prefix="checkin-cups-"))
    folder.chmod(0o755)
    for name in ("spool", "cache", "state", "log", "tmp"):
        (folder / name).mkdir(exist_ok=True)
    (folder / "tmp").chmod(0o1777)
    (folder / "spool").chmod(0o710)
    port = free_port()
    (folder / "cups-files.conf").write_text(
        f"ServerRoot {folder}\nRequestRoot {folder}/spool\nCacheDir {folder}/cache\n"
        f"StateDir {folder}/state\nTempDir {folder}/tmp\nErrorLog {folder}/log/error_log\n"
        f"AccessLog {folder}/log/access_log\nPageLog {folder}/log/page_log\n"
        f"Printcap {folder}/printcap\nSystemGroup root\n")
    (folder / "cupsd.conf").write_text(
        f"Listen 127.0.0.1:{port}\nLogLevel info\nBrowsing No\nWebInterface No\n"
        "DefaultAuthType None\n<Location />\n  Order allow,deny\n  Allow all\n</Location>\n"
        "<Policy default>\n  <Limit All>\n    Order allow,deny\n    Allow all\n  </Limit>\n"
        "</Policy>\n")
    log = (folder / "log" / "stdout").open("wb")
    proc = processes.spawn(["cupsd", "-f", "-c", str(folder / "cupsd.conf"),
                            "-s", str(folder / "cups-files.conf")],
                           stdout=log, stderr=subprocess.STDOUT)
    cups = Cups(f"127.0.0.1:{port}", "CheckinPDF", folder)
    try:
        deadline = time.monotonic() + 20
        while cups.run("lpstat", "-r").stdout.strip() != "scheduler is running":
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("cupsd did not start: "
                                   + (folder / "log" / "error_log").read_text()[-2000:])
            time.sleep(0.2)
        added = cups.run("lpadmin", "-p", cups.queue, "-E", "-v", "cups-pdf:/", "-m", PPD)
        assert added.returncode == 0, added.stderr
        yield cups
    finally:
        processes.stop(proc, timeout=10)  # with its filters and backends
        log.close()
        shutil.rmtree(folder, ignore_errors=True)
