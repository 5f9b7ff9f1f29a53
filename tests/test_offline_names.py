"""The offline name index in the roster: a person is found by their full last name, keyed and
encrypted by a slow hash of it, and the index lists nobody (docs/security.md)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from checkin.devices import add_device
from checkin.scans.roster import (
    NAME_ITERATIONS,
    name_cipher_key,
    name_entry_key,
    name_secret,
    normalise_last_name,
)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def index(client, db) -> dict[str, Any]:
    """The name index a scanner at the door receives with its roster."""
    token = add_device(db, "Door", "scanner")["token"]
    answer = client.get("/api/v1/roster", headers=bearer(token))
    assert answer.status_code == 200
    return answer.get_json()["names"]


def open_entry(index: dict[str, Any], typed: str) -> list[dict[str, Any]] | None:
    """What the tablet finds for a typed name: the entry's people, or None (no such key)."""
    secret = name_secret(base64.b64decode(index["salt"]), normalise_last_name(typed),
                         index["iterations"])
    entry = {e["k"]: e for e in index["entries"]}.get(name_entry_key(secret))
    if entry is None:
        return None
    plain = AESGCM(name_cipher_key(secret)).decrypt(
        base64.b64decode(entry["iv"]), base64.b64decode(entry["d"]), None)
    return json.loads(plain)["people"]


def test_normalised_last_names_meet_however_they_are_typed():
    assert normalise_last_name("Kröger") == normalise_last_name(" KROGER ") == "kroger"
    assert normalise_last_name("van der Veen") == normalise_last_name("Van der veen")
    assert normalise_last_name("Strauß") == normalise_last_name("STRAUSS") == "strauss"
    assert normalise_last_name("O'Neill-Smit") == "oneillsmit"


def test_the_full_last_name_opens_its_entry_and_nothing_else_does(index, db):
    person = next(db.query("SELECT id, first_name, last_name FROM participants "
                           "WHERE length(last_name) >= 5 ORDER BY id LIMIT 1"))
    same_name = [r[0] for r in db.execute("SELECT id FROM participants WHERE last_name = ?",
                                          [person["last_name"]])]
    found = open_entry(index, person["last_name"].upper())
    assert found is not None and sorted(p["id"] for p in found) == sorted(same_name)
    hit = next(p for p in found if p["id"] == person["id"])
    assert hit["name"] == f"{person['first_name']} {person['last_name']}"
    assert "email" not in hit and "code" not in hit
    # A prefix or a wrong name is no key in the index ...
    assert open_entry(index, person["last_name"][:-1]) is None
    assert open_entry(index, person["last_name"] + "x") is None
    assert open_entry(index, "Nobodyhere") is None
    # ... and no entry opens with a wrong name's key, so there is nothing to try but names.
    wrong = name_cipher_key(name_secret(base64.b64decode(index["salt"]), "nobodyhere",
                                        index["iterations"]))
    for entry in index["entries"]:
        with pytest.raises(InvalidTag):
            AESGCM(wrong).decrypt(base64.b64decode(entry["iv"]), base64.b64decode(entry["d"]),
                                  None)


def test_the_index_names_nobody_and_each_guess_costs_the_slow_hash(index, db):
    # Sealed entries are random base64 (a short name may turn up in it by chance): what is
    # sent in the clear is the rest, and the sealed bytes hold no name either.
    clear = json.dumps({**index, "entries": [{k: v for k, v in e.items() if k not in ("iv", "d")}
                                             for e in index["entries"]]})
    sealed = b"".join(base64.b64decode(e["d"]) for e in index["entries"])
    for first, last in db.execute("SELECT first_name, last_name FROM participants"):
        assert last not in clear and first not in clear
        # Five bytes or more: a match in random bytes is then a one in 10^12 chance.
        assert not any(len(n) >= 5 and n.encode() in sealed for n in (first, last))
    assert index["iterations"] == NAME_ITERATIONS >= 100_000
    distinct = {normalise_last_name(r[0]) for r in db.execute(
        "SELECT last_name FROM participants WHERE erased_at IS NULL")}
    assert len(index["entries"]) == len(distinct)
    # Padding: the entries' lengths do not tell the names' lengths.
    assert len({len(e["d"]) for e in index["entries"]}) <= 2


def test_a_guide_gets_no_name_index_and_the_salt_stays(client, db, index):
    excursion = db.execute("SELECT id FROM checkpoints WHERE kind = 'excursion'").fetchone()[0]
    guide = add_device(db, "Guide", "guide", excursion)["token"]
    assert "names" not in client.get("/api/v1/roster", headers=bearer(guide)).get_json()
    door = add_device(db, "Door 2", "scanner")["token"]
    again = client.get("/api/v1/roster", headers=bearer(door)).get_json()["names"]
    assert again["salt"] == index["salt"]


def _stored(db) -> dict[str, bytes]:
    return dict(db.execute("SELECT name, secret FROM name_secrets").fetchall())


def test_the_slow_hashes_are_derived_once_per_event_and_erased_with_the_name(index, db):
    from checkin.security.erase import erase_participant, purge

    salt = base64.b64decode(index["salt"])
    borne = {normalise_last_name(r[0]) for r in db.execute(
        "SELECT last_name FROM participants WHERE erased_at IS NULL")} - {""}
    stored = _stored(db)
    # Kept for every process and restart: one per borne last name, each the name's own.
    assert set(stored) == borne and len(index["entries"]) == len(borne)
    for name in sorted(borne)[:5]:
        assert stored[name] == name_secret(salt, name, NAME_ITERATIONS)
    # A person whose last name nobody else bears is erased: their name's hash goes too.
    alone = next(r for r in db.execute(
        "SELECT id, last_name FROM participants WHERE erased_at IS NULL").fetchall()
        if sum(normalise_last_name(o[0]) == normalise_last_name(r[1]) for o in db.execute(
            "SELECT last_name FROM participants WHERE erased_at IS NULL")) == 1)
    assert erase_participant(db, alone[0])
    assert set(_stored(db)) == borne - {normalise_last_name(alone[1])}
    purge(db)
    assert _stored(db) == {}
