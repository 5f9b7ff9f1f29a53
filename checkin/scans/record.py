"""Recording scans: check a batch, store each scan exactly once, answer what it means."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from sqlite_utils import Database

from checkin.core.clock import device_iso, now_iso, to_utc
from checkin.core.codes import normalise
from checkin.core.db import writing
from checkin.core.errors import DomainError
from checkin.core.permissions import ALL, ASSEMBLY, OWN, PEOPLE, SCAN, UNDO, is_organiser, scope
from checkin.scans.access import Actor, Forbidden, actor_ref, checkpoints, may_scan
from checkin.scans.log import NEWEST
from checkin.scans.people import PERSON_COLUMNS, PERSON_JOINS
from checkin.scans.policy import device_time_window, guide_may_name, time_allowed
from checkin.scans.projections import refresh_person
from checkin.scans.readmodel import history_before, in_venue, inside, latest_scan
from checkin.scans.rollcall import account_scan
from checkin.scans.sql import rows

MAX_BATCH = 500
MAX_ID = 64
MAX_CODE = 1000
RUN_LIMIT = 20
SCAN_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class ScanInputError(DomainError, ValueError):
    """A batch of scans is malformed; nothing of it was stored."""


@dataclass
class Recorded:
    """The answer to a batch: one result per item, and the rows that were newly stored."""

    results: list[dict[str, Any]] = field(default_factory=list)
    stored: list[dict[str, Any]] = field(default_factory=list)
    # The roll calls that scans at an assembly point accounted in (checkin.scans.rollcall).
    rollcalls: set[str] = field(default_factory=set)


def person_public(row: dict[str, Any] | None) -> dict[str, Any] | None:
    """Return the fields a scanner shows about a person (no e-mail, no code)."""
    if row is None:
        return None
    return {"id": row["id"], "name": f"{row['first_name']} {row['last_name']}",
            "first_name": row["first_name"], "last_name": row["last_name"],
            "organisation": row["organisation"], "city": row["city"],
            "working_group": row["working_group"],
            "working_group_title": row["working_group_title"],
            "excursion": row["excursion"], "excursion_title": row["excursion_title"]}


def get_person(db: Database, participant_id: int) -> dict[str, Any] | None:
    """Return a person's row with working group and excursion titles, or None."""
    found = rows(db, f"SELECT {PERSON_COLUMNS} FROM participants p "  # noqa: S608
                 f"{PERSON_JOINS} WHERE p.id = ?", [participant_id])
    return found[0] if found else None


def _time(value: Any, where: str) -> str:
    """Parse an ISO 8601 time with a UTC offset into the log's sortable UTC form."""
    bad = ScanInputError("bad_field.at", where=where, example="2019-11-12T09:30:00.000Z")
    stored = device_iso(value)
    if stored is None:
        raise bad
    return stored


def _encodable(text: str) -> bool:
    """Say whether text can be stored (JSON may carry lone surrogates, which UTF-8 cannot)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_batch(items: Any, known: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Check every item of a batch; return them cleaned or raise ScanInputError for the first."""
    if not isinstance(items, list):
        raise ScanInputError("bad_field.scans_list")
    if not items:
        raise ScanInputError("bad_field.scans_empty")
    if len(items) > MAX_BATCH:
        raise ScanInputError("too_many_scans", count=len(items), limit=MAX_BATCH)
    out = []
    for n, item in enumerate(items):
        where = f"scans[{n}]"
        if not isinstance(item, dict):
            raise ScanInputError("bad_field.scan_object", where=where)
        scan_id = item.get("id")
        if not isinstance(scan_id, str) or not SCAN_ID.match(scan_id):
            raise ScanInputError("bad_field.scan_id", where=where, limit=MAX_ID)
        code, person = item.get("code"), item.get("participant")
        if (code is None) == (person is None):
            raise ScanInputError("bad_field.code_or_participant", where=where)
        if code is not None and (not isinstance(code, str) or len(code) > MAX_CODE
                                 or not _encodable(code)):
            raise ScanInputError("bad_field.code", where=where, limit=MAX_CODE)
        if person is not None and (not isinstance(person, int) or isinstance(person, bool)
                                   or not 0 < person < 2**62):
            raise ScanInputError("bad_field.participant", where=where)
        checkpoint = item.get("checkpoint")
        if not isinstance(checkpoint, str):
            raise ScanInputError("bad_field.checkpoint", where=where)
        if checkpoint not in known:
            raise ScanInputError("unknown_checkpoint.scan", where=where,
                                 checkpoint=checkpoint[:80])
        direction = item.get("direction")
        if direction not in ("in", "out"):
            raise ScanInputError("bad_field.direction", where=where)
        queued = item.get("queued", False)
        if not isinstance(queued, bool):
            raise ScanInputError("bad_field.queued", where=where)
        out.append({"id": scan_id, "code": code, "participant": person,
                    "checkpoint": checkpoint, "direction": direction,
                    "at": _time(item.get("at"), where), "queued": queued})
    return out


def _since(latest_first: Iterator[dict[str, Any]], match: Any) -> str | None:
    """Return when the trailing run of scans that satisfy `match` began, if the last does."""
    since = None
    # A real run is one to three scans long; the cap bounds the cost of a badge that was
    # scanned over and over (then "since" is the earliest of the last RUN_LIMIT scans).
    for scan in islice(latest_first, RUN_LIMIT):
        if not match(scan):
            break
        since = scan["sort_at"]
    return since


def _warnings(db: Database, person: dict[str, Any], cp: dict[str, Any],
              direction: str) -> tuple[list[str], dict[str, Any]]:
    """Say what needs attention about a valid scan, judged by the person's newest state."""
    if direction != "in":
        return [], {}
    reasons: list[str] = []
    detail: dict[str, Any] = {}
    # The state as the server knows it when the scan arrives, whatever the device's clock
    # says: a door whose clock is behind must not see a person who is in as not yet in.
    if cp["kind"] == "entrance":
        since = _since(history_before(db, person["id"], NEWEST),
                       lambda s: in_venue(s["kind"], s["direction"]))
    elif cp["kind"] == "room":
        since = _since(history_before(db, person["id"], NEWEST),
                       lambda s: s["checkpoint"] == cp["id"] and s["direction"] == "in")
    else:
        since = _since(history_before(db, person["id"], NEWEST, cp["id"]),
                       lambda s: s["direction"] == "in")
    if since:
        reasons.append("already_in")
        detail["since"] = since
    if cp["kind"] == "excursion" and person["excursion"] != cp["ref"]:
        reasons.append("not_assigned")
    elif cp["kind"] == "room":
        groups = [r[0] for r in db.execute("SELECT id FROM working_groups WHERE room = ?",
                                           [cp["ref"]]).fetchall()]
        if groups and person["working_group"] not in groups:
            reasons.append("not_assigned")
    return reasons, detail


def _result(row: dict[str, Any], person: dict[str, Any] | None,
            duplicate: bool) -> dict[str, Any]:
    """Return the answer to one scan from its stored row and person."""
    detail = json.loads(row["detail"]) if row["detail"] else {}
    return {"id": row["id"], "status": row["status"], "reason": row["reason"], "detail": detail,
            "participant": person_public(person), "duplicate": duplicate}


def _judge(db: Database, item: dict[str, Any]
           ) -> tuple[str, str | None, dict[str, Any], dict[str, Any] | None]:
    """Resolve an item's code or participant id: status, reason, detail and the person."""
    if item["participant"] is not None:
        found = rows(db, f"SELECT NULL AS revoked_at, p.erased_at, "  # noqa: S608
                     f"{PERSON_COLUMNS} FROM participants p {PERSON_JOINS} WHERE p.id = ?",
                     [item["participant"]])
        if not found:
            return "rejected", "unknown_code", {"participant": item["participant"]}, None
    else:
        code = normalise(item["code"])
        if code is None:
            return "rejected", "invalid", {}, None
        found = rows(db, f"SELECT c.revoked_at, p.erased_at, {PERSON_COLUMNS} "  # noqa: S608
                     f"FROM codes c JOIN participants p ON p.id = c.participant_id "
                     f"{PERSON_JOINS} WHERE c.code = ?", [code])
        if not found:
            return "rejected", "unknown_code", {}, None
    person = found[0]
    # A removed (erased) person is refused by any path, before anything else is judged: an
    # id from a name search made before the removal is their badge as much as the code. Their
    # codes are deleted, so the badge is an unknown code; the id answers alike and the scan
    # is tied to nobody (it must not lead back to the person the erasure removed).
    erased, revoked = person.pop("erased_at"), person.pop("revoked_at")
    if erased:
        detail = {"participant": item["participant"]} if item["participant"] is not None else {}
        return "rejected", "unknown_code", detail, None
    if revoked:
        return "rejected", "revoked_code", {}, person
    return "accepted", None, {}, person


def _same_scan(old: dict[str, Any], item: dict[str, Any], device: str) -> bool:
    """Say whether a stored scan is the one this item sends again (same content, same device).

    The time and the queued mark are not compared: a re-send may differ in both (a scan
    first sent live goes again, marked queued, to a restored server).
    """
    if item["participant"] is not None:
        # The person a search scan named: stored as participant_id, or in the detail when
        # the id was unknown (then participant_id is empty).
        asked = old["participant_id"] if old["participant_id"] is not None else \
            json.loads(old["detail"] or "{}").get("participant")
        what = old["source"] == "search" and asked == item["participant"]
    else:
        # An erasure blanks the codes in the log (checkin.scans.erase): the same device's
        # scan under the same id is still the one it sends again. Refused as another scan,
        # the device would send it anew, and the erased code would be stored again.
        what = old["source"] == "scan" and old["code"] in (item["code"], "")
    return (what and old["checkpoint"] == item["checkpoint"]
            and old["direction"] == item["direction"] and old["device_id"] == device)


def _id_conflict(scan_id: str) -> dict[str, Any]:
    """Return the refusal of an item whose id belongs to another scan: nothing of that scan."""
    return {"id": scan_id, "status": "rejected", "reason": "id_conflict", "detail": {},
            "participant": None, "duplicate": False}


def _placed(db: Database, item: dict[str, Any], person: dict[str, Any] | None,
            received: str) -> str:
    """Return where a scan falls in the person's day (its sort_at).

    Never later than its arrival, so a clock that runs fast cannot pin a state. A queued
    scan (sent late from an offline queue) falls into place by its device time; a live scan
    happened now, so a clock that is behind cannot place it before what the server already
    holds of the person (it would move their arrival or their "in since" earlier).
    """
    sort_at = min(item["at"], received)
    if item["queued"] or person is None:
        return sort_at
    newest = latest_scan(db, person["id"])
    return max(sort_at, newest["sort_at"]) if newest else sort_at


def _named_checkpoints(items: Any, actor: Actor) -> list[str]:
    """Return the checkpoints a batch (not checked yet) and its actor name, each once."""
    if not isinstance(items, list) or len(items) > MAX_BATCH:
        return []  # check_batch refuses the batch before it asks for a checkpoint
    # A name SQLite cannot bind (a lone surrogate) is no checkpoint: check_batch says so.
    named = {item["checkpoint"] for item in items if isinstance(item, dict)
             and isinstance(item.get("checkpoint"), str) and _encodable(item["checkpoint"])}
    if isinstance(actor.get("checkpoint"), str):
        named.add(actor["checkpoint"])
    return list(named)


def record_scans(db: Database, actor: Actor, items: Any,
                 now: datetime | None = None) -> Recorded:
    """Check a batch of scans, then store the new ones in one transaction and judge each.

    Raises ScanInputError (nothing stored) for a malformed batch and Forbidden when the
    actor may not scan at one of its checkpoints. A scan whose id is already stored is not
    stored again: the same scan from the same device gets its original result with
    duplicate = True, anything else the per-item refusal id_conflict.
    """
    known = checkpoints(db, _named_checkpoints(items, actor))
    batch = check_batch(items, known)
    for item in batch:
        if not may_scan(actor, known[item["checkpoint"]]):
            raise Forbidden("forbidden.checkpoint", checkpoint=item["checkpoint"])
    window = device_time_window(db, now)
    for n, item in enumerate(batch):
        if not time_allowed(db, to_utc(item["at"]), now, window):
            raise ScanInputError("bad_field.scan_time", where=f"scans[{n}]")
    if scope(actor, PEOPLE) == OWN:
        ids = [item["participant"] for item in batch if item["participant"] is not None]
        if not guide_may_name(db, actor["checkpoint"], known[actor["checkpoint"]]["ref"]
                              if actor["checkpoint"] in known else None, ids):
            # The same answer for unknown people and people elsewhere: it reveals nothing.
            raise Forbidden("forbidden.guide_list")
    if scope(actor, SCAN) == ASSEMBLY and any(i["participant"] is not None for i in batch):
        # A marshal accounts for a person by name through the roll call; a participant id
        # here would answer with anyone's name.
        raise Forbidden("forbidden.lookup")
    received = now_iso(now)
    device = actor_ref(actor)
    out = Recorded()
    with writing(db):
        for item in batch:
            old = rows(db, "SELECT * FROM scans WHERE id = ?", [item["id"]])
            if old:
                # Exactly once, but only for the same scan: the stored answer (a name, an
                # excursion) goes back to no other device and to no other badge.
                if not _same_scan(old[0], item, device):
                    out.results.append(_id_conflict(item["id"]))
                    continue
                pid = old[0]["participant_id"]
                person = get_person(db, pid) if pid is not None else None
                out.results.append(_result(old[0], person, duplicate=True))
                continue
            cp = known[item["checkpoint"]]
            status, reason, detail, person = _judge(db, item)
            sort_at = _placed(db, item, person if status != "rejected" else None, received)
            reasons: list[str] = []
            if status == "accepted":
                reasons, detail = _warnings(db, person, cp, item["direction"])
            row = {"id": item["id"],
                   "code": item["code"] if item["code"] is not None else "",
                   "participant_id": person["id"] if person else None,
                   "checkpoint": cp["id"], "direction": item["direction"], "at": item["at"],
                   "received_at": received, "sort_at": sort_at, "device_id": device,
                   "source": "scan" if item["participant"] is None else "search"}
            if status != "rejected" and cp["kind"] == "assembly":
                # A marshal's scan accounts for the person in a roll call and moves nothing.
                rollcall_id, why = account_scan(db, row, actor["name"])
                if rollcall_id is not None:
                    out.rollcalls.add(rollcall_id)
                    detail["rollcall"] = rollcall_id
                reasons += [why] if why else []
            cursor = db.execute(
                "INSERT INTO scans (id, code, participant_id, checkpoint, direction, at, "
                "received_at, sort_at, device_id, source, status, reason, detail) "
                "VALUES (:id, :code, :participant_id, :checkpoint, :direction, :at, "
                ":received_at, :sort_at, :device_id, :source, 'accepted', NULL, NULL)", row)
            row["seq"] = cursor.lastrowid
            # The effective log leaves assembly scans out, so they change no projection: not
            # reading the person's whole log again for each spares the door while marshals scan.
            if status != "rejected" and cp["kind"] != "assembly":
                refresh_person(db, person["id"], row)
            if status != "rejected":
                if item["direction"] == "in" and cp["capacity"] is not None:
                    now_inside = inside(db, cp)
                    if now_inside > cp["capacity"]:
                        reasons.append("over_capacity")
                        detail.update(inside=now_inside, capacity=cp["capacity"])
                if reasons:
                    status, reason = "warning", reasons[0]
                    detail["reasons"] = reasons
            row.update(status=status, reason=reason,
                       detail=json.dumps(detail, ensure_ascii=False) if detail else None)
            # The row was inserted first because the projections are recomputed from the log itself;
            # its verdict is set in the same transaction, so no reader sees it unjudged.
            if (row["status"], row["reason"], row["detail"]) != ("accepted", None, None):
                db.execute("UPDATE scans SET status = ?, reason = ?, detail = ? WHERE seq = ?",
                           [row["status"], row["reason"], row["detail"], row["seq"]])
            out.results.append(_result(row, person, duplicate=False))
            out.stored.append(row)
    return out


def get_scan(db: Database, scan_id: str) -> dict[str, Any] | None:
    """Return one stored scan row, or None."""
    if not isinstance(scan_id, str) or len(scan_id) > MAX_ID:
        return None
    found = rows(db, "SELECT * FROM scans WHERE id = ?", [scan_id])
    return found[0] if found else None


def correct_scan(db: Database, scan_id: str, action: str, *, checkpoint: str | None = None,
                 organiser: str | None = None, note: str | None = None,
                 correction_id: str | None = None,
                 now: datetime | None = None) -> tuple[dict[str, Any], bool]:
    """Record a correction ('void', or 'move' to `checkpoint`); return it and whether it is new.

    Raises LookupError for an unknown scan and ValueError for a bad action or checkpoint.
    A correction with an id that is already stored is not stored again.
    """
    if action not in ("void", "move"):
        raise ValueError("action must be 'void' or 'move'")
    with writing(db):
        scan = get_scan(db, scan_id)
        if scan is None:
            raise LookupError(f"no scan {scan_id!r}")
        # Nothing is moved to an assembly point: scans there never count for presence.
        if action == "move" and (not checkpoint or not db.execute(
                "SELECT 1 FROM checkpoints WHERE id = ? AND kind != 'assembly'",
                [checkpoint]).fetchone()):
            raise ValueError(f"there is no checkpoint {checkpoint!r}")
        row = {"id": correction_id or str(uuid.uuid4()), "scan_id": scan_id, "action": action,
               "checkpoint": checkpoint if action == "move" else None,
               "organiser": organiser, "note": note, "at": now_iso(now)}
        new = db.execute(
            "INSERT INTO corrections (id, scan_id, action, checkpoint, organiser, note, at) "
            "VALUES (:id, :scan_id, :action, :checkpoint, :organiser, :note, :at) "
            "ON CONFLICT(id) DO NOTHING", row).rowcount == 1
        if scan["participant_id"] is not None:
            refresh_person(db, scan["participant_id"])
        stored = rows(db, "SELECT * FROM corrections WHERE id = ?", [row["id"]])[0]
    return stored, new


def undo_scan(db: Database, actor: Actor, scan_id: str,
              now: datetime | None = None) -> tuple[dict[str, Any], bool]:
    """Void a scan the actor made (organisers: any scan); idempotent. Return (correction, new).

    Raises LookupError for an unknown scan and Forbidden for another device's scan.
    """
    scan = get_scan(db, scan_id)
    if scan is None:
        raise LookupError(f"no scan {scan_id!r}")
    if scope(actor, UNDO) != ALL and scan["device_id"] != actor_ref(actor):
        raise Forbidden("forbidden.undo_own")
    # One fixed id per scan makes repeated undo requests store one correction.
    return correct_scan(db, scan_id, "void", correction_id="undo:" + scan_id,
                        organiser=actor["name"] if is_organiser(actor) else None,
                        note="undo", now=now)
