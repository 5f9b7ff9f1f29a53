"""The event file's lists of tables with an id and a name ([[delegations]], [[assembly_points]]).

Each kind checks its own fields; what they share is checked here once, with the kind's own
catalogue entries (`<kind>.not_list`, `.id`, `.no_name`, `.id_twice`).
"""

from __future__ import annotations

import re
from typing import Any

from checkin.core.errors import Text, say

#: What an id in the event file may be: letters, digits, '-' and '_', up to 40 characters.
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")


def named_tables(raw: Any, kind: str, problems: list[Text]
                 ) -> list[tuple[str, str, dict[str, Any]]]:
    """Return (id, name, table) for each table of `raw` with a good id and a name, each id
    once; what is wrong is added to `problems` (None, no list at all, gives nothing)."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        problems.append(say(f"{kind}.not_list"))
        return []
    found: list[tuple[str, str, dict[str, Any]]] = []
    for item in raw:
        ident = item.get("id")
        if not isinstance(ident, str) or not ID_PATTERN.match(ident):
            problems.append(say(f"{kind}.id", id=repr(ident)))
            continue
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(say(f"{kind}.no_name", id=ident))
            continue
        if any(seen == ident for seen, _name, _item in found):
            problems.append(say(f"{kind}.id_twice", id=ident))
            continue
        found.append((ident, name.strip(), item))
    return found
