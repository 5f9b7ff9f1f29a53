"""Badge codes: random, unique, free of personal data, revocable."""

import math

from checkin.core.codes import ALPHABET, LENGTH, new_code, normalise, reissue, resolve
from checkin.core.db import connect
from checkin.demo import create_demo


def test_codes_carry_at_least_96_bits():
    assert LENGTH * math.log2(len(ALPHABET)) >= 96


def test_codes_are_unique_and_random():
    codes = {new_code() for _ in range(20000)}
    assert len(codes) == 20000
    # Every symbol is used, roughly evenly: not a counter, not a pattern.
    counts = {ch: sum(c.count(ch) for c in codes) for ch in ALPHABET}
    expected = 20000 * LENGTH / len(ALPHABET)
    assert all(abs(n - expected) < expected * 0.1 for n in counts.values())


def test_code_holds_no_personal_data(db, tmp_path):
    """The same people imported into a second event get entirely different random codes."""
    other = connect(tmp_path / "other" / "event.db")
    create_demo(other, tmp_path / "other")
    first = {(p["email"], p["code"]) for p in db.query("SELECT email, code FROM participants")}
    second = dict(other.execute("SELECT email, code FROM participants").fetchall())
    other.conn.close()
    assert {email for email, _ in first} == set(second)
    # A code derived from a person's data would come out the same twice; random ones never do.
    assert not any(code == second[email] for email, code in first)
    for _, code in first:
        assert normalise(code) == code


def test_normalise_accepts_what_scanners_type():
    code = new_code()
    assert normalise(code) == code
    assert normalise(f"  {code.lower()}\r\n") == code
    assert normalise(code[:-1]) is None
    assert normalise(code[:-1] + "O") is None  # a look-alike that is never issued
    assert normalise("<script>") is None
    assert normalise("x" * 10_000) is None


def test_every_participant_has_a_unique_valid_code(db):
    codes = [r[0] for r in db.execute("SELECT code FROM participants")]
    assert len(codes) == len(set(codes)) == 60
    for code in codes:
        status, person = resolve(db, code)
        assert status == "valid" and person["code"] == code


def test_reissue_revokes_the_old_code(db):
    pid, old = db.execute("SELECT id, code FROM participants LIMIT 1").fetchone()
    new = reissue(db, pid)
    assert new != old
    assert resolve(db, old)[0] == "revoked"
    assert resolve(db, old)[1]["id"] == pid
    assert resolve(db, new)[0] == "valid"
    assert resolve(db, new_code())[0] == "unknown"
    assert resolve(db, "garbage!")[0] == "invalid"


def test_reissue_from_the_command_line(db_path, db):
    from click.testing import CliRunner

    from checkin.cli import cli

    email, old = db.execute("SELECT email, code FROM participants LIMIT 1").fetchone()
    result = CliRunner().invoke(cli, ["--db", str(db_path), "reissue", email])
    assert result.exit_code == 0, result.output
    assert resolve(db, old)[0] == "revoked"
    result = CliRunner().invoke(cli, ["--db", str(db_path), "reissue", "nobody@example.org"])
    assert result.exit_code == 1
