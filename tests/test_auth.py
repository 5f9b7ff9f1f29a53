"""Organiser sign-in, the one-time setup link, and that pages need a signed-in organiser."""

from checkin.auth.accounts import new_setup_token, use_setup_token
from checkin.db import connect
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
    assert client.get(page).status_code == 404
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
