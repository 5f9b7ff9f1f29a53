"""The command line: every command is documented with an example; the demo works end to end."""

import click
from click.testing import CliRunner

from checkin.cli import cli


def all_commands(group: click.Group, prefix: str = "checkin"):
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        yield path, command
        if isinstance(command, click.Group):
            yield from all_commands(command, path)


def test_every_command_has_a_docstring_with_an_example():
    missing = [path for path, command in all_commands(cli)
               if not command.help or "Example: checkin" not in command.help]
    assert missing == []
    assert "Example: checkin" in cli.help


def test_every_command_is_in_the_readme():
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [path for path, command in all_commands(cli)
               if not isinstance(command, click.Group) and f"`{path}" not in readme]
    assert missing == []


def test_demo_then_export(tmp_path):
    db = tmp_path / "demo" / "event.db"
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", str(db), "demo"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "demo" / "demo-event.toml").exists()
    assert (tmp_path / "demo" / "demo-participants.csv").exists()
    again = runner.invoke(cli, ["--db", str(db), "demo"])
    assert "0 new, 0 updated, 60 unchanged" in again.output
    out = tmp_path / "people.csv"
    result = runner.invoke(cli, ["--db", str(db), "export", "participants", "-o", str(out)])
    assert result.exit_code == 0
    assert len(out.read_text(encoding="utf-8-sig").splitlines()) == 61


def test_init_and_import_from_the_written_templates(tmp_path):
    runner = CliRunner()
    runner.invoke(cli, ["--db", str(tmp_path / "a" / "event.db"), "demo"])
    db = str(tmp_path / "b.db")
    result = runner.invoke(cli, ["--db", db, "init", str(tmp_path / "a" / "demo-event.toml")])
    assert result.exit_code == 0 and "6 working groups" in result.output
    result = runner.invoke(cli, ["--db", db, "import",
                                 str(tmp_path / "a" / "demo-participants.csv")])
    assert result.exit_code == 0 and "60 new" in result.output


def test_init_reports_a_broken_event_file(tmp_path):
    bad = tmp_path / "event.toml"
    bad.write_text("[event]\nname = 'x'\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "e.db"), "init", str(bad)])
    assert result.exit_code == 1 and "venue is missing" in result.output


def test_organiser_add(tmp_path):
    db = str(tmp_path / "e.db")
    result = CliRunner().invoke(cli, ["--db", db, "organiser", "add", "anna"],
                                input="short\nshort\n")
    assert result.exit_code == 1 and "at least 10" in result.output
    result = CliRunner().invoke(cli, ["--db", db, "organiser", "add", "anna"],
                                input="a-good-password\na-good-password\n")
    assert result.exit_code == 0


def test_rebuild_recomputes_presence_from_the_log(tmp_path):
    """`checkin rebuild` puts back a presence row lost from the projection."""
    from datetime import UTC, datetime

    from checkin.core.db import connect
    from checkin.scans import organiser_actor, record_scans

    path = tmp_path / "event.db"
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", str(path), "demo"]).exit_code == 0
    db = connect(path)
    pids = [r[0] for r in db.execute("SELECT id FROM participants ORDER BY id LIMIT 3")]
    at = datetime(2019, 11, 12, 9, 0, tzinfo=UTC)  # the demo event's day
    record_scans(db, organiser_actor("orga"), [
        {"id": f"cli-{pid}", "participant": pid, "checkpoint": "entrance", "direction": "in",
         "at": at.isoformat()} for pid in pids], now=at)
    kept = db.execute("SELECT * FROM location ORDER BY participant_id").fetchall()
    assert len(kept) == 3
    db.execute("DELETE FROM location WHERE participant_id = ?", [pids[0]])
    db.conn.commit()
    result = runner.invoke(cli, ["--db", str(path), "rebuild"])
    assert result.exit_code == 0, result.output
    assert "location 3 row(s)" in result.output
    assert db.execute("SELECT * FROM location ORDER BY participant_id").fetchall() == kept
