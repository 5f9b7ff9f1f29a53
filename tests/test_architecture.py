"""One house: only checkin/scans/ reads the day's log (issue 18).

The scan log is `scans`, `corrections` and `excursion_events`. Code outside checkin/scans/
asks the read model's functions instead of writing SQL over these tables or pasting the SQL
fragments checkin/scans/ uses itself, so that every number is counted by one rule. This test
reads the source: the string literals (docstrings aside) of every module outside
checkin/scans/, and what each imports from checkin.scans.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import checkin

PACKAGE = Path(checkin.__file__).parent
ROOT = PACKAGE.parent
LOG_TABLES = ("scans", "corrections", "excursion_events")
# SQL naming a log table as a table: FROM/JOIN/INTO/UPDATE/TABLE scans ("DELETE FROM scans"
# is caught by its FROM). Prose says "from scans" too: a lower-case keyword counts only in
# text that also holds a statement's verb.
SQL_OVER_LOG = re.compile(
    r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+(?:" + "|".join(LOG_TABLES) + r")\b", re.IGNORECASE)
SQL_VERB = re.compile(r"\b(?:SELECT|INSERT|UPDATE|DELETE|CREATE)\b", re.IGNORECASE)
# What an imported string must look like to be a fragment of SQL.
SQL_WORDS = re.compile(r"\b(?:SELECT|FROM|JOIN|WHERE|EXISTS|coalesce|LIMIT)\b", re.IGNORECASE)

# Modules outside checkin/scans/ that may still name the log's tables, and why.
EXCEPTIONS = {
    "checkin/core/schema.py": "creates the log's tables, their indexes, and migrates them",
}


def _docstrings(tree: ast.AST) -> set[int]:
    """Return the ids of the docstring nodes of a module, its classes and functions."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                found.add(id(body[0].value))
    return found


def _text(node: ast.AST) -> str | None:
    """Return the text a string expression spells, with '{}' for what is computed, or None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left), _text(node.right)
        if left is not None or right is not None:
            return (left if left is not None else "{}") + (right if right is not None else "{}")
    return None


def _sql_fragment(module: str, name: str) -> bool:
    """Say whether `name` in checkin.scans module `module` is a string of SQL."""
    try:
        value = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return False
    return isinstance(value, str) and bool(SQL_WORDS.search(value))


def log_sql_problems(source: str) -> list[str]:
    """Return each place where `source` (a module's text) reads or writes the log itself:
    SQL naming a log table, and SQL fragments taken from checkin.scans."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    problems = []
    # Names bound to checkin.scans modules, for fragments read as `module.NAME`.
    modules: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("checkin.scans") and alias.asname:
                    modules[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("checkin.scans"):
            for alias in node.names:
                if node.module == "checkin.scans" and \
                        (PACKAGE / "scans" / f"{alias.name}.py").exists():
                    modules[alias.asname or alias.name] = f"checkin.scans.{alias.name}"
                elif _sql_fragment(node.module, alias.name):
                    problems.append(f"line {node.lineno}: imports the SQL fragment "
                                    f"{alias.name} from {node.module}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id in modules and _sql_fragment(modules[node.value.id], node.attr):
            problems.append(f"line {node.lineno}: uses the SQL fragment "
                            f"{modules[node.value.id]}.{node.attr}")
        if id(node) in skip or isinstance(node, ast.Constant) and _inside_joined(tree, node):
            continue
        text = _text(node)
        # A BinOp's parts are visited on their own too: report the outermost text only once.
        if text is None or _part_of_larger(tree, node):
            continue
        for found in SQL_OVER_LOG.finditer(text):
            keyword = found.group(0).split()[0]
            if keyword.isupper() or SQL_VERB.search(text):
                problems.append(f"line {node.lineno}: SQL over the log: {found.group(0)!r}")
                break
    return problems


def _parents(tree: ast.AST) -> dict[int, ast.AST]:
    cached = getattr(tree, "_parents", None)
    if cached is None:
        cached = {id(child): parent for parent in ast.walk(tree)
                  for child in ast.iter_child_nodes(parent)}
        tree._parents = cached  # type: ignore[attr-defined]
    return cached


def _inside_joined(tree: ast.AST, node: ast.AST) -> bool:
    """Say whether a constant is a piece of an f-string (read with the f-string instead)."""
    return isinstance(_parents(tree).get(id(node)), ast.JoinedStr)


def _part_of_larger(tree: ast.AST, node: ast.AST) -> bool:
    """Say whether a string expression is one operand of a longer concatenation."""
    parent = _parents(tree).get(id(node))
    return isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Add) \
        and _text(parent) is not None


def _modules() -> list[Path]:
    """Every module of the package outside checkin/scans/."""
    return sorted(p for p in PACKAGE.rglob("*.py")
                  if p.relative_to(PACKAGE).parts[0] != "scans")


def test_only_the_scans_package_reads_the_log():
    """No module outside checkin/scans/ writes SQL over the log or pastes its fragments."""
    found = {}
    for path in _modules():
        name = path.relative_to(ROOT).as_posix()
        problems = log_sql_problems(path.read_text(encoding="utf-8"))
        if problems and name not in EXCEPTIONS:
            found[name] = problems
    assert found == {}, "ask checkin.scans (the read model) instead:\n" + "\n".join(
        f"{name}: {p}" for name, problems in found.items() for p in problems)


def test_every_exception_is_still_needed():
    """An exception whose module no longer names the log is removed, so the list stays true."""
    for name in EXCEPTIONS:
        path = ROOT / name
        assert path.exists(), f"{name} is gone: remove its exception"
        assert log_sql_problems(path.read_text(encoding="utf-8")), \
            f"{name} no longer names the log: remove its exception"


def test_the_checker_finds_sql_over_the_log():
    """The checker is not blind: each way of reading the log around the read model is found."""
    assert log_sql_problems('ROWS = "SELECT count(*) FROM scans WHERE status = ?"\n')
    assert log_sql_problems('def f(db):\n    """Count."""\n'
                            '    return db.execute("SELECT 1 FROM participants p "\n'
                            '                      "LEFT JOIN corrections c ON 1")\n')
    assert log_sql_problems('def f(db, t):\n    db.execute(f"DELETE FROM excursion_events '
                            'WHERE at < {t}")\n')
    assert log_sql_problems('def f(db):\n    db.execute("INSERT INTO " "scans (id) VALUES (1)")\n')
    assert log_sql_problems('Q = "select id from scans where seq > ?"\n')
    assert log_sql_problems('def f(db, w):\n    db.execute("SELECT * FROM " + "corrections" + w)\n')
    assert log_sql_problems("from checkin.scans.readmodel import ASSIGNED_EXCURSION\n")
    assert log_sql_problems("from checkin.scans.log import VOIDED, timelines\n")
    assert log_sql_problems("from checkin.scans import people\n"
                            "SQL = people.PERSON_JOINS\n")
    # ...and quiet where there is nothing to find: prose, other tables, the read model's calls.
    assert log_sql_problems('"""Counts derived from scans and corrections."""\n'
                            'from checkin.scans.readmodel import timelines\n'
                            'from checkin.scans.corrections import MAX_NOTE\n'
                            'Q = "SELECT id FROM participants WHERE scans_seen = 1"\n'
                            'MESSAGE = "Nothing was deleted from scans."\n') == []


# A module a newcomer can read in one sitting; longer ones are split into a package.
MAX_LINES = 500
# Modules allowed over MAX_LINES, and why (none today).
LONG_MODULES: dict[str, str] = {}


def test_no_module_is_over_500_lines():
    """Every module of the package has at most 500 lines, or a named exception."""
    long = {p.relative_to(ROOT).as_posix(): n for p in sorted(PACKAGE.rglob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert {name: n for name, n in long.items() if name not in LONG_MODULES} == {}, \
        "split these into smaller modules"
    assert set(LONG_MODULES) <= set(long), "a listed long module is short now: remove it"


ARCHITECTURE = ROOT / "docs" / "architecture.md"
CODE = re.compile(r"`([^`\s]+)`")


def named_in_architecture() -> list[str]:
    """Return each file, folder, module or function docs/architecture.md names in code."""
    found = []
    for token in CODE.findall(ARCHITECTURE.read_text(encoding="utf-8")):
        token = token.split("(")[0].rstrip(",.")
        if "<" in token:  # a pattern such as checkin/<feature>/, not a name
            continue
        if token.startswith("checkin") or token.endswith((".py", ".js", "/")):
            found.append(token)
    return found


def resolves(name: str) -> bool:
    """Say whether a name from the doc exists: a path, a file name, or a dotted module/attribute."""
    if "/" in name:
        return (ROOT / name).exists()
    if name.endswith((".py", ".js")):
        return any(PACKAGE.rglob(name)) or any((ROOT / "static").rglob(name))
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            if not hasattr(value, attr):
                return False
            value = getattr(value, attr)
        return True
    return False


def test_every_module_the_architecture_doc_names_exists():
    """docs/architecture.md names only modules, files and functions that exist."""
    names = named_in_architecture()
    assert len(names) > 40  # the doc names the layers' modules and the scan's walk
    assert [name for name in names if not resolves(name)] == []


def test_the_doc_check_finds_a_missing_module():
    """The check is not blind: a module, a file and a function that do not exist are caught."""
    assert not resolves("checkin.scans.record.no_such_function")
    assert not resolves("checkin/no_such_module.py")
    assert not resolves("no_such_module.py")
    assert resolves("checkin.scans.record.record_scans")
# --------------------------------------------------------------------------- one clock
# Every time is read, written and shown by checkin/core/clock.py (issue 18: there were 8
# formatters and 6 parsers). These calls do it by hand; nothing outside the clock makes them.
CLOCK = "checkin/core/clock.py"
TIME_METHODS = {"strftime", "fromisoformat", "astimezone", "utcnow", "utcfromtimestamp"}
TIME_FUNCTIONS = {"ZoneInfo", "format_date", "format_time", "format_datetime"}
# datetime.now() and date.today(): the present comes from clock.now(), the one place a test
# can freeze.
PRESENT = {("datetime", "now"), ("date", "today")}
# Modules outside the clock that may still make such a call, and why.
CLOCK_EXCEPTIONS: dict[str, str] = {}
# Pages and scripts: a time for people is written by CheckinUI.timeFormat (the event's zone).
PAGE_TIME_CALLS = re.compile(r"strftime\(|toLocale(?:Time|Date)?String\(|Intl\.DateTimeFormat\(")
PAGE_CLOCK = "static/js/checkin-ui.js"


def _time_calls(source: str) -> list[str]:
    """Return the hand-made time calls in a module's source, as 'line: name'."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute):
            owner = func.value.id if isinstance(func.value, ast.Name) else None
            if func.attr in TIME_METHODS | TIME_FUNCTIONS or (owner, func.attr) in PRESENT:
                found.append(f"{node.lineno}: {func.attr}")
        elif isinstance(func, ast.Name) and func.id in TIME_FUNCTIONS:
            found.append(f"{node.lineno}: {func.id}")
    return found


def _clock_offenders() -> dict[str, list[str]]:
    """Return every module outside the clock that formats or parses times itself."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name != CLOCK:
            calls = _time_calls(path.read_text(encoding="utf-8"))
            if calls:
                out[name] = calls
    return out


def test_only_the_clock_reads_and_writes_times():
    offenders = {k: v for k, v in _clock_offenders().items() if k not in CLOCK_EXCEPTIONS}
    assert offenders == {}, "use checkin.core.clock instead: " + repr(offenders)


def test_every_clock_exception_is_still_needed():
    offenders = _clock_offenders()
    assert [name for name in CLOCK_EXCEPTIONS if name not in offenders] == []


def test_pages_write_times_only_through_the_page_clock():
    files = [*sorted((ROOT / "templates").rglob("*.html")),
             *sorted((ROOT / "static" / "js").glob("*.js"))]
    offenders = [f"{path.relative_to(ROOT)}: {m.group(0)}" for path in files
                 if path.relative_to(ROOT).as_posix() != PAGE_CLOCK
                 for m in PAGE_TIME_CALLS.finditer(path.read_text(encoding="utf-8"))]
    assert offenders == []


def test_the_clock_checker_finds_hand_made_times():
    source = ("from datetime import datetime\nfrom zoneinfo import ZoneInfo\n"
              "a = datetime.now()\nb = datetime.fromisoformat(x).astimezone(ZoneInfo('UTC'))\n"
              "c = b.strftime('%H:%M')\nd = clock.now()\n")
    assert sorted(_time_calls(source)) == ["3: now", "4: ZoneInfo", "4: astimezone",
                                           "4: fromisoformat", "5: strftime"]


# --------------------------------------------------------------------------- dead code
# What vulture reports but is used by name from outside the Python it reads, and why.
USED_BY_NAME = {
    r"m\d{3}[a-z]?_\w+": "schema migrations, run in order by checkin.core.schema.migrations",
    r"\w+_command": "click commands, registered on the `checkin` group",
    r"on_(connect|disconnect|catch_up|join)": "Socket.IO handlers, called by event name",
    r"security_headers": "registered with @app.after_request",
    r"log_request|load_config|get_cookie_secure": "overrides of the base class's hook",
    r"status_code|max_content_length|permanent|freeze_panes|session_interface":
        "attributes set for Werkzeug, Flask and openpyxl to read",
    r"RedactingLogger": "gunicorn's logger_class, named as a string in web/server.py",
    r"markdown_table": "docs/security.md's permission table; test_security_roles compares them",
    r"add_participant": "one person by hand: tests build their fixtures with it",
    r"worker_main": "the pool's worker, started by name in core/pool.py's CHILD script",
    r"build_scale_event": "the 5,000-person event of scripts/bench --scale and test_scale",
}


def _dead_code() -> list[str]:
    """Return what vulture finds unused in checkin/ and no USED_BY_NAME pattern explains."""
    import vulture

    finder = vulture.Vulture()
    finder.scavenge([str(PACKAGE)])
    return [f"{item.filename}:{item.first_lineno}: {item.name}"
            for item in finder.get_unused_code(min_confidence=60)
            if not any(re.fullmatch(p, item.name) for p in USED_BY_NAME)]


def test_no_dead_code():
    assert _dead_code() == []
