"""The quick loop (`scripts/test -m quick`) covers every package of checkin/ (issue 18).

`quick` is every test not marked server, browser or slow (tests/conftest.py). A package is
covered when a module holding quick tests imports it by name, or asks for one of the URLs
its views serve (the test client reaches the views through the app, not by import). The
quick set is read from pytest's own collection, so a test that gains a `server` mark and
leaves a package uncovered fails here, not in a week.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import checkin

PACKAGE = Path(checkin.__file__).parent
ROOT = PACKAGE.parent


def quick_modules() -> set[Path]:
    """Return the test files that hold at least one test of the quick set."""
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "quick", "-p", "no:xdist",
         "-p", "no:cacheprovider", "tests"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert listed.returncode == 0, listed.stdout[-3000:] + listed.stderr[-3000:]
    return {ROOT / line.split("::")[0] for line in listed.stdout.splitlines() if "::" in line}


def packages() -> list[str]:
    """Return every package below checkin/ as a dotted name (checkin.core, checkin.api, …)."""
    return sorted("checkin." + ".".join(p.parent.relative_to(PACKAGE).parts)
                  for p in PACKAGE.rglob("__init__.py") if p.parent != PACKAGE)


def imported(source: str) -> set[str]:
    """Return the modules a test file imports, by dotted name."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def served(app) -> dict[str, set[str]]:
    """Return, per package, the fixed start of each URL rule its views serve."""
    found: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        module = app.view_functions[rule.endpoint].__module__
        start = rule.rule.split("<")[0]
        if module.startswith("checkin.") and len(start) > 1:
            found.setdefault(".".join(module.split(".")[:2]), set()).add(start)
    return found


def test_the_quick_set_covers_every_package(app):
    sources = {path: path.read_text(encoding="utf-8") for path in quick_modules()}
    assert len(sources) > 10, sorted(sources)
    urls = served(app)
    uncovered = []
    for package in packages():
        by_import = any(name == package or name.startswith(package + ".")
                        for text in sources.values() for name in imported(text))
        # A URL counts where the file writes it as a string: "/api/v1/scans", f"/scan?…".
        by_url = any(re.search(r"""["']""" + re.escape(start), text)
                     for start in urls.get(".".join(package.split(".")[:2]), ())
                     for text in sources.values())
        if not (by_import or by_url):
            uncovered.append(package)
    assert uncovered == [], f"no quick test imports or requests {uncovered}"
