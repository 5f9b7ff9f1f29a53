"""Issue 8, behind a proxy and in the logs: trusted proxies only, no secrets in the access log."""

from __future__ import annotations

import stat

import pytest
import requests

from checkin import create_app
from checkin.core.db import connect
from checkin.participants.csvfile import import_file
from checkin.security.logs import redact
from tests.conftest import ORGANISER, LiveServer, csrf_token, free_port


def _wrong_passwords(client, address: str, times: int) -> int:
    status = 0
    for _n in range(times):
        status = client.post("/login", headers={"X-Forwarded-For": address}, data={
            "username": ORGANISER[0], "password": "wrong-password-1",
            "csrf_token": csrf_token(client)}).status_code
    return status


@pytest.mark.slow
def test_trusted_proxy_throttles_per_client_address(db_path):
    app = create_app({"TESTING": True, "DATABASE": str(db_path), "TRUSTED_PROXIES": 1})
    client = app.test_client()
    assert _wrong_passwords(client, "10.0.0.1", 11) == 429
    # Someone else behind the same proxy is not locked out.
    other = app.test_client()
    ok = other.post("/login", headers={"X-Forwarded-For": "10.0.0.2"}, data={
        "username": ORGANISER[0], "password": ORGANISER[1], "csrf_token": csrf_token(other)})
    assert ok.status_code == 302


@pytest.mark.slow
def test_without_the_setting_x_forwarded_for_is_ignored(db_path):
    app = create_app({"TESTING": True, "DATABASE": str(db_path)})
    client = app.test_client()
    # A made-up header per attempt must not dodge the throttle.
    for n in range(10):
        assert _wrong_passwords(client, f"10.0.0.{n}", 1) == 401
    assert _wrong_passwords(client, "10.0.0.99", 1) == 429


def test_redact_hides_codes_setup_links_and_searches():
    line = ("GET /pair/AbC-123_xyzSECRET?x=1 HTTP/1.1 /setup/TOKENsecret "
            "/api/v1/participants?q=Bakker&x=2 /overview?x=1&q=Jan")
    out = redact(line)
    for secret in ("AbC-123_xyzSECRET", "TOKENsecret", "Bakker", "Jan"):
        assert secret not in out
    assert "/pair/[redacted]" in out and "q=[redacted]&x=2" in out


@pytest.mark.server
def test_real_server_warns_reminds_and_redacts_its_access_log(db_path, tmp_path):
    # Also on start: files others can read are named and closed, and the demo event of
    # 2019, long past and not purged, brings the reminder to purge once it holds a real person
    # (its fictional people alone do not).
    db = connect(db_path)
    assert import_file(db, b"first_name;last_name;city;email\r\n"
                           b"Wiebke;Oltmanns;Oldenburg;w.oltmanns@example.org\r\n")["created"] == 1
    db.conn.close()
    db_path.chmod(0o644)
    log = tmp_path / "server.log"
    server = LiveServer(db_path, free_port(), log,
                        args=("--http", "--host", "127.0.0.1", "--access-log"))
    server.start()
    try:
        requests.get(server.url + "/pair/SeCrEtPairingCode123", timeout=10)
        requests.get(server.url + "/api/v1/participants?q=Vanderbakker", timeout=10)
        requests.get(server.url + "/participants?q=Vanderbakker&city=x", timeout=10)
    finally:
        server.stop()
    text = log.read_text()
    assert "/pair/[redacted]" in text
    assert "SeCrEtPairingCode123" not in text and "Vanderbakker" not in text
    assert f"warning: {db_path} was readable by other accounts" in text
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    assert "checkin purge --yes" in text
