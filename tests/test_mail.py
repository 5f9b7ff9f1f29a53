"""`checkin mail badges` against a real SMTP server (aiosmtpd, started here): every demo
participant gets their mail in their language with a QR that decodes to their code and a
one-page badge; a second run sends nothing; failures are listed and retried."""

from __future__ import annotations

import email
import io
import threading
import time
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
import zxingcpp
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from PIL import Image
from pypdf import PdfReader

from checkin.cli import cli
from checkin.core.codes import reissue
from checkin.core.db import connect
from tests.conftest import free_port

SENDER = "orga@gbo-treffen.example"


class Inbox:
    """An aiosmtpd handler that keeps every mail and refuses the addresses in `refuse`."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.lower() in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=default)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp():
    """A real SMTP server on a free loopback port; yields (HOST:PORT, inbox)."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"127.0.0.1:{port}", inbox
    finally:
        controller.stop()


def run(db_path: Path, server: str, *args: str):
    return CliRunner().invoke(cli, ["--db", str(db_path), "mail", "badges", "--smtp", server,
                                    "--sender", SENDER, *args])


def people(db_path: Path) -> dict[str, dict]:
    db = connect(db_path)
    try:
        return {p["email"].lower(): p for p in db.query(
            "SELECT id, email, code, language, first_name FROM participants")}
    finally:
        db.conn.close()


def qr_of(message: EmailMessage) -> list[str]:
    """Decode every QR in the mail's images."""
    found = []
    for part in message.walk():
        if part.get_content_type() == "image/png":
            found += [r.text for r in zxingcpp.read_barcodes(
                Image.open(io.BytesIO(part.get_content())))]
    return found


@pytest.mark.slow
def test_every_demo_participant_gets_their_code_in_their_language(db_path, smtp):
    server, inbox = smtp
    dry = run(db_path, server, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "60 mail(s) made, none sent" in dry.output
    assert inbox.messages == []
    assert (db_path.parent / "mail-templates" / "badge.nl.txt").exists()

    result = run(db_path, server)
    assert result.exit_code == 0, result.output
    assert "Sent 60 badge mail(s)." in result.output
    everyone = people(db_path)
    assert len(inbox.messages) == len(everyone) == 60
    subjects = {"de": "Ihr Namensschild", "nl": "Uw badge", "en": "Your badge"}
    for message in inbox.messages:
        person = everyone[message["To"].addresses[0].addr_spec.lower()]
        assert message["From"] == SENDER
        assert message["Subject"].startswith(subjects[person["language"]])
        assert message["Content-Language"] == person["language"]
        assert qr_of(message) == [person["code"]]
        text = message.get_body(("plain",)).get_content()
        assert person["first_name"] in text and person["code"] in text
        assert "{{" not in text
        html = message.get_body(("html",)).get_content()
        assert "cid:" in html
        pdfs = [p for p in message.iter_attachments()
                if p.get_content_type() == "application/pdf"]
        assert len(pdfs) == 1 and pdfs[0].get_filename() == "badge.pdf"
        assert len(PdfReader(io.BytesIO(pdfs[0].get_content())).pages) == 1
    assert len({m["To"].addresses[0].addr_spec.lower() for m in inbox.messages}) == 60

    # A second run reaches no one twice.
    again = run(db_path, server)
    assert again.exit_code == 0 and "nothing to send" in again.output
    assert len(inbox.messages) == 60


@pytest.mark.slow
def test_failures_are_listed_and_retried_and_a_new_code_is_mailed_again(db_path, smtp):
    server, inbox = smtp
    everyone = people(db_path)
    refused = sorted(everyone)[:2]
    inbox.refuse = set(refused)
    result = run(db_path, server, "--rate", "6000")
    assert result.exit_code == 1
    assert "Sent 58 badge mail(s)." in result.output
    assert "2 mail(s) failed" in result.output
    for address in refused:
        assert address in result.output.lower()
    assert "550 5.1.1 mailbox unavailable" in result.output

    inbox.refuse = set()
    retry = run(db_path, server)
    assert retry.exit_code == 0, retry.output
    assert "Sent 2 badge mail(s)." in retry.output
    assert sorted(m["To"].addresses[0].addr_spec.lower() for m in inbox.messages[58:]) == refused

    # A reissued code makes the person due again (their old mail's code stopped working).
    person = everyone[refused[0]]
    db = connect(db_path)
    try:
        new_code = reissue(db, person["id"])
    finally:
        db.conn.close()
    third = run(db_path, server, "--only", person["email"])
    assert "Sent 1 badge mail(s)." in third.output
    assert qr_of(inbox.messages[-1]) == [new_code]
    forced = run(db_path, server, "--only", str(person["id"]), "--resend")
    assert "Sent 1 badge mail(s)." in forced.output


def test_edited_template_is_used_and_a_broken_one_is_refused(db_path, smtp):
    server, inbox = smtp
    folder = db_path.parent / "mail-templates"
    run(db_path, server, "--dry-run")
    (folder / "badge.en.txt").write_text(
        "Subject: See you, {{ first_name }}\n\nBring this: {{ code }}\n", encoding="utf-8")
    english = [p for p in people(db_path).values() if p["language"] == "en"]
    only = [arg for p in english for arg in ("--only", str(p["id"]))]
    result = run(db_path, server, *only)
    assert result.exit_code == 0, result.output
    assert len(inbox.messages) == len(english) > 1
    by_address = {p["email"].lower(): p for p in english}
    for message in inbox.messages:
        person = by_address[message["To"].addresses[0].addr_spec.lower()]
        assert message["Subject"] == f"See you, {person['first_name']}"
        assert message.get_body(("plain",)).get_content().strip() == \
            f"Bring this: {person['code']}"
    (folder / "badge.de.txt").write_text("Subject: x\n\n{{ no_such_name }}\n", encoding="utf-8")
    broken = run(db_path, server, "--resend", "--dry-run")
    assert broken.exit_code == 1 and "no_such_name" in broken.output


def test_bad_options_are_refused_without_a_traceback(db_path, smtp, monkeypatch):
    server, _inbox = smtp
    assert run(db_path, "no-port", "--dry-run").exit_code == 2
    missing = run(db_path, server, "--user", "u", "--password-env", "CHECKIN_NO_SUCH_VAR")
    assert missing.exit_code == 2 and "CHECKIN_NO_SUCH_VAR" in missing.output
    unknown = run(db_path, server, "--only", "nobody@example.org")
    assert unknown.exit_code == 1 and "nobody@example.org" in unknown.output
    closed = run(db_path, f"127.0.0.1:{free_port()}")
    assert closed.exit_code == 1 and "cannot use the SMTP server" in closed.output


@pytest.mark.slow
def test_the_participants_page_mails_everyone_with_live_progress(organiser, smtp, db_path):
    import time

    from tests.conftest import csrf_token

    server, inbox = smtp
    page = organiser.get("/participants/mail")
    assert page.status_code == 200
    assert 'id="m-not-yet">60<' in page.get_data(as_text=True)
    token = csrf_token(organiser, "/participants/mail")
    bad = organiser.post("/participants/mail", data={"csrf_token": token, "smtp": "nohost",
                                                     "sender": "x", "security": "plain"})
    assert bad.status_code == 400
    assert bad.get_data(as_text=True).count('aria-invalid="true"') == 2
    started = organiser.post("/participants/mail", data={
        "csrf_token": token, "smtp": server, "sender": SENDER, "security": "plain",
        "user": "", "password": ""})
    assert started.status_code == 303
    seen = []
    deadline = time.monotonic() + 120
    while True:
        state = organiser.get("/participants/mail/progress").get_json()
        seen.append(state["done"])
        if not state["running"]:
            break
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert state == {"running": False, "done": 60, "total": 60, "sent": 60, "failed": 0,
                     "stopped": None, "problem": None}
    assert len(set(seen)) > 2  # the progress moved while it ran
    assert len(inbox.messages) == 60
    assert 'id="m-reached">60<' in organiser.get("/participants/mail").get_data(as_text=True)
    assert organiser.get("/participants/mail/progress").headers["Cache-Control"] == "no-store"


def test_the_mailing_page_is_for_organisers_only(client):
    assert client.get("/participants/mail").status_code in (302, 303)
    assert client.get("/participants/mail/progress").status_code in (302, 303, 401, 403)


@pytest.mark.server
@pytest.mark.browser
def test_the_mailing_page_in_chromium_shows_live_progress(live_server, browser, smtp):
    from tests.conftest import ARTIFACTS, axe_violations, browser_login

    server, inbox = smtp
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    browser_login(page, live_server.url)
    page.goto(live_server.url + "/participants/mail")
    assert axe_violations(page) == []
    page.get_by_label("SMTP server (host:port)").fill(server)
    page.get_by_label("Plain (a relay on this network)").check()
    page.get_by_label("Sender address").fill(SENDER)
    page.get_by_role("button", name="Send badge e-mails").click()
    page.wait_for_selector("#mail-run:not([hidden])")
    deadline = time.monotonic() + 120
    while page.locator("#m-reached").inner_text() != "60":
        assert time.monotonic() < deadline, page.inner_text("#mail-status")
        page.wait_for_timeout(500)
    # The page reloads once the run is done; its status line is filled by the first poll.
    from playwright.sync_api import expect

    expect(page.locator("#mail-status")).to_contain_text("Finished: 60 sent, 0 failed.",
                                                         timeout=10_000)
    assert int(page.get_attribute("#mail-progress", "value")) == 60
    assert len(inbox.messages) == 60
    assert axe_violations(page) == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "mail-page.png"), full_page=True)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # implicit TLS
@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_tls_and_sign_in_with_the_password_from_the_environment(db_path, tmp_path, monkeypatch,
                                                                 mode):
    """A server that wants TLS (STARTTLS or from the start) and a signed-in sender; the
    password comes from an environment variable. The server's certificate is checked
    against the system's trust store (here: the test's own CA)."""
    import ssl

    from aiosmtpd.smtp import AuthResult

    from checkin.tls.certs import ensure_certificates

    certs = ensure_certificates(tmp_path / "tls", ["127.0.0.1"])
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs.server_cert, certs.server_key)
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret horse", handled=False)

    inbox = Inbox()
    port = free_port()
    options = {"tls_context": context, "require_starttls": True} if mode == "starttls" \
        else {"ssl_context": context}
    # aiosmtpd offers AUTH over implicit TLS only when told not to wait for STARTTLS.
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_require_tls=mode == "starttls", auth_required=True,
                            server_hostname="127.0.0.1", **options)
    controller.start()
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(certs.ca_cert))
        monkeypatch.setenv("CHECKIN_SMTP_PASSWORD", "wrong")
        args = ("--" + mode, "--user", "orga", "--password-env", "CHECKIN_SMTP_PASSWORD",
                "--only", "1")
        refused = run(db_path, f"127.0.0.1:{port}", *args)
        assert refused.exit_code == 1 and "535" in refused.output, refused.output
        monkeypatch.setenv("CHECKIN_SMTP_PASSWORD", "s3cret horse")
        result = run(db_path, f"127.0.0.1:{port}", *args)
        assert result.exit_code == 0, result.output
        assert "Sent 1 badge mail(s)." in result.output
        assert "s3cret" not in result.output
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    assert logins[-1] == (b"orga", b"s3cret horse")


def test_the_rate_limit_spaces_the_mails(db_path, smtp):
    server, inbox = smtp
    started = time.monotonic()
    result = run(db_path, server, "--rate", "120", "--only", "1", "--only", "2", "--only", "3")
    elapsed = time.monotonic() - started
    assert "Sent 3 badge mail(s)." in result.output
    assert elapsed >= 1.0  # two gaps of half a second between three mails
    assert len(inbox.messages) == 3
