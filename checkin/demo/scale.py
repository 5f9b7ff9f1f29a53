"""A large event for benchmarks: the demo meeting scaled up to a 5,000-person conference.

`build_scale_event` writes a generated event file (a plenary hall, one room per working
group, excursions of a bus each), imports generated participants through the ordinary
import, adds the doors' devices, and fills the log with a day and a half: the evening
before (welcome in the plenary) and the day itself (entrance in, plenary, working group,
lunch out and in, excursion departures and returns or the afternoon plenary, people moving
between rooms, entrance out), with repeated scans (warnings), unknown badges (rejected) and
organisers' corrections (voids and moves). The log is written judged and in one transaction
by `checkin.scans.bulk.append_log`; judging 150,000 scans one by one would take minutes.
"""

from __future__ import annotations

import csv
import io
import json
import random
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from checkin.core.clock import at, parse_wall_time, to_utc, zone
from checkin.core.codes import ALPHABET, LENGTH
from checkin.core.db import connect
from checkin.core.event import apply_event, parse_event
from checkin.demo import FIRST_DE, FIRST_NL, LAST_DE, LAST_NL, ORGANISATIONS, ascii_slug
from checkin.devices import add_device
from checkin.participants.csvfile import import_file
from checkin.participants.records import COLUMNS
from checkin.scans.bulk import append_log

DAY = date(2019, 11, 12)
TIMEZONE = "Europe/Amsterdam"
AREAS = ("Stadt & Quartier", "Digitalisierung", "Mobilität", "Nachhaltigkeit", "Kultur")
CITIES = ("Groningen", "Bremen", "Oldenburg")
HOUR = 3600.0
MINUTE = 60.0


def _sizes(people: int) -> tuple[int, int]:
    """Return how many working groups (one room each) and excursions an event this big has."""
    return max(2, min(60, people // 100)), max(2, min(40, people // 170))


def scale_event_toml(people: int) -> str:
    """Return the event file of a conference for `people`: plenary, group rooms, excursions."""
    groups, excursions = _sizes(people)
    seats = -(-people // groups) + 20
    bus = -(-people * 7 // 10 // excursions) + 10
    lines = ['[event]', 'name = "Expertentreffen Groningen–Bremen–Oldenburg, groß"',
             f'date = {DAY.isoformat()}', 'venue = "Martiniplaza Groningen"',
             'host_city = "Groningen"', 'languages = ["de", "nl", "en"]',
             f'timezone = "{TIMEZONE}"', '',
             '[[rooms]]', 'id = "plenum"', 'name = "Plenum"', f'capacity = {people + 100}', '']
    for n in range(1, groups + 1):
        lines += ['[[rooms]]', f'id = "zaal-{n}"', f'name = "Zaal {n}"', f'capacity = {seats}',
                  '', '[[working_groups]]', f'id = "wg-{n}"',
                  f'area = "{AREAS[n % len(AREAS)]}"', f'title = "Arbeitsgruppe {n}"',
                  f'room = "zaal-{n}"', 'start = "10:30"', 'end = "12:30"', '']
    for n in range(1, excursions + 1):
        lines += ['[[excursions]]', f'id = "tour-{n}"', f'title = "Exkursion {n}"',
                  f'departure_place = "Bushalte {n}"',
                  f'departure = "14:{(n % 3) * 15:02d}"',
                  f'return = "{16 + n % 2}:{(n % 4) * 15:02d}"', f'capacity = {bus}',
                  f'guide = "Gids {n}"', '']
    return "\n".join(lines)


def scale_participants_csv(people: int, rng: random.Random) -> str:
    """Return `people` participants as a semicolon CSV, spread over groups and excursions."""
    groups, excursions = _sizes(people)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS), delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    for n in range(people):
        city = CITIES[n % 3]
        dutch = city == "Groningen"
        first = rng.choice(FIRST_NL if dutch else FIRST_DE)
        last = rng.choice(LAST_NL if dutch else LAST_DE)
        org, kind = rng.choice(ORGANISATIONS[city])
        writer.writerow({
            "first_name": first, "last_name": last, "organisation": org,
            "organisation_type": kind, "city": city,
            "email": f"{ascii_slug(f'{first}.{last}')}.{n + 1}@example."
                     + ("nl" if dutch else "de"),
            "language": "nl" if dutch else "de" if n % 7 else "en",
            "working_group": f"wg-{n % groups + 1}",
            # About 70 % go on an excursion, as at the demo meeting.
            "excursion": f"tour-{n % excursions + 1}" if n % 10 < 7 else "",
            "role": "speaker" if n % 97 == 0 else "participant", "title": ""})
    return out.getvalue()


class _Day:
    """The scans of the day as they are generated: rows in the log's columns, not yet sorted."""

    def __init__(self, rng: random.Random, midnight: float, devices: dict[str, str],
                 groups: int):
        self.rng, self.midnight, self.devices, self.groups = rng, midnight, devices, groups
        self.rows: list[dict[str, Any]] = []

    def scan(self, person: dict[str, Any] | None, checkpoint: str, direction: str,
             seconds: float, status: str = "accepted", reason: str | None = None,
             detail: dict[str, Any] | None = None) -> dict[str, Any]:
        """Add one scan at `seconds` after the day's local midnight; return its row."""
        when = datetime.fromtimestamp(self.midnight + seconds, UTC).isoformat(
            timespec="milliseconds")
        row = {"id": f"s{len(self.rows) + 1}-{self.rng.getrandbits(32):08x}",
               "code": person["code"] if person else "".join(
                   self.rng.choice(ALPHABET) for _ in range(LENGTH)),
               "participant_id": person["id"] if person else None,
               "checkpoint": checkpoint, "direction": direction, "at": when,
               "received_at": when, "sort_at": when, "device_id": self.devices[checkpoint],
               "source": "scan", "status": status, "reason": reason,
               "detail": json.dumps(detail) if detail else None, "_t": seconds}
        self.rows.append(row)
        return row


def _person_day(day: _Day, person: dict[str, Any], budget: int,
                tours: dict[str, tuple[float, float]]) -> None:
    """Add one person's scans of the evening before and the day, at most `budget` of them."""
    rng, plenum, group = day.rng, "room:plenum", f"room:zaal-{person['wg'][3:]}"
    plan: list[tuple[str, str, float]] = []
    if rng.random() < 0.6:  # the welcome evening before the day
        came = -24 * HOUR + 17 * HOUR + rng.uniform(0, 2 * HOUR)
        plan += [("entrance", "in", came), (plenum, "in", came + rng.uniform(60, 900)),
                 (plenum, "out", -24 * HOUR + 19.5 * HOUR + rng.uniform(0, 1800)),
                 ("entrance", "out", -24 * HOUR + 20 * HOUR + rng.uniform(0, HOUR))]
    came = 8 * HOUR + rng.uniform(0, 90 * MINUTE)
    plan += [("entrance", "in", came),
             (plenum, "in", max(came + 60, 9 * HOUR - rng.uniform(0, 600))),
             (plenum, "out", 10.25 * HOUR + rng.uniform(0, 600)),
             (group, "in", 10.4 * HOUR + rng.uniform(0, 600)),
             (group, "out", 12.5 * HOUR + rng.uniform(0, 600))]
    if rng.random() < 0.5:  # lunch outside
        plan += [("entrance", "out", 12.75 * HOUR + rng.uniform(0, 600)),
                 ("entrance", "in", 13.4 * HOUR + rng.uniform(0, 600))]
    if person["excursion"]:
        leaves, returns = tours[person["excursion"]]
        back = returns + rng.uniform(5 * MINUTE, 20 * MINUTE)
        plan += [(f"excursion:{person['excursion']}", "in", leaves - rng.uniform(60, 1800)),
                 ("entrance", "in", back)]
        late = back + 60
    else:
        plan += [(plenum, "in", 14 * HOUR + rng.uniform(0, 300)),
                 (plenum, "out", 16 * HOUR + rng.uniform(0, 300))]
        late = 16.1 * HOUR
    leave = max(late + 30 * MINUTE, 17.5 * HOUR) + rng.uniform(0, HOUR)
    # The rest of the budget: visits to other rooms between the afternoon and leaving.
    # An odd one out is a last room whose door nobody scanned on the way out.
    visits, odd = divmod(max(0, budget - len(plan) - 1), 2)
    step = (leave - late) / (visits + odd + 1)
    for k in range(visits + odd):
        room = f"room:zaal-{rng.randrange(day.groups) + 1}"
        start = late + k * step
        plan.append((room, "in", start + rng.uniform(0, step / 3)))
        if k < visits:
            plan.append((room, "out", start + step * 2 / 3 + rng.uniform(0, step / 4)))
    # A quarter are still there when the log ends: last seen going into a room.
    plan.append(("entrance", "out", leave) if rng.random() < 0.75 else
                (f"room:zaal-{rng.randrange(day.groups) + 1}", "in", leave))
    for checkpoint, direction, seconds in plan[:budget]:
        day.scan(person, checkpoint, direction, seconds)


def _corrections(day: _Day, rooms: list[str]) -> list[dict[str, Any]]:
    """Void about 0.5 % of the accepted scans and move about 0.2 % to another room."""
    out = []
    for row in day.rows:
        if row["status"] == "rejected":
            continue
        draw = day.rng.random()
        if draw >= 0.007:
            continue
        void = draw < 0.005
        out.append({"id": f"c{len(out) + 1}", "scan_id": row["id"],
                    "action": "void" if void else "move",
                    "checkpoint": None if void else day.rng.choice(rooms),
                    "organiser": "bench", "note": None,
                    "at": datetime.fromtimestamp(day.midnight + row["_t"] + 600, UTC)
                    .isoformat(timespec="milliseconds")})
    return out


def build_scale_event(path: str | Path, people: int = 5000, scans: int = 150000,
                      seed: int = 0) -> dict[str, Any]:
    """Create a large event at `path` (a new database) and return what it holds and the time.

    Raises ValueError for a database that already has participants: it is not made for this.
    """
    began = time.perf_counter()
    rng = random.Random(seed)
    db = connect(path)
    if db.execute("SELECT count(*) FROM participants").fetchone()[0]:
        db.conn.close()
        raise ValueError(f"{path} already holds an event")
    apply_event(db, parse_event(scale_event_toml(people)))
    result = import_file(db, scale_participants_csv(people, rng).encode("utf-8"))
    if result["problems"]:
        raise RuntimeError("generated participants do not import: "
                           + "; ".join(result["problems"][:3]))
    groups, _excursions = _sizes(people)
    rooms = [r[0] for r in db.execute("SELECT id FROM checkpoints WHERE kind = 'room'")]
    devices = {cp: add_device(db, f"Scanner {cp}", "guide" if kind == "excursion" else "scanner",
                              cp)["id"]
               for cp, kind in db.execute("SELECT id, kind FROM checkpoints").fetchall()}
    zone_ = zone(TIMEZONE)
    midnight = at(DAY, parse_wall_time("00:00"), zone_).timestamp()
    times = db.execute("SELECT id, departs_at, returns_at FROM excursions").fetchall()
    tours = {x: (to_utc(d).timestamp() - midnight, to_utc(r).timestamp() - midnight)
             for x, d, r in times}
    persons = [{"id": pid, "code": code, "wg": wg, "excursion": x} for pid, code, wg, x in
               db.execute("SELECT id, code, working_group, excursion FROM participants "
                          "ORDER BY id").fetchall()]
    day = _Day(rng, midnight, devices, groups)
    # About 2 % unknown badges and 1 % badges scanned twice at the door (warnings).
    unknown, repeats = scans // 50, scans // 100
    valid = max(0, scans - unknown - repeats)
    for n, person in enumerate(persons):
        _person_day(day, person, valid // len(persons) + (n < valid % len(persons)), tours)
    entries = [r for r in day.rows if r["checkpoint"] == "entrance" and r["direction"] == "in"]
    for row in rng.sample(entries, min(repeats, len(entries))):
        person = {"id": row["participant_id"], "code": row["code"]}
        day.scan(person, "entrance", "in", row["_t"] + rng.uniform(5, 60), "warning",
                 "already_in", {"since": row["sort_at"], "reasons": ["already_in"]})
    for _ in range(scans - len(day.rows)):
        day.scan(None, rng.choice(["entrance", *rooms]), "in",
                 rng.uniform(-7 * HOUR, 19 * HOUR), "rejected", "unknown_code")
    day.rows.sort(key=lambda r: r["_t"])
    corrections = _corrections(day, rooms)
    events = []
    for x, (departure, returns) in tours.items():
        leaves, back = (datetime.fromtimestamp(midnight + s, UTC).isoformat(
            timespec="milliseconds") for s in (departure + 5 * MINUTE, returns))
        events += [{"id": f"depart-{x}", "excursion": x, "action": "depart",
                    "participant_id": None, "at": leaves, "received_at": leaves,
                    "device_id": devices[f"excursion:{x}"], "detail": "{}"},
                   {"id": f"return-{x}", "excursion": x, "action": "return",
                    "participant_id": None, "at": back, "received_at": back,
                    "device_id": devices[f"excursion:{x}"], "detail": "{}"}]
    written = append_log(db, day.rows, corrections, events)
    db.conn.close()
    return {"people": len(persons), "rooms": len(rooms), "excursions": len(tours),
            "devices": len(devices), **written,
            "seconds": round(time.perf_counter() - began, 2)}
