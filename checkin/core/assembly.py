"""Assembly points and the roll call's settings in the event file.

```toml
[rollcall]
marshals_may_start = true        # default false: only organisers start a venue roll call

[[assembly_points]]
id = "car-park"
name = "Car park P1"
titles = { de = "Parkplatz P1", nl = "Parkeerplaats P1" }
```

Each assembly point becomes a checkpoint `assembly:<id>` of kind `assembly`: scans there
account for people in a roll call and never move anyone's presence or headcounts.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sqlite_utils import Database

from checkin.core.db import get_meta, set_meta
from checkin.core.errors import Text, say

META_KEY = "rollcall"
KIND = "assembly"
PREFIX = KIND + ":"
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
LANGUAGES = ("de", "nl", "en")


def parse_assembly_points(raw: Any, problems: list[Text]
                          ) -> tuple[list[dict[str, Any]], dict[str, dict[str, str]]]:
    """Check [[assembly_points]]; return the points ({id, name}) and their names in other
    languages ({id: {lang: name}}); what is wrong is added to `problems`."""
    if raw is None:
        return [], {}
    if not isinstance(raw, list) or not all(isinstance(p, dict) for p in raw):
        problems.append(say("assembly.not_list"))
        return [], {}
    points: list[dict[str, Any]] = []
    titles: dict[str, dict[str, str]] = {}
    for item in raw:
        ident = item.get("id")
        if not isinstance(ident, str) or not ID_PATTERN.match(ident):
            problems.append(say("assembly.id", id=repr(ident)))
            continue
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(say("assembly.no_name", id=ident))
            continue
        if any(p["id"] == ident for p in points):
            problems.append(say("assembly.id_twice", id=ident))
            continue
        extra = item.get("titles", {})
        if not isinstance(extra, dict) or not all(
                lang in LANGUAGES and isinstance(t, str) and t.strip()
                for lang, t in extra.items()):
            problems.append(say("assembly.titles", id=ident))
            continue
        points.append({"id": ident, "name": name.strip()})
        if extra:
            titles[ident] = {k: v.strip() for k, v in extra.items()}
    return points, titles


def parse_rollcall_settings(raw: Any, problems: list[Text]) -> dict[str, Any]:
    """Check the [rollcall] table; return its settings with their defaults."""
    settings = {"marshals_may_start": False}
    if raw is None:
        return settings
    if not isinstance(raw, dict) or not isinstance(raw.get("marshals_may_start", False), bool):
        problems.append(say("assembly.settings"))
        return settings
    settings["marshals_may_start"] = raw.get("marshals_may_start", False)
    return settings


def store_rollcall_settings(db: Database, settings: dict[str, Any]) -> None:
    """Keep the event file's [rollcall] settings (inside the event's write transaction)."""
    set_meta(db, META_KEY, json.dumps(settings))


def marshals_may_start(db: Database) -> bool:
    """Say whether the event file lets marshals start a venue roll call themselves."""
    raw = get_meta(db, META_KEY)
    return bool(raw and json.loads(raw).get("marshals_may_start"))

