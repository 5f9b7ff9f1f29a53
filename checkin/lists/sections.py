"""What each paper list holds, in the reader's language: heading, facts, columns and rows.

The entrance list (everyone A–Z, a cross for who has arrived), each excursion's roster (boxes
to tick at departure and return, empty lines for walk-ons) and each working group's list. The
drawing (checkin.lists.pdf) only places these; tests/test_lists.py fits every row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reportlab.lib.units import mm

from checkin.core import clock
from checkin.lists.layout import BOLD, FONT, Column

WALK_ON_LINES = 3  # empty lines under each excursion's roster, for walk-ons


@dataclass(frozen=True)
class Section:
    """One list: it starts on a new page, and its heading and columns head every page of it."""

    heading: str
    facts: str
    columns: list[Column]
    rows: list[list[Any]]
    note: str = ""


def sections(data: dict[str, Any], _: Callable[[str], str]) -> list[Section]:
    """Return the lists of `data` (checkin.lists.data.list_data) with texts from `_`."""
    zone = data["zone"]
    event_name = data["event"].get("name") or "checkin"
    # Said in words too: the cross alone is easy to miss on a copy (and never colour alone).
    arrived_word = " (" + _("arrived") + ")"

    def name(p: dict[str, Any]) -> list[tuple[str, str]]:
        runs = [(p["last_name"] or "", BOLD), (", " + (p["first_name"] or ""), FONT)]
        return [*runs, (arrived_word, FONT)] if p["arrived"] else runs

    def hhmm(value: str | None) -> str:
        return clock.clock_text(value, zone)

    marked = _("A cross marks who had arrived when this list was printed.") \
        if data["arrived"] else ""
    found = [Section(
        _("Entrance list"),
        f"{event_name} · {len(data['people'])} " + _("participants")
        + (f" · {marked}" if marked else ""),
        [Column("", 9 * mm, "box"), Column(_("Name"), 74 * mm, "name"),
         Column(_("Organisation"), 55 * mm), Column(_("City"), 21 * mm),
         Column(_("Code (last 4)"), 23 * mm, "code")],
        [[p["arrived"], name(p), p["organisation"], p["city"], p["code4"]]
         for p in data["people"]])]
    for x in data["excursions"]:
        facts = [_("Guide") + ": " + (x["guide"] or "–"),
                 _("Departure") + ": " + ", ".join(filter(None, [hhmm(x["departs_at"]),
                                                                x["departure_place"] or ""])),
                 _("Back") + ": " + (hhmm(x["returns_at"]) or "–")]
        found.append(Section(
            _("Excursion") + ": " + x["title"], " · ".join(facts),
            [Column(_("Left"), 17 * mm, "box"), Column(_("Back"), 17 * mm, "box"),
             Column(_("Name"), 77 * mm, "name"), Column(_("Organisation"), 48 * mm),
             Column(_("Code (last 4)"), 23 * mm, "code")],
            [[False, False, name(p), p["organisation"], p["code4"]] for p in x["people"]]
            + [[False, False, "", "", ""]] * WALK_ON_LINES,
            _("%(n)s people. Empty lines: walk-ons.") % {"n": len(x["people"])}))
    for g in data["groups"]:
        facts = [g["area"], g["room_name"],
                 "–".join(filter(None, [hhmm(g["starts_at"]), hhmm(g["ends_at"])]))]
        found.append(Section(
            _("Working group") + ": " + g["title"], " · ".join(f for f in facts if f),
            [Column("", 9 * mm, "box"), Column(_("Name"), 80 * mm, "name"),
             Column(_("Organisation"), 66 * mm), Column(_("City"), 27 * mm)],
            [[False, name(p), p["organisation"], p["city"]] for p in g["people"]]))
    return found
