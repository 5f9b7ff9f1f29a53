"""The event file (TOML): parse it, check it, and apply it to the event database."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from checkin.core.assembly import (
    parse_assembly_points,
    parse_rollcall_settings,
    store_rollcall_settings,
)
from checkin.core.clock import (
    at,
    event_day_of,
    event_zone_of,
    known_zone,
    now_iso,
    parse_day,
    parse_wall_time,
    zone,
)
from checkin.core.db import get_meta, set_meta, writing
from checkin.core.delegations import parse_delegations, store_delegations
from checkin.core.errors import Text, say
from checkin.core.tables import ID_PATTERN
from checkin.core.texts import normalise_event_data
from checkin.core.texts import store as store_texts

LANGUAGES = ("de", "nl", "en")
ENTRANCE = "entrance"


class EventFileError(ValueError):
    """The event file has problems: `texts` lists every one from the error catalogue (worded
    when read), `problems` the same in English (the log's and the tests' wording)."""

    def __init__(self, texts: list[Text]):
        self.texts = texts
        self.problems = [text.render("en") for text in texts]
        super().__init__("\n".join(self.problems))


@dataclass
class Event:
    """A checked event description, ready to be applied to a database."""

    name: str
    date: date
    venue: str
    host_city: str
    languages: list[str]
    timezone: str
    rooms: list[dict[str, Any]] = field(default_factory=list)
    working_groups: list[dict[str, Any]] = field(default_factory=list)
    excursions: list[dict[str, Any]] = field(default_factory=list)
    # Badge extras: {"colors": {city: "#RRGGBB"}, "logo": {"kind": "png"|"svg", "data": b64}}
    badges: dict[str, Any] = field(default_factory=dict)
    # Names given in several languages: {kind: {id: {lang: text}}} (checkin/core/texts.py); a
    # working group's or excursion's `titles = {nl = "…"}` table lands here too.
    texts: dict[str, Any] = field(default_factory=dict)
    # [[delegations]]: id, name and the spellings that mean each (checkin/core/delegations.py)
    delegations: list[dict[str, Any]] = field(default_factory=list)
    # [[assembly_points]] (id, name) and the [rollcall] settings (checkin/core/assembly.py)
    assembly_points: list[dict[str, Any]] = field(default_factory=list)
    rollcall: dict[str, Any] = field(default_factory=dict)


def _time(value: Any, day: date, tz: ZoneInfo) -> str | None:
    """Turn a TOML time ("09:30" or a TOML time) on the event day into a UTC ISO string."""
    if isinstance(value, str):
        value = parse_wall_time(value)
    if not isinstance(value, time):
        raise ValueError
    return now_iso(at(day, value, tz))


def _contrast_with_white(color: str) -> float:
    """The WCAG contrast ratio of a #RRGGBB colour against white."""
    def channel(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    lum = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    return 1.05 / (lum + 0.05)


def _badges(raw: Any, base: Path | None, problems: list[Text]) -> dict[str, Any]:
    """Check the [badges] table: a logo file (PNG or SVG) and the delegations' colours."""
    import base64

    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(say("badges.not_table"))
        return {}
    out: dict[str, Any] = {}
    colors = raw.get("colors", {})
    if not isinstance(colors, dict):
        problems.append(say("badges.colors"))
        colors = {}
    for city, color in colors.items():
        if not isinstance(color, str) or not re.fullmatch(r"#[0-9A-Fa-f]{6}", color):
            problems.append(say("badges.color", city=city))
        elif _contrast_with_white(color) < 4.5:
            # White text sits on the colour, and the colour on white paper.
            problems.append(say("badges.too_light", city=city, color=color))
        else:
            out.setdefault("colors", {})[city] = color
    logo = raw.get("logo")
    if logo is not None:
        path = Path(str(logo))
        if base is not None and not path.is_absolute():
            path = base / path
        kind = path.suffix.lower().lstrip(".")
        if kind not in ("png", "svg"):
            problems.append(say("badges.logo_kind", logo=repr(logo)))
            return out
        try:
            data = path.read_bytes()
        except OSError as exc:
            problems.append(say("badges.logo_unreadable", logo=repr(logo),
                                error=str(exc.strerror or exc)))
            return out
        if len(data) > 2 * 1024 * 1024:
            problems.append(say("badges.logo_size", logo=repr(logo)))
            return out
        from checkin.core.logo import Logo

        try:
            Logo.load(kind, data)
        except ValueError as exc:
            # Logo.load says it in English; the library's own detail stays as it is.
            problems.append(say("badges.logo_svg", logo=repr(logo)) if kind == "svg" else
                            say("badges.logo_image", logo=repr(logo), error=str(exc.__cause__)))
            return out
        out["logo"] = {"kind": kind, "data": base64.b64encode(data).decode("ascii")}
    return out


def parse_event(text: str, base: Path | None = None) -> Event:
    """Parse and check an event file; raise EventFileError listing every problem.

    `base` is the folder that files named in it (the badge logo) are relative to.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise EventFileError([say("event.toml", error=str(exc))]) from exc
    problems: list[Text] = []
    ev = data.get("event")
    if not isinstance(ev, dict):
        raise EventFileError([say("event.no_table")])
    day = ev.get("date")
    if isinstance(day, str):
        day = parse_day(day)
    if not isinstance(day, date) or isinstance(day, datetime):
        problems.append(say("event.date"))
        day = date(2000, 1, 1)
    languages = ev.get("languages", list(LANGUAGES))
    if not isinstance(languages, list) or not set(languages) <= set(LANGUAGES) or not languages:
        problems.append(say("event.languages", languages=", ".join(LANGUAGES)))
        languages = list(LANGUAGES)
    # Multilingual names become their plain text here; the translations are kept apart.
    texts = normalise_event_data(data, languages, problems)
    # After normalising: a multilingual venue is its plain text by now.
    for key in ("name", "venue", "host_city"):
        # a broken multilingual table was already said
        said = any(p.params.get("where") == f"[event] {key}" for p in problems)
        if not said and (not isinstance(ev.get(key), str) or not ev[key].strip()):
            problems.append(say("event.missing", key=key))
    tzname = ev.get("timezone", "Europe/Berlin")
    if not known_zone(tzname):
        problems.append(say("event.timezone", zone=repr(tzname)))
    tz = zone(tzname)

    def items(kind: str, required: tuple[str, ...]) -> list[dict[str, Any]]:
        raw = data.get(kind, [])
        if not isinstance(raw, list):
            problems.append(say("event.not_tables", kind=kind))
            return []
        seen: set[str] = set()
        out = []
        for n, item in enumerate(raw, 1):
            where = f"{kind} #{n}"
            if not isinstance(item, dict):
                problems.append(say("event.not_table", where=where))
                continue
            ident = item.get("id")
            if not isinstance(ident, str) or not ID_PATTERN.match(ident):
                problems.append(say("event.id", where=where))
                continue
            if ident in seen:
                problems.append(say("event.id_twice", where=where, id=repr(ident)))
            seen.add(ident)
            for key in required:
                if not isinstance(item.get(key), str) or not item[key].strip():
                    problems.append(say("event.item_missing", where=where, id=ident, key=key))
            cap = item.get("capacity")
            if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or cap < 0):
                problems.append(say("event.capacity", where=where, id=ident))
            out.append(item)
        return out

    rooms = items("rooms", ("name",))
    groups = items("working_groups", ("area", "title"))
    excursions = items("excursions", ("title",))
    room_ids = {r["id"] for r in rooms}

    def times(item: dict[str, Any], where: Text, keys: tuple[str, ...]) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for key in keys:
            if item.get(key) is None:
                out[key] = None
                continue
            try:
                out[key] = _time(item[key], day, tz)
            except (ValueError, TypeError):
                problems.append(say("event.time", where=where, key=key))
                out[key] = None
        return out

    wg_rows = []
    for g in groups:
        where = say("event.where.working_group", id=g["id"])
        if g.get("room") is not None and g["room"] not in room_ids:
            problems.append(say("event.room", where=where, room=repr(g["room"])))
        t = times(g, where, ("start", "end"))
        wg_rows.append({
            "id": g["id"], "area": g.get("area", ""), "title": g.get("title", ""),
            "room": g.get("room"), "starts_at": t["start"], "ends_at": t["end"],
        })
    ex_rows = []
    for x in excursions:
        t = times(x, say("event.where.excursion", id=x["id"]), ("departure", "return"))
        ex_rows.append({
            "id": x["id"], "title": x.get("title", ""),
            "departure_place": x.get("departure_place", ""), "departs_at": t["departure"],
            "returns_at": t["return"], "capacity": x.get("capacity"), "guide": x.get("guide", ""),
        })
    room_rows = [{"id": r["id"], "name": r.get("name", ""), "capacity": r.get("capacity")}
                 for r in rooms]
    badges = _badges(data.get("badges"), base, problems)
    delegations = parse_delegations(data.get("delegations"), problems)
    assembly_points, assembly_titles = parse_assembly_points(data.get("assembly_points"),
                                                             problems)
    if assembly_titles:
        texts["assembly"] = assembly_titles
    rollcall = parse_rollcall_settings(data.get("rollcall"), problems)
    # An item's `titles` table is the same as a multilingual title: one place keeps both.
    for kind, found in (("working_group", groups), ("excursion", excursions)):
        for item in found:
            raw = item.get("titles")
            if raw is None:
                continue
            if not isinstance(raw, dict) or not all(
                    lang in LANGUAGES and isinstance(t, str) and t.strip()
                    for lang, t in raw.items()):
                problems.append(say("event.titles",
                                    where=say(f"event.where.{kind}", id=item["id"])))
                continue
            texts.setdefault(kind, {}).setdefault(item["id"], {}).update(
                {k: v.strip() for k, v in raw.items()})
    if problems:
        raise EventFileError(problems)
    return Event(
        name=ev["name"].strip(), date=day, venue=ev["venue"].strip(),
        host_city=ev["host_city"].strip(), languages=languages, timezone=tzname,
        rooms=room_rows, working_groups=wg_rows, excursions=ex_rows, badges=badges,
        texts=texts, delegations=delegations, assembly_points=assembly_points,
        rollcall=rollcall,
    )


def load_event(path: str | Path) -> Event:
    """Read and check the event file at `path`."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EventFileError([say("event.unreadable", path=str(path), error=str(exc))]) from exc
    return parse_event(text, Path(path).parent)


def _checkpoints(event: Event) -> list[dict[str, Any]]:
    """The checkpoints an event has: its entrance, every room, every excursion's departure,
    every assembly point."""
    out = [{"id": ENTRANCE, "kind": "entrance", "name": event.venue, "capacity": None,
            "ref": None, "position": 0}]
    for n, r in enumerate(event.rooms, 1):
        out.append({"id": f"room:{r['id']}", "kind": "room", "name": r["name"],
                    "capacity": r["capacity"], "ref": r["id"], "position": n})
    for n, x in enumerate(event.excursions, 1):
        out.append({"id": f"excursion:{x['id']}", "kind": "excursion", "name": x["title"],
                    "capacity": x["capacity"], "ref": x["id"], "position": 1000 + n})
    for n, a in enumerate(event.assembly_points, 1):
        out.append({"id": f"assembly:{a['id']}", "kind": "assembly", "name": a["name"],
                    "capacity": None, "ref": a["id"], "position": 2000 + n})
    return out


def apply_event(db: Database, event: Event) -> dict[str, int]:
    """Create or update the event in the database; never duplicates and never touches scans."""
    from checkin.scans.day import events_per_excursion  # the read model imports this module
    from checkin.scans.rebuild import rebuild_projections

    problems: list[Text] = []
    with writing(db):
        for table, rows, col in (
            ("working_groups", event.working_groups, "working_group"),
            ("excursions", event.excursions, "excursion"),
        ):
            keep = {r["id"] for r in rows}
            for (old,) in db.execute(f"SELECT id FROM {table}").fetchall():  # noqa: S608
                if old not in keep:
                    used = db.execute(
                        f"SELECT count(*) FROM participants WHERE {col} = ?", [old]  # noqa: S608
                    ).fetchone()[0]
                    if used:
                        problems.append(say("event.still_assigned", n=used,
                                             where=say(f"event.where.{col}", id=repr(old))))
        # The day is never undone by the plan: an excursion with departures, returns or
        # walk-ons recorded stays until those are cleared (checkin reset --scans).
        keep_x = {r["id"] for r in event.excursions}
        for old, n in events_per_excursion(db).items():
            if old not in keep_x:
                problems.append(say("event.still_recorded", id=repr(old), n=n))
        if problems:
            raise EventFileError(problems)
        checkpoints = _checkpoints(event)
        keep_cp = {c["id"] for c in checkpoints}
        for (old,) in db.execute("SELECT id FROM checkpoints").fetchall():
            if old not in keep_cp and db.execute(
                "SELECT count(*) FROM devices WHERE checkpoint = ? AND revoked_at IS NULL", [old]
            ).fetchone()[0]:
                problems.append(say("event.still_bound", id=repr(old)))
        if problems:
            raise EventFileError(problems)
        # Revoked devices may still name a checkpoint that is going away.
        db.execute("UPDATE devices SET checkpoint = NULL WHERE revoked_at IS NOT NULL")
        for table, rows in (("rooms", event.rooms), ("checkpoints", checkpoints),
                            ("working_groups", event.working_groups),
                            ("excursions", event.excursions)):
            if rows:
                db[table].upsert_all(rows, pk="id")
        # Remove what the file no longer lists, children before parents.
        for table, rows in (("working_groups", event.working_groups),
                            ("excursions", event.excursions), ("checkpoints", checkpoints),
                            ("rooms", event.rooms)):
            ids = [r["id"] for r in rows]
            db.execute(f"DELETE FROM {table} WHERE id NOT IN (%s)" % ",".join("?" * len(ids)),  # noqa: S608
                       ids)
        set_meta(db, "event", json.dumps({
            "name": event.name, "date": event.date.isoformat(), "venue": event.venue,
            "host_city": event.host_city, "languages": event.languages,
            "timezone": event.timezone,
        }))
        set_meta(db, "badges", json.dumps(event.badges))
        store_delegations(db, event.delegations)
        store_rollcall_settings(db, event.rollcall)
        store_texts(db, event.texts)
        # A group's room or times, or a checkpoint's kind, is part of what the projections
        # counted: they are recomputed from the log with the new event, in this transaction.
        rebuild_projections(db)
    return {"rooms": len(event.rooms), "working_groups": len(event.working_groups),
            "excursions": len(event.excursions), "checkpoints": len(checkpoints)}


def event_zone(db: Database) -> ZoneInfo:
    """Return the event's time zone (UTC if the event names none or an unknown one)."""
    return event_zone_of(event_info(db))


def event_day(db: Database) -> date | None:
    """Return the event's day, or None if it names none."""
    return event_day_of(event_info(db))


def other_titles(db: Database) -> dict[str, dict[str, dict[str, str]]]:
    """Working group and excursion titles in other languages, as the event file gives them:
    {"working_group"|"excursion": {id: {language: title}}}."""
    from checkin.core.texts import all_texts

    texts = all_texts(db)
    return {kind: texts.get(kind, {}) for kind in ("working_group", "excursion")}


def event_info(db: Database) -> dict[str, Any] | None:
    """Return the event's name, date, venue, host city, languages and time zone, if set."""
    raw = get_meta(db, "event")
    return json.loads(raw) if raw else None
