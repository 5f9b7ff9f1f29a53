"""`checkin serve` options removed in 0.2.0 say what replaced them instead of "No such option"."""

from __future__ import annotations

from click.testing import CliRunner

from checkin.cli import cli


def test_threads_is_refused_with_a_pointer_to_connections(tmp_path):
    db = tmp_path / "event.db"
    for args in (["--threads", "64"], ["--port", "8443", "--threads=8"]):
        result = CliRunner().invoke(cli, ["--db", str(db), "serve", *args])
        assert result.exit_code == 2, result.output
        assert "--threads was removed in 0.2.0" in result.output
        assert "--connections N" in result.output
        # Refused before anything was prepared: no database, no certificates.
        assert not db.exists() and not (tmp_path / "tls").exists()


def test_threads_is_not_offered_in_help():
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--connections" in result.output and "--threads" not in result.output
