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


@migrations()
def m007a_walk_ons_are_day_events(db: Database) -> None:
    """Walk-ons become day events over the plan: an index to find a person's, and the plan
    given back where an older walk-on had overwritten `participants.excursion`."""
    db.executescript(
        """
        CREATE INDEX excursion_events_walk_ons ON excursion_events(participant_id, seq)
            WHERE action = 'walk_on';
        -- Before, a walk-on wrote its excursion into the plan; its detail kept the plan's
        -- value ("from" of the person's first walk-on). Where the plan still shows the
        -- day's last walk-on, the plan's own value comes back; the walk-on stays an event.
        UPDATE participants SET excursion = (
            SELECT json_extract(first.detail, '$.from') FROM excursion_events first
            WHERE first.participant_id = participants.id AND first.action = 'walk_on'
            ORDER BY first.seq LIMIT 1)
        WHERE excursion = (
            SELECT last.excursion FROM excursion_events last
            WHERE last.participant_id = participants.id AND last.action = 'walk_on'
            ORDER BY last.seq DESC LIMIT 1);
        """
    )


def _widen_role_check(db: Database, table: str, new_roles: tuple[str, ...]) -> None:
    """Let `table`'s role CHECK accept `new_roles` too (see _widen_check)."""
    _widen_check(db, table, "role", new_roles)


def _widen_check(db: Database, table: str, column: str, new_values: tuple[str, ...]) -> None:
    """Let `table`'s `column IN (...)` CHECK accept `new_values` too, by rebuilding the table
    (SQLite cannot alter a CHECK). The table's current SQL is rewritten, not replaced, so
    columns, indexes and triggers other migrations added survive, and every row is copied
    over. Rows are copied aside first and put back into the table under its own name, with
    foreign keys deferred, so that tables referring to it (devices -> checkpoints) stay
    satisfied."""
    import re

    sql = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                     [table]).fetchone()[0]
    check = re.search(rf"CHECK\s*\(\s*{column}\s+IN\s*\(([^)]*)\)\s*\)", sql,
                      re.IGNORECASE)
    assert check is not None, f"no {column} CHECK on {table}"
    values = [r.strip().strip("'\"") for r in check.group(1).split(",") if r.strip()]
    values += [r for r in new_values if r not in values]
    widened = f"CHECK ({column} IN (" + ",".join(f"'{r}'" for r in values) + "))"
    new_sql = sql[:check.start()] + widened + sql[check.end():]
    extras = [row[0] for row in db.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') "
        "AND sql IS NOT NULL", [table])]
    columns = ", ".join(f'"{c.name}"' for c in db[table].columns)
    db.execute("PRAGMA defer_foreign_keys = ON")
    db.execute(f"CREATE TEMP TABLE {table}__old AS SELECT * FROM {table}")  # noqa: S608
    db.execute(f"DROP TABLE {table}")
    db.execute(new_sql)
    db.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM temp.{table}__old")  # noqa: S608
    db.execute(f"DROP TABLE temp.{table}__old")
    for extra in extras:
        db.execute(extra)


@migrations()
def m012a_desk_kiosk_walk_ins_printing(db: Database) -> None:
    """Desk and kiosk devices, walk-ins registered on the day, and badge print jobs."""
    _widen_role_check(db, "devices", ("desk", "kiosk"))
    db.executescript(
        """
        -- Set when a desk (or an organiser on the day) registered the person at the door.
        ALTER TABLE participants ADD COLUMN walk_in_at TEXT;
        ALTER TABLE participants ADD COLUMN walk_in_by TEXT;
        CREATE INDEX participants_walk_in ON participants(walk_in_at) WHERE walk_in_at IS NOT NULL;
        -- One row per badge sent to the printer; state follows the CUPS job.
        CREATE TABLE print_jobs (
            id TEXT PRIMARY KEY,
            participant_id INTEGER NOT NULL REFERENCES participants(id),
            code TEXT NOT NULL,
            printer TEXT NOT NULL,
            size TEXT,
            state TEXT NOT NULL CHECK (state IN ('queued','printed','failed')),
            cups_job TEXT, reason TEXT,
            requested_by TEXT,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL
        );
        CREATE INDEX print_jobs_participant ON print_jobs(participant_id, created_at);
        """
    )


@migrations()
def m012b_mailings(db: Database) -> None:
    """What `checkin mail badges` sent to whom, and what failed with the server's reason."""
    db.executescript(
        """
        CREATE TABLE mailings (
            id INTEGER PRIMARY KEY,
            participant_id INTEGER NOT NULL REFERENCES participants(id),
            kind TEXT NOT NULL DEFAULT 'badge',
            email TEXT NOT NULL, code TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('sent','failed')),
            reason TEXT, message_id TEXT, at TEXT NOT NULL
        );
        CREATE INDEX mailings_participant ON mailings(participant_id, kind, at);
        """
    )


@migrations()
def m013a_participant_title(db: Database) -> None:
    """A participant's academic title ("Dr.", "Prof. Dr."), kept apart from the first name.

    Apart, so that the badge prints it small above the name and sorting, search and
    re-import matching go by the name alone.
    """
    db.execute("ALTER TABLE participants ADD COLUMN title TEXT NOT NULL DEFAULT ''")


@migrations()
def m022r_rollcall(db: Database) -> None:
    """Roll calls: assembly checkpoints, the marshal's device role, a participant's phone
    number, and the roll calls with the people each expected and who accounted for whom."""
    _widen_check(db, "checkpoints", "kind", ("assembly",))
    _widen_role_check(db, "devices", ("marshal",))
    db.executescript(
        """
        -- Shown only to organisers (the missing list); erased with the rest of the person.
        ALTER TABLE participants ADD COLUMN phone TEXT NOT NULL DEFAULT '';
        -- id: a uuid from whoever started it (a phone offline too); scope 'venue' or
        -- 'excursion:<id>'.
        CREATE TABLE rollcalls (
            id TEXT PRIMARY KEY, scope TEXT NOT NULL, point TEXT,
            started_at TEXT NOT NULL, started_by TEXT NOT NULL, received_at TEXT NOT NULL,
            ended_at TEXT, ended_by TEXT
        );
        CREATE INDEX rollcalls_scope ON rollcalls(scope, started_at);
        -- Frozen at the start: who was present, where and when each was last seen.
        CREATE TABLE rollcall_expected (
            rollcall_id TEXT NOT NULL REFERENCES rollcalls(id),
            participant_id INTEGER NOT NULL REFERENCES participants(id),
            last_checkpoint TEXT, last_seen_at TEXT,
            PRIMARY KEY (rollcall_id, participant_id)
        );
        -- One row per account, exactly once by its client id; the first per person counts.
        CREATE TABLE rollcall_accounts (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            rollcall_id TEXT NOT NULL REFERENCES rollcalls(id),
            participant_id INTEGER NOT NULL REFERENCES participants(id),
            how TEXT NOT NULL CHECK (how IN ('scan','tap','elsewhere','left')),
            point TEXT, reason TEXT NOT NULL DEFAULT '', by TEXT NOT NULL,
            at TEXT NOT NULL, received_at TEXT NOT NULL
        );
        CREATE INDEX rollcall_accounts_person ON rollcall_accounts(rollcall_id, participant_id);
        """
    )


@migrations()
def m019a_projections_kept_on_write(db: Database) -> None:
    """Projections of the read model kept current on write, then filled from the log.

    Beside `location`: per person `attendance` (arrival, working group attended), `aboard`
    (excursion checkpoints whose latest scan is 'in'), `counted` (the tally keys the person
    counts in), `tallies` (how many count in each key), `person_days` and `venue_steps`
    (the day over time). checkin.scans.projections keeps
    them; this fills them for an event file that has a day already.
    """
    db.executescript(
        """
        CREATE TABLE attendance (
            participant_id INTEGER PRIMARY KEY REFERENCES participants(id),
            arrived_at TEXT NOT NULL, attended INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE aboard (
            checkpoint TEXT NOT NULL, participant_id INTEGER NOT NULL REFERENCES participants(id),
            excursion TEXT NOT NULL, sort_at TEXT NOT NULL,
            PRIMARY KEY (checkpoint, participant_id)
        ) WITHOUT ROWID;
        CREATE INDEX aboard_participant ON aboard(participant_id);
        CREATE TABLE counted (
            participant_id INTEGER NOT NULL REFERENCES participants(id),
            what TEXT NOT NULL, key TEXT NOT NULL,
            PRIMARY KEY (participant_id, what, key)
        ) WITHOUT ROWID;
        -- Who counts in a key: an excursion's expected people and walk-ons, in roster order.
        CREATE INDEX counted_key ON counted(what, key, participant_id);
        CREATE TABLE tallies (
            what TEXT NOT NULL, key TEXT NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY (what, key)
        ) WITHOUT ROWID;
        -- The day over time (checkin.scans.dayline): per person and local day, and where
        -- "in the venue" changes.
        CREATE TABLE person_days (
            participant_id INTEGER NOT NULL REFERENCES participants(id), day TEXT NOT NULL,
            first_at TEXT NOT NULL, last_at TEXT NOT NULL, scans INTEGER NOT NULL,
            PRIMARY KEY (day, participant_id)
        ) WITHOUT ROWID;
        CREATE INDEX person_days_participant ON person_days(participant_id);
        CREATE TABLE venue_steps (
            participant_id INTEGER NOT NULL REFERENCES participants(id),
            sort_at TEXT NOT NULL, seq INTEGER NOT NULL, venue INTEGER NOT NULL,
            PRIMARY KEY (participant_id, sort_at, seq)
        ) WITHOUT ROWID;
        """
    )
    # The read model fills them, with the rules every write uses (imported here: the core
    # knows nothing of the scans layer otherwise).
    from checkin.scans.rebuild import rebuild_projections

    rebuild_projections(db)


@migrations()
def m023l_log_size(db: Database) -> None:
    """The log's size kept by triggers, and the log ordered by time, for reads that must not
    cost what the whole log costs (the summary's totals, its scans outside the day)."""
    db.executescript(
        """
        CREATE TABLE log_size (
            id INTEGER PRIMARY KEY CHECK (id = 1), scans INTEGER NOT NULL
        );
        INSERT INTO log_size(id, scans) SELECT 1, count(*) FROM scans;
        -- Every stored or erased scan, whatever code stores or erases it.
        CREATE TRIGGER log_size_insert AFTER INSERT ON scans
            BEGIN UPDATE log_size SET scans = scans + 1 WHERE id = 1; END;
        CREATE TRIGGER log_size_delete AFTER DELETE ON scans
            BEGIN UPDATE log_size SET scans = scans - 1 WHERE id = 1; END;
        CREATE INDEX scans_sort ON scans(sort_at);
        """
    )


@migrations()
def m024n_name_secrets(db: Database) -> None:
    """The offline name index's slow hashes, derived once per event and last name (not once
    per server process: about 90 s of CPU for a 5,000-person event's last names)."""
    db.executescript(
        """
        CREATE TABLE name_secrets (
            name TEXT NOT NULL, salt BLOB NOT NULL, iterations INTEGER NOT NULL,
            secret BLOB NOT NULL,
            PRIMARY KEY (name, salt, iterations)
        ) WITHOUT ROWID;
        """
    )
