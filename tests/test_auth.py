"""Organiser sign-in, the one-time setup link, and that pages need a signed-in organiser."""

import pytest

from checkin.auth.accounts import new_setup_token, use_setup_token
from checkin.auth.throttle import MAX_FAILURES, WINDOW_SECONDS, LoginThrottle
from checkin.core.db import connect
from tests.conftest import ORGANISER, csrf_token


def test_pages_need_sign_in(client):
    response = client.get("/participants")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_sign_in_and_out(organiser):
    assert organiser.get("/participants").status_code == 200
    token = csrf_token(organiser, "/participants")
    assert organiser.post("/logout", data={"csrf_token": token}).status_code == 302
    assert organiser.get("/participants").status_code == 302


def test_wrong_password_is_refused(client):
    token = csrf_token(client)
    response = client.post("/login", data={"username": ORGANISER[0], "password": "nope-nope-1",
                                           "csrf_token": token})
    assert response.status_code == 401
    assert client.get("/participants").status_code == 302


def test_login_without_csrf_token_is_refused(client):
    response = client.post("/login", data={"username": ORGANISER[0], "password": ORGANISER[1]})
    assert response.status_code == 400
    assert client.get("/participants").status_code == 302


def test_setup_link_works_once(client, db_path):
    db = connect(db_path)
    token = new_setup_token(db)
    page = f"/setup/{token}"
    form = {"username": "anna", "password": "a-long-password", "password2": "a-long-password",
            "csrf_token": csrf_token(client, page)}
    assert client.post(page, data=form).status_code == 302
    assert client.get("/participants").status_code == 200
    # Used: 410 Gone, a translated page that points to the sign-in.
    used = client.get(page)
    assert used.status_code == 410
    assert "/login" in used.get_data(as_text=True)
    assert not use_setup_token(db, token, "mallory", "another-long-password")


def test_setup_link_refuses_short_password(client, db_path):
    token = new_setup_token(connect(db_path))
    page = f"/setup/{token}"
    form = {"username": "anna", "password": "short", "password2": "short",
            "csrf_token": csrf_token(client, page)}
    assert client.post(page, data=form).status_code == 400


def test_unknown_setup_token_is_404(client):
    assert client.get("/setup/not-a-token").status_code == 404


def test_secret_key_is_generated_and_kept(tmp_path):
    from checkin import create_app

    path = str(tmp_path / "e.db")
    first = create_app({"DATABASE": path}).config["SECRET_KEY"]
    second = create_app({"DATABASE": path}).config["SECRET_KEY"]
    other = create_app({"DATABASE": str(tmp_path / "f.db")}).config["SECRET_KEY"]
    assert first == second and first != other and len(first) >= 32


def _sign_in(client, password: str, address: str):
    token = csrf_token(client)
    return client.post("/login", data={"username": ORGANISER[0], "password": password,
                                       "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


@pytest.mark.slow
def test_many_wrong_passwords_make_that_address_wait(app):
    guesser, organiser = app.test_client(), app.test_client()
    for n in range(MAX_FAILURES):
        assert _sign_in(guesser, f"guess-number-{n}", "192.0.2.7").status_code == 401
    # Now even the right password is not tried from there, and the page says why.
    response = _sign_in(guesser, ORGANISER[1], "192.0.2.7")
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= WINDOW_SECONDS
    assert "Too many wrong passwords" in response.get_data(as_text=True)
    assert guesser.get("/participants").status_code == 302
    # The organiser at another tablet is not locked out by someone else's guessing.
    assert _sign_in(organiser, ORGANISER[1], "192.0.2.8").status_code == 302
    assert organiser.get("/participants").status_code == 200


def test_the_wait_message_is_translated(app):
    client = app.test_client()
    for n in range(MAX_FAILURES):
        _sign_in(client, f"guess-number-{n}", "192.0.2.9")
    client.get("/login?lang=de")
    html = client.post("/login", data={"username": "x", "password": "y",
                                       "csrf_token": csrf_token(client)},
                       environ_base={"REMOTE_ADDR": "192.0.2.9"}).get_data(as_text=True)
    assert "Zu viele falsche Passwörter" in html


def test_throttle_window_slides_and_success_forgets():
    now = [1000.0]
    throttle = LoginThrottle(max_failures=3, window=60, clock=lambda: now[0])
    for _ in range(2):
        throttle.failed("a")
    assert throttle.wait_seconds("a") == 0
    throttle.failed("a")
    assert throttle.wait_seconds("a") == 60
    assert throttle.wait_seconds("b") == 0
    now[0] += 59.5
    assert throttle.wait_seconds("a") == 1
    now[0] += 0.5  # the oldest failure has left the window
    assert throttle.wait_seconds("a") == 0
    for _ in range(3):
        throttle.failed("a")
    assert throttle.wait_seconds("a") == 60
    throttle.succeeded("a")
    assert throttle.wait_seconds("a") == 0
