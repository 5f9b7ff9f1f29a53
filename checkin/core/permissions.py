"""Who may do what: one table of roles and actions, consulted by every view and /live handler.

The command line is not in it: whoever runs `checkin` holds the event's file, and with it
everything an organiser may do.

A role's row names the actions it may take and how far each reaches (its scope): everything,
only its own (excursion, scans, print jobs), only counts, or only certain checkpoints. An
action missing from a row is refused. Adding a role is adding a row (and, for a device role,
a migration that lets the devices table store it). docs/security.md shows this table; a
test keeps the two the same.
"""

from __future__ import annotations

from typing import Any

from checkin.core.errors import DomainError

#: An actor is a device as returned by checkin.devices.authenticate (id, name, role,
#: checkpoint), an organiser made by organiser_actor(), or a /live identity (role,
#: checkpoint, ...): the policy reads only its role and checkpoint.
Actor = dict[str, Any]

ORGANISER = "organiser"

# --- Actions -----------------------------------------------------------------------------
IDENTIFY = "identify"
CHECKPOINTS = "checkpoints"
HEADCOUNTS = "headcounts"
SCAN = "scan"
UNDO = "undo"
PEOPLE = "people"
EXCURSION = "excursion"
EXCURSION_EVENTS = "excursion_events"
SELF_CHECK_IN = "self_check_in"
WALK_IN = "walk_in"
PRINT = "print"
LIVE_HEADCOUNTS = "live_headcounts"
LIVE_EXCURSION = "live_excursion"
LIVE_ORGANISERS = "live_organisers"
MANAGE = "manage"
ROLLCALL = "rollcall"
ROLLCALL_RUN = "rollcall_run"
ROLLCALL_ACCOUNT = "rollcall_account"
LIVE_ROLLCALL = "live_rollcall"

#: Every action, with what it covers (the docs' table shows these words).
ACTIONS: dict[str, str] = {
    IDENTIFY: "ask who it is and the event's names (`/api/v1/me`, `/api/v1/event-names`)",
    CHECKPOINTS: "list checkpoints (`/api/v1/checkpoints`)",
    HEADCOUNTS: "read headcounts (`/api/v1/headcounts`)",
    SCAN: "record scans by badge code (`POST /api/v1/scans`)",
    UNDO: "undo scans (`/api/v1/scans/<id>/undo`)",
    PEOPLE: "look people up: name search, offline roster, check-in by participant id",
    EXCURSION: "read an excursion's state (`/api/v1/excursions/<id>`)",
    EXCURSION_EVENTS: "depart, return, add walk-ons (`/api/v1/excursions/<id>/events`)",
    SELF_CHECK_IN: "check one person in by their code or last name + e-mail "
                   "(`/api/v1/kiosk/check-in`), follow the print jobs it started",
    WALK_IN: "register walk-ins (`POST /api/v1/participants`)",
    PRINT: "print and reissue badges, follow print jobs",
    LIVE_HEADCOUNTS: "/live: headcounts pushed",
    LIVE_EXCURSION: "/live: an excursion's state pushed",
    LIVE_ORGANISERS: "/live: recent scans, alerts, every excursion; `catch_up`",
    MANAGE: "the organisers' pages: participants, e-mail addresses, badges, devices, "
            "corrections, overview, reports, exports, erasure",
    ROLLCALL: "read the roll call and its people, the presence snapshot (`/api/v1/rollcall`)",
    ROLLCALL_RUN: "start and end a roll call (a marshal only if the event file allows it)",
    ROLLCALL_ACCOUNT: "account for people in a roll call (`/api/v1/rollcall/<id>/accounts`)",
    LIVE_ROLLCALL: "/live: the roll call pushed",
}

# --- Scopes: how far a permitted action reaches ----------------------------------------------
ALL = "all"
#: Its own: a guide's excursion (and the people on it), a device's own scans, a kiosk's jobs.
OWN = "own"
#: Numbers only, never a name.
COUNTS = "counts"
#: Entrance and rooms, or only its one checkpoint if it has one.
DOORS = "doors"
#: The entrance only.
ENTRANCE = "entrance"
#: Assembly points only (a roll call's, `assembly:<id>`), or only its one if it has one.
ASSEMBLY = "assembly"
#: The venue's roll call only (not an excursion's).
VENUE = "venue"
#: The venue's roll call only, and only where the event file's [rollcall]
#: marshals_may_start allows it.
IF_ALLOWED = "if_allowed"

#: The table: role -> {action: scope}. One row per role; what a row lacks is refused.
POLICY: dict[str, dict[str, str]] = {
    ORGANISER: dict.fromkeys(ACTIONS, ALL),
    "scanner": {IDENTIFY: ALL, CHECKPOINTS: OWN, HEADCOUNTS: ALL, SCAN: DOORS, UNDO: OWN,
                PEOPLE: ALL, LIVE_HEADCOUNTS: ALL},
    "guide": {IDENTIFY: ALL, CHECKPOINTS: OWN, HEADCOUNTS: ALL, SCAN: OWN, UNDO: OWN,
              PEOPLE: OWN, EXCURSION: OWN, EXCURSION_EVENTS: OWN, LIVE_EXCURSION: OWN,
              # its own excursion's roll call ("back on the bus")
              ROLLCALL: OWN, ROLLCALL_RUN: OWN, ROLLCALL_ACCOUNT: OWN},
    "display": {IDENTIFY: ALL, CHECKPOINTS: ALL, HEADCOUNTS: ALL, EXCURSION: COUNTS,
                LIVE_HEADCOUNTS: ALL, ROLLCALL: COUNTS, LIVE_ROLLCALL: COUNTS},
    "desk": {IDENTIFY: ALL, CHECKPOINTS: OWN, HEADCOUNTS: ALL, SCAN: DOORS, UNDO: OWN,
             PEOPLE: ALL, WALK_IN: ALL, PRINT: ALL},
    # A kiosk stands in public: it checks in the one person in front of it and learns
    # nothing about anyone else (no search, no roster, no scans by id, no counts).
    "kiosk": {IDENTIFY: ALL, SELF_CHECK_IN: ENTRANCE},
    # A marshal's phone accounts for people at assembly points when the building empties;
    # it starts and ends the venue's roll call only where the event file allows it.
    "marshal": {IDENTIFY: ALL, CHECKPOINTS: OWN, SCAN: ASSEMBLY, ROLLCALL: VENUE,
                ROLLCALL_RUN: IF_ALLOWED, ROLLCALL_ACCOUNT: VENUE, LIVE_ROLLCALL: VENUE},
}


#: The roles a device can have (organisers sign in with a password instead).
DEVICE_ROLES = tuple(role for role in POLICY if role != ORGANISER)

#: What each scope means in the docs' table.
SCOPE_WORDS = {ALL: "yes", OWN: "own", COUNTS: "counts", DOORS: "doors", ENTRANCE: "entrance",
               ASSEMBLY: "assembly", VENUE: "venue", IF_ALLOWED: "venue, if allowed"}


class Forbidden(DomainError, PermissionError):
    """The actor's role or checkpoint does not allow this."""

    status = 403

    def __init__(self, key: str = "forbidden", /, **params: Any):
        super().__init__(key, **params)


def scope(actor: Actor | None, action: str) -> str | None:
    """Return how far the actor may take `action` (ALL, OWN, ...), or None if not at all."""
    assert action in ACTIONS, f"unknown action {action!r}"
    if not actor:
        return None
    return POLICY.get(actor.get("role") or "", {}).get(action)


def may(actor: Actor | None, action: str) -> bool:
    """Say whether the actor may take `action` at all (its scope may narrow it further)."""
    return scope(actor, action) is not None


def require(actor: Actor | None, action: str, refusal: str = "forbidden") -> str:
    """Return the actor's scope for `action`, or raise Forbidden (403, catalogue entry
    `refusal`) if it has none."""
    found = scope(actor, action)
    if found is None:
        raise Forbidden(refusal)
    return found


def organiser_actor(username: str) -> Actor:
    """Return the actor for a signed-in organiser."""
    return {"id": None, "name": username, "role": ORGANISER, "checkpoint": None}


def is_organiser(actor: Actor | None) -> bool:
    """Say whether the actor is a signed-in organiser (whose acts are logged by name)."""
    return actor is not None and actor.get("role") == ORGANISER


def scan_places(actor: Actor) -> str | None:
    """Return where the actor's scans may land: its SCAN scope, else its self check-in's."""
    return scope(actor, SCAN) or scope(actor, SELF_CHECK_IN)


def may_scan_at(actor: Actor, checkpoint: dict[str, Any]) -> bool:
    """Say whether the actor's scans may land at `checkpoint` (a checkpoints row)."""
    where = scan_places(actor)
    if where == ALL:
        return True
    if where == OWN:
        return checkpoint["id"] == actor.get("checkpoint")
    if where == ENTRANCE:
        return checkpoint["kind"] == "entrance"
    if where == ASSEMBLY:
        if actor.get("checkpoint"):
            return checkpoint["id"] == actor["checkpoint"]
        return checkpoint["kind"] == "assembly"
    if where == DOORS:
        if actor.get("checkpoint"):
            return checkpoint["id"] == actor["checkpoint"]
        return checkpoint["kind"] in ("entrance", "room")
    return False


def may_read_names(actor: Actor, returned: bool) -> bool:
    """Say whether the actor may read an excursion's names (else its counts only).

    Displays never; a guide only until its excursion has returned (then the phone forgets).
    """
    reach = scope(actor, EXCURSION)
    return reach == ALL or (reach == OWN and not returned)


def markdown_table() -> str:
    """Return the policy as the Markdown table docs/security.md shows (roles as columns)."""
    roles = list(POLICY)
    lines = ["| action | " + " | ".join(roles) + " |",
             "| --- |" + " --- |" * len(roles)]
    for action, words in ACTIONS.items():
        cells = [SCOPE_WORDS[POLICY[role][action]] if action in POLICY[role] else "–"
                 for role in roles]
        lines.append(f"| {words} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
