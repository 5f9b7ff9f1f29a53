"""Delegations named in the event file, and the spellings in a participants file that mean each.

```toml
[[delegations]]
id = "groningen"
name = "Groningen"
spellings = ["Gemeente Groningen", "Stadt Groningen"]

[[delegations]]
id = "other"          # the one every unknown city goes to
name = "Other"
```

Without `[[delegations]]` a participant's city is kept as typed (each city is a delegation).
With them, the import stores the delegation's `name` in `city`; a city that is no spelling
of any delegation goes to "other" and is reported by line as a warning.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from checkin.core.db import get_meta, set_meta
from checkin.core.errors import Text, say
from checkin.core.tables import named_tables

OTHER = "other"
META_KEY = "delegations"


def normalise(text: str) -> str:
    """Return a city as it is compared: case, surrounding and repeated spaces ignored."""
    return " ".join(text.casefold().split())


def parse_delegations(raw: Any, problems: list[Text]) -> list[dict[str, Any]]:
    """Check the event file's [[delegations]]; add what is wrong to `problems`."""
    out: list[dict[str, Any]] = []
    owner: dict[str, str] = {}
    for ident, name, item in named_tables(raw, "delegations", problems):
        spellings = item.get("spellings", [])
        if not isinstance(spellings, list) or not all(isinstance(s, str) and s.strip()
                                                      for s in spellings):
            problems.append(say("delegations.spellings", id=ident))
            continue
        # Its name is always one of its spellings, so that a re-import of an export maps back.
        for spelling in [name, *spellings]:
            key = normalise(spelling)
            if owner.get(key, ident) != ident:
                problems.append(say("delegations.spelling_taken", id=ident,
                                    spelling=repr(spelling), other=owner[key]))
            owner[key] = ident
        out.append({"id": ident, "name": name,
                    "spellings": [s.strip() for s in spellings]})
    if out and not any(d["id"] == OTHER for d in out):
        problems.append(say("delegations.no_other"))
    return out


def store_delegations(db: Database, delegations: list[dict[str, Any]]) -> None:
    """Keep the event file's delegations in the event database."""
    set_meta(db, META_KEY, json.dumps(delegations))


def delegations(db: Database) -> list[dict[str, Any]]:
    """Return the event's delegations as the event file gives them ([] if it names none)."""
    raw = get_meta(db, META_KEY)
    return json.loads(raw) if raw else []


@dataclass
class CityMap:
    """Every spelling (normalised) with the delegation name it means, and the catch-all."""

    names: dict[str, str]
    other: str

    def delegation(self, city: str) -> tuple[str, bool]:
        """Return the delegation a typed city belongs to, and whether it was a known spelling."""
        found = self.names.get(normalise(city))
        return (found, True) if found is not None else (self.other, False)


def city_map(db: Database) -> CityMap | None:
    """Return how typed cities map to delegations; None when the event names no delegations."""
    found = delegations(db)
    if not found:
        return None
    names = {normalise(s): d["name"] for d in found for s in (d["name"], *d["spellings"])}
    return CityMap(names, next(d["name"] for d in found if d["id"] == OTHER))
