"""The database schema, as sqlite-utils migrations (append new ones; never edit applied ones)."""

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("checkin")


@migrations()
def m001_event(db: Database) -> None:
    """Event description, rooms, working groups, excursions and the checkpoints they make."""
    db.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE rooms (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, capacity INTEGER
        );
        CREATE TABLE working_groups (
            id TEXT PRIMARY KEY, area TEXT NOT NULL, title TEXT NOT NULL,
            room TEXT REFERENCES rooms(id), starts_at TEXT, ends_at TEXT
        );
        CREATE TABLE excursions (
            id TEXT PRIMARY KEY, title TEXT NOT NULL, departure_place TEXT,
            departs_at TEXT, returns_at TEXT, capacity INTEGER, guide TEXT
        );
        -- id is 'entrance', 'room:<room id>' or 'excursion:<excursion id>'.
        CREATE TABLE checkpoints (
            id TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('entrance','room','excursion')),
            name TEXT NOT NULL, capacity INTEGER, ref TEXT, position INTEGER NOT NULL DEFAULT 0
        );
        """
    )


@migrations()
def m002_participants(db: Database) -> None:
    """Participants and every code ever issued to them."""
    db.executescript(
        """
        CREATE TABLE participants (
            id INTEGER PRIMARY KEY,
            first_name TEXT NOT NULL, last_name TEXT NOT NULL,
            organisation TEXT NOT NULL DEFAULT '', organisation_type TEXT NOT NULL DEFAULT 'other',
            city TEXT NOT NULL DEFAULT '', email TEXT, language TEXT NOT NULL DEFAULT 'en',
            working_group TEXT REFERENCES working_groups(id),
            excursion TEXT REFERENCES excursions(id),
            role TEXT NOT NULL DEFAULT 'participant',
            code TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL
        );
        CREATE UNIQUE INDEX participants_email ON participants(lower(email))
            WHERE email IS NOT NULL AND email != '';
        CREATE INDEX participants_name ON participants(last_name, first_name);
        CREATE TABLE codes (
            code TEXT PRIMARY KEY,
            participant_id INTEGER NOT NULL REFERENCES participants(id),
            issued_at TEXT NOT NULL, revoked_at TEXT
        );
        CREATE INDEX codes_participant ON codes(participant_id);
        """
    )


@migrations()
def m003_people_and_devices(db: Database) -> None:
    """Organiser accounts and scanning devices (tokens are stored only as hashes)."""
    db.executescript(
        """
        CREATE TABLE organisers (
            id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE,
            password_hash TEXT NOT NULL, created_at TEXT NOT NULL
        );
        CREATE TABLE devices (
            id TEXT PRIMARY KEY, name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('scanner','guide','display')),
            checkpoint TEXT REFERENCES checkpoints(id),
            token_hash TEXT UNIQUE, pair_hash TEXT UNIQUE, pair_expires_at TEXT,
            created_at TEXT NOT NULL, paired_at TEXT, revoked_at TEXT, last_seen_at TEXT
        );
        """
    )


@migrations()
def m004_scans(db: Database) -> None:
    """The append-only scan log, organisers' corrections, and excursion events."""
    db.executescript(
        """
        -- seq orders arrival (for catch-up); sort_at orders what happened (device time,
        -- never later than arrival, so a device with a fast clock cannot pin a state).
        CREATE TABLE scans (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            code TEXT NOT NULL,
            participant_id INTEGER REFERENCES participants(id),
            checkpoint TEXT NOT NULL,
            direction TEXT NOT NULL CHECK (direction IN ('in','out')),
            at TEXT NOT NULL, received_at TEXT NOT NULL, sort_at TEXT NOT NULL,
            device_id TEXT, source TEXT NOT NULL DEFAULT 'scan',
            status TEXT NOT NULL CHECK (status IN ('accepted','warning','rejected')),
            reason TEXT, detail TEXT
        );
        CREATE INDEX scans_participant ON scans(participant_id, sort_at);
        CREATE INDEX scans_checkpoint ON scans(checkpoint, sort_at);
        -- A correction is itself an event: it voids a scan, or moves it to another checkpoint.
        CREATE TABLE corrections (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            scan_id TEXT NOT NULL REFERENCES scans(id),
            action TEXT NOT NULL CHECK (action IN ('void','move')),
            checkpoint TEXT, organiser TEXT, note TEXT, at TEXT NOT NULL
        );
        CREATE INDEX corrections_scan ON corrections(scan_id);
        -- Where each person is now: a projection of the scan log, recomputed per person from
        -- the log inside the transaction that changes it (see checkin.scans.presence).
        CREATE TABLE location (
            participant_id INTEGER PRIMARY KEY REFERENCES participants(id),
            scan_seq INTEGER NOT NULL, checkpoint TEXT NOT NULL, direction TEXT NOT NULL,
            sort_at TEXT NOT NULL
        );
        CREATE INDEX location_checkpoint ON location(checkpoint, direction);
        CREATE TABLE excursion_events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            excursion TEXT NOT NULL REFERENCES excursions(id),
            action TEXT NOT NULL,
            participant_id INTEGER REFERENCES participants(id),
            at TEXT NOT NULL, received_at TEXT NOT NULL, device_id TEXT, detail TEXT
        );
        CREATE INDEX excursion_events_excursion ON excursion_events(excursion, seq);
        """
    )


@migrations()
def m005_scan_indexes(db: Database) -> None:
    """Indexes for per-scan headcounts: expected people per room and excursion, moved scans."""
    db.executescript(
        """
        CREATE INDEX participants_working_group ON participants(working_group);
        CREATE INDEX participants_excursion ON participants(excursion);
        CREATE INDEX corrections_moves ON corrections(checkpoint) WHERE action = 'move';
        """
    )


@migrations()
def m006_bad_code_index(db: Database) -> None:
    """An index for the alert list's unknown and revoked badges of the last half hour.

    Without it every push to the organisers read the whole scan log: 8 ms at 50,000 scans.
    Partial, so that ordinary scans do not pay for it.
    """
    db.executescript(
        """
        CREATE INDEX scans_bad_codes ON scans(received_at)
            WHERE reason IN ('unknown_code', 'revoked_code');
        """
    )


@migrations()
def m008a_organiser_sessions(db: Database) -> None:
    """Organiser sessions kept server-side, so that sign-out and removal end every copy.

    The browser's signed cookie holds only a random session id; its SHA-256 is stored here.
    """
    db.executescript(
        """
        CREATE TABLE organiser_sessions (
            id_hash TEXT PRIMARY KEY,
            organiser_id INTEGER NOT NULL REFERENCES organisers(id) ON DELETE CASCADE,
            created_at TEXT NOT NULL, last_seen_at TEXT NOT NULL
        );
        CREATE INDEX organiser_sessions_organiser ON organiser_sessions(organiser_id);
        """
    )


@migrations()
def m008b_erased_participants(db: Database) -> None:
    """When a participant's personal data was erased (their row and scans stay, anonymous)."""
    db.execute("ALTER TABLE participants ADD COLUMN erased_at TEXT")
