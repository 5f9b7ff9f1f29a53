"""Issue 8, sessions: sign-out ends every copy, removal and new passwords end all, 12 h idle."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
import requests
import socketio
from click.testing import CliRunner

from checkin import create_app
from checkin.auth.accounts import add_organiser
from checkin.cli import cli
from checkin.core.clock import now_iso
from tests.conftest import ORGANISER, csrf_token

EXPORT = "/participants/export.csv"


def signed_in(app):
    client = app.test_client()
    response = client.post("/login", data={"username": ORGANISER[0], "password": ORGANISER[1],
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    return client


def copy_of(app, client):
    """A second browser holding a copy of the client's session cookie."""
    thief = app.test_client()
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief.set_cookie("session", cookie.value)
    return thief


def test_sign_out_ends_every_copy_of_the_session(app):
    client = signed_in(app)
    thief = copy_of(app, client)
    assert thief.get(EXPORT).status_code == 200
    token = csrf_token(client, "/participants")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert thief.get(EXPORT).status_code == 302
    assert "@" not in thief.get(EXPORT).get_data(as_text=True)


def test_cookie_for_an_unknown_username_is_refused(app):
    client = app.test_client()
    forged = app.session_interface.get_signing_serializer(app).dumps({"organiser": "nobody",
                                                                      "sid": "x" * 43})
    client.set_cookie("session", forged)
    assert client.get(EXPORT).status_code == 302


def test_removing_an_organiser_ends_their_sessions(app, db_path):
    client = signed_in(app)
    result = CliRunner().invoke(cli, ["--db", str(db_path), "organiser", "remove", ORGANISER[0]])
    assert result.exit_code == 0, result.output
    assert client.get(EXPORT).status_code == 302
    again = CliRunner().invoke(cli, ["--db", str(db_path), "organiser", "remove", ORGANISER[0]])
    assert again.exit_code == 1


def test_a_new_password_ends_every_session(app, db):
    client = signed_in(app)
    add_organiser(db, ORGANISER[0], "another long password")
    assert client.get(EXPORT).status_code == 302


def test_sessions_end_after_12_hours_without_use(app, db):
    client = signed_in(app)
    assert client.get(EXPORT).status_code == 200
    db.execute("UPDATE organiser_sessions SET last_seen_at = ?",
               [now_iso(datetime.now(UTC) - timedelta(hours=12, minutes=1))])
    db.conn.commit()
    assert client.get(EXPORT).status_code == 302


def test_use_keeps_a_session_alive(app, db):
    client = signed_in(app)
    db.execute("UPDATE organiser_sessions SET last_seen_at = ?",
               [now_iso(datetime.now(UTC) - timedelta(hours=11))])
    db.conn.commit()
    assert client.get(EXPORT).status_code == 200
    seen = db.execute("SELECT last_seen_at FROM organiser_sessions").fetchone()[0]
    assert seen > now_iso(datetime.now(UTC) - timedelta(minutes=5))


def test_https_gets_secure_cookies_and_hsts(db_path):
    app = create_app({"TESTING": True, "DATABASE": str(db_path)})
    client = app.test_client()
    page = client.get("/login", base_url="https://localhost")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))[1]
    response = client.post("/login", base_url="https://localhost", data={
        "username": ORGANISER[0], "password": ORGANISER[1], "csrf_token": token},
        headers={"Referer": "https://localhost/login"})
    assert response.status_code == 302
    cookie = next(v for k, v in response.headers.items() if k == "Set-Cookie")
    assert "Secure" in cookie and "HttpOnly" in cookie
    # The cookie itself expires after the 12 hours a session may idle.
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie)[1])
    assert timedelta(hours=11, minutes=55) < expires - datetime.now(UTC) <= timedelta(hours=12)
    plain = app.test_client().get("/login")
    assert "Strict-Transport-Security" not in plain.headers


@pytest.mark.server
def test_signing_out_closes_the_sessions_live_connection(live_server):
    browser = requests.Session()
    page = browser.get(live_server.url + "/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    assert browser.post(live_server.url + "/login", allow_redirects=False, timeout=10, data={
        "username": ORGANISER[0], "password": ORGANISER[1], "csrf_token": token},
        ).status_code == 302
    cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    client = socketio.Client(reconnection=False)
    gone = threading.Event()
    client.on("disconnect", lambda *args: gone.set(), namespace="/live")
    client.connect(live_server.url, namespaces=["/live"], headers={"Cookie": cookie},
                   transports=["websocket"], wait_timeout=5)
    try:
        assert client.connected
        page = browser.get(live_server.url + "/participants", timeout=10).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
        browser.post(live_server.url + "/logout", data={"csrf_token": token}, timeout=10)
        assert gone.wait(10), "the live connection outlived the session"
    finally:
        client.disconnect()
