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
from typing import Any

from sqlite_utils import Database

from checkin.core.db import get_meta, set_meta
from checkin.core.errors import Text, say
from checkin.core.tables import named_tables

META_KEY = "rollcall"
KIND = "assembly"
PREFIX = KIND + ":"
LANGUAGES = ("de", "nl", "en")


def parse_assembly_points(raw: Any, problems: list[Text]
                          ) -> tuple[list[dict[str, Any]], dict[str, dict[str, str]]]:
    """Check [[assembly_points]]; return the points ({id, name}) and their names in other
    languages ({id: {lang: name}}); what is wrong is added to `problems`."""
    points: list[dict[str, Any]] = []
    titles: dict[str, dict[str, str]] = {}
    for ident, name, item in named_tables(raw, "assembly", problems):
        extra = item.get("titles", {})
        if not isinstance(extra, dict) or not all(
                lang in LANGUAGES and isinstance(t, str) and t.strip()
                for lang, t in extra.items()):
            problems.append(say("assembly.titles", id=ident))
            continue
        points.append({"id": ident, "name": name})
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

