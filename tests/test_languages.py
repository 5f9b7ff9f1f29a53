"""The event's own content in the reader's language, everywhere: an event whose every title
(venue, rooms, working groups, excursions, departure places) differs in de, nl and en, and
one participant per language. Every organiser page, the device names, the scan API, the mail
and the printed lists are read in each language and fail on any title in another one."""

from __future__ import annotations

import re
import subprocess
import uuid
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner

from checkin import create_app
from checkin.auth.accounts import add_organiser
from checkin.cli import cli
from checkin.core.db import connect
from checkin.devices import add_device
from checkin.lists import build_pdf
from checkin.mail import DEFAULTS, Templates, build_message, preview, recipients
from checkin.scans import organiser_actor, record_scans
from tests.conftest import ARTIFACTS, ORGANISER, browser_login, csrf_token

# One word per language in every title: finding another language's word is a wrong title.
WORD = {"de": "Kirschbaum", "nl": "Kersenboom", "en": "Cherrytree"}
LANGS = tuple(WORD)


def titled(base: dict[str, str]) -> str:
    """A TOML table giving `base[lang] + WORD[lang]` per language."""
    return "{" + ", ".join(f'{lang} = "{base[lang]} {WORD[lang]}"' for lang in LANGS) + "}"


EVENT = f"""
[event]
name = "Treffen 2019"
date = 2019-11-12
venue = {titled({"de": "Rathaus", "nl": "Stadhuis", "en": "Town hall"})}
host_city = "Groningen"
languages = ["de", "nl", "en"]
timezone = "Europe/Amsterdam"

[[rooms]]
id = "r1"
name = {titled({"de": "Saal", "nl": "Zaal", "en": "Hall"})}
capacity = 20

[[rooms]]
id = "r2"
name = {titled({"de": "Kammer", "nl": "Kamer", "en": "Chamber"})}

[[working_groups]]
id = "g1"
area = "Energy"
title = {titled({"de": "Wärme", "nl": "Warmte", "en": "Heat"})}
room = "r2"
start = "10:00"
end = "12:00"

[[working_groups]]
id = "g2"
area = "Water"
title = {titled({"de": "Deiche", "nl": "Dijken", "en": "Dikes"})}
room = "r1"

[[excursions]]
id = "x1"
title = {titled({"de": "Hafenfahrt", "nl": "Havenrondvaart", "en": "Harbour tour"})}
departure_place = {titled({"de": "Bahnhof", "nl": "Station", "en": "Railway station"})}
departure = "14:00"
return = "17:00"
capacity = 30
guide = "Gerda"

[[excursions]]
id = "x2"
title = {titled({"de": "Radtour", "nl": "Fietstocht", "en": "Bike ride"})}
departure_place = {titled({"de": "Markt", "nl": "Markt", "en": "Market"})}
departure = "14:30"
"""

PEOPLE = ("first_name;last_name;organisation;organisation_type;city;email;language;"
          "working_group;excursion;role;title\r\n"
          "Anna;Albers;Stadt Bremen;administration;Bremen;anna@example.de;de;g1;x1;participant;\r\n"
          "Bram;Bakker;Gemeente;administration;Groningen;bram@example.nl;nl;g2;x2;participant;\r\n"
          "Cleo;Carter;Uni;university;Oldenburg;cleo@example.org;en;g1;x2;participant;\r\n")


def others(lang: str) -> list[str]:
    return [WORD[other] for other in LANGS if other != lang]


def assert_only(text: str, lang: str, where: str, expect: bool = True) -> None:
    """Fail on another language's title in `text` (and, if `expect`, on none in `lang`)."""
    wrong = [word for word in others(lang) if word in text]
    assert not wrong, f"{where} in {lang} shows titles in another language: {wrong}"
    if expect:
        assert WORD[lang] in text, f"{where} in {lang} shows no event title in {lang}"


def make_event(folder: Path, scanned: bool = True) -> Path:
    """The event made as a user makes it: `checkin init` (multilingual venue) and `import`;
    if `scanned`, everyone arrived and went to their group's room (pages name checkpoints)."""
    path = folder / "event.db"
    (folder / "event.toml").write_text(EVENT, encoding="utf-8")
    (folder / "people.csv").write_text(PEOPLE, encoding="utf-8")
    runner = CliRunner()
    init = runner.invoke(cli, ["--db", str(path), "init", str(folder / "event.toml")])
    assert init.exit_code == 0, init.output  # was: "venue is missing"
    imported = runner.invoke(cli, ["--db", str(path), "import", str(folder / "people.csv")])
    assert imported.exit_code == 0, imported.output
    db = connect(path)
    try:
        add_organiser(db, *ORGANISER)
        people = list(db.query("SELECT p.code, w.room FROM participants p "
                               "JOIN working_groups w ON w.id = p.working_group"))
        if scanned:
            record_scans(db, organiser_actor("orga"), [
                {"id": str(uuid.uuid4()), "code": p["code"], "checkpoint": checkpoint,
                 "direction": "in", "at": f"2019-11-12T{hour}:00:00Z"}
                for p in people for checkpoint, hour in (("entrance", "08"),
                                                        (f"room:{p['room']}", "09"))])
    finally:
        db.conn.close()
    return path


@pytest.fixture(scope="module")
def event_db(tmp_path_factory) -> Path:
    """The event, shared by the tests that only read it."""
    return make_event(tmp_path_factory.mktemp("languages"))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """The event without scans, for the server the browser test starts (live_server)."""
    return make_event(tmp_path, scanned=False)


@pytest.fixture(scope="module")
def signed_in(event_db):
    """An organiser's test client on the event."""
    client = create_app({"TESTING": True, "DATABASE": str(event_db)}).test_client()
    response = client.post("/login", data={"username": ORGANISER[0], "password": ORGANISER[1],
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    return client


def pages(client, event_db: Path) -> list[str]:
    """Every page an organiser reads: each GET route of the app without arguments, and those
    of each participant and scan (downloads, device shells and the API are read elsewhere)."""
    skip = ("/api/", "/static", "/logout", "/favicon", "/ca.crt", "/scan/sw.js",
            "/guide/sw.js", "/lists.pdf", "/reports/attendance", "/participants/export.csv",
            "/participants/badges.pdf", "/participants/mail/progress", "/continuity/status")
    found = [rule.rule for rule in client.application.url_map.iter_rules()
             if "GET" in rule.methods and not rule.arguments and not rule.rule.startswith(skip)]
    db = connect(event_db)
    try:
        for (pid,) in db.execute("SELECT id FROM participants"):
            found += [f"/participants/{pid}", f"/overview/participants/{pid}"]
        found += [f"/overview/scans/{sid}" for (sid,) in db.execute("SELECT id FROM scans")]
        # A device's page names its checkpoint: a room's and an excursion's title.
        if not db.execute("SELECT 1 FROM devices WHERE checkpoint LIKE 'excursion:%'").fetchone():
            room = db.execute("SELECT id FROM checkpoints WHERE kind = 'room'").fetchone()[0]
            trip = db.execute("SELECT id FROM checkpoints WHERE kind = 'excursion'").fetchone()[0]
            add_device(db, "Zaaldeur", "scanner", room)
            add_device(db, "Bus", "guide", trip)
        found += [f"/devices/{did}" for (did,) in db.execute("SELECT id FROM devices")]
    finally:
        db.conn.close()
    found += [f"/overview/part/{part}" for part in ("numbers", "alerts", "excursions",
                                                      "missing")]
    return found


@pytest.mark.parametrize("lang", LANGS)
def test_every_organiser_page_shows_the_event_in_its_language(signed_in, event_db, lang):
    # The pages that show the event's titles must show them; none may show another language's.
    showing = re.compile(r"/participants|/overview|/reports/summary|/devices|/guide"
                         r"|/participants/\d+|/overview/participants/\d+|/overview/scans/.+"
                         r"|/overview/part/(numbers|excursions)|/devices/d[0-9a-f]+")
    seen = 0
    for path in pages(signed_in, event_db):
        response = signed_in.get(path, query_string={"lang": lang})
        if response.status_code != 200 or not response.mimetype.startswith("text/"):
            continue
        seen += 1
        html = response.get_data(as_text=True)
        assert_only(html, lang, path, expect=bool(showing.fullmatch(path)))
    assert seen >= 15


def test_the_filter_choices_and_room_names_are_in_the_pages_language(signed_in):
    listing = signed_in.get("/participants?lang=de").get_data(as_text=True)
    assert "Wärme Kirschbaum</option>" in listing and "Radtour Kirschbaum</option>" in listing
    # The overview's working-group rows: each group's own room (was looked up by its name).
    numbers = signed_in.get("/overview?lang=nl").get_data(as_text=True)
    assert re.search(r"Warmte Kersenboom.{0,120}Kamer Kersenboom", numbers, re.S)
    assert re.search(r"Dijken Kersenboom.{0,120}Zaal Kersenboom", numbers, re.S)


@pytest.mark.parametrize("lang", LANGS)
def test_device_names_and_the_scan_answer_give_titles_in_the_devices_language(signed_in, lang):
    names = signed_in.get(f"/api/v1/event-names?lang={lang}").get_json()
    text = str(names)
    assert_only(text, lang, "event-names")
    heat = {"de": "Wärme", "nl": "Warmte", "en": "Heat"}[lang]
    assert names["working_groups"]["g1"]["title"] == f"{heat} {WORD[lang]}"
    assert names["checkpoints"]["entrance"].endswith(WORD[lang])  # the venue
    # The scan API keeps its plain titles (backward compatible) and gives the ids the page
    # resolves with these names.
    found = signed_in.get("/api/v1/participants?q=Albers").get_json()
    person = found["participants"][0]
    assert person["working_group"] == "g1" and person["excursion"] == "x1"
    assert person["working_group_title"] == "Heat Cherrytree"


def mail_text(message: EmailMessage, tmp_path: Path) -> str:
    """The mail's subject, text, HTML and the attached badge's text (pdftotext)."""
    parts = [str(message["Subject"])]
    for part in message.walk():
        if part.get_content_type() in ("text/plain", "text/html"):
            parts.append(part.get_content())
        elif part.get_content_type() == "application/pdf":
            pdf = tmp_path / f"{uuid.uuid4().hex}.pdf"
            pdf.write_bytes(part.get_content())
            parts.append(subprocess.run(["pdftotext", str(pdf), "-"], check=True,
                                        capture_output=True, text=True).stdout)
    return "\n".join(parts)


def test_each_participants_mail_and_badge_speak_their_language(event_db, tmp_path):
    db = connect(event_db)
    try:
        templates = Templates.load(DEFAULTS)  # the shipped texts, as a new event copies them
        people = recipients(db)
        for person in people:
            lang = person["language"]
            message = build_message(db, person, templates, "orga@example.org")
            text = mail_text(message, tmp_path)
            assert_only(text, lang, f"mail to {person['email']}")
            # The group, its room, the excursion, its departure place and the venue, each
            # in the reader's language.
            assert text.count(WORD[lang]) >= 5, text
            subject, body = preview(db, person, templates)
            assert_only(subject + body, lang, "mail preview")
        assert len(people) == 3
    finally:
        db.conn.close()


@pytest.mark.parametrize("lang", LANGS)
def test_the_printed_lists_print_titles_in_the_chosen_language(signed_in, event_db, tmp_path,
                                                              lang):
    def text_of(data: bytes) -> str:
        pdf = tmp_path / f"{uuid.uuid4().hex}.pdf"
        pdf.write_bytes(data)
        return subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True,
                              text=True).stdout

    response = signed_in.get(f"/lists.pdf?lang={lang}")
    assert response.status_code == 200
    assert_only(text_of(response.data), lang, "/lists.pdf")
    out = tmp_path / f"lists-{lang}.pdf"
    result = CliRunner().invoke(cli, ["--db", str(event_db), "lists", "--lang", lang,
                                      "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert_only(text_of(out.read_bytes()), lang, "checkin lists")
    db = connect(event_db)
    try:
        # Marked as arrived too: the cross and its word change nothing about the titles.
        assert_only(text_of(build_pdf(db, lang, arrived=True)), lang, "lists, arrived")
    finally:
        db.conn.close()


def shoot(page, name: str) -> None:
    """Save the page as it looks now (looked at by eye), at 1024×768 and 390 px wide."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width, height, size in ((1024, 768, "1024"), (390, 844, "390")):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(ARTIFACTS / f"languages-{name}-{size}.png"), full_page=True)


def pair(page, base: str, device: dict, path: str) -> None:
    """Open the device's pairing link and wait for its page."""
    page.goto(f"{base}/pair/{device['pairing_code']}")
    page.wait_for_function("path => location.pathname === path", arg=path, timeout=15000)


@pytest.mark.browser
@pytest.mark.server
@pytest.mark.parametrize("lang", ["nl", "de"])
def test_scanner_answer_and_guide_page_name_the_event_in_the_devices_language(
        live_server, browser, db_path, lang):
    db = connect(db_path)
    try:
        scanner = add_device(db, "Eingang", "scanner", "entrance")
        guide = add_device(db, "Gids", "guide", "excursion:x2")
        anna = next(db.query("SELECT code FROM participants WHERE first_name = 'Anna'"))
    finally:
        db.conn.close()
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale=lang)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # The scanner's answer panel under Anna's name: her group and excursion in nl/de.
    pair(page, live_server.url, scanner, "/scan")
    page.wait_for_selector("#setup:not([hidden])", timeout=15000)
    page.locator("input[name=direction][value=in]").check()
    page.click("#start")
    page.wait_for_selector("#scanner:not([hidden])")
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.type(anna["code"])
    page.keyboard.press("Enter")
    page.wait_for_selector("#result[data-status=accepted]", timeout=15000)
    shown = page.inner_text("#result")
    assert_only(shown, lang, "the scanner's answer")
    group = {"de": "Wärme", "nl": "Warmte"}[lang]
    trip = {"de": "Hafenfahrt", "nl": "Havenrondvaart"}[lang]
    assert f"{group} {WORD[lang]}" in shown and f"{trip} {WORD[lang]}" in shown
    assert_only(page.inner_text("body"), lang, "the scanner page")
    if lang == "de":
        shoot(page, "scanner-answer")

    # The guide of the bike ride: its title and place, and Anna, who is on another excursion.
    pair(page, live_server.url, guide, "/guide")
    page.wait_for_selector("#roster .person", timeout=15000)
    page.click("#scan-toggle")
    page.fill("#code-input", anna["code"])
    page.press("#code-input", "Enter")
    page.wait_for_selector("#add-walk-on:not([hidden])")
    assert f"{trip} {WORD[lang]}" in page.locator("#message-text").text_content()
    body = page.inner_text("body")
    assert_only(body, lang, "the guide page")
    ride = {"de": "Radtour", "nl": "Fietstocht"}[lang]
    assert f"{ride} {WORD[lang]}" in body and f"Markt {WORD[lang]}" in body
    if lang == "de":
        shoot(page, "guide")
        # The organiser pages this change touched, for the eye.
        page.goto(live_server.url + "/login?lang=de")
        browser_login(page, live_server.url)
        for name, path in (("participants", "/participants"), ("participant", "/participants/1"),
                           ("overview", "/overview"),
                           ("overview-participant", "/overview/participants/1")):
            page.goto(live_server.url + path)
            assert_only(page.inner_text("body"), lang, path)
            shoot(page, name)
    assert errors == []
    context.close()


def test_a_multilingual_venue_is_one_value_and_a_broken_one_one_problem():
    from checkin.core.event import EventFileError, parse_event

    event = parse_event(EVENT)
    assert event.venue == "Town hall Cherrytree"  # the plain text: English when given
    assert event.texts["venue"]["entrance"]["nl"] == "Stadhuis Kersenboom"
    broken = EVENT.replace('venue = {de = "Rathaus', 'venue = {fr = "Mairie", de = "Rathaus')
    with pytest.raises(EventFileError) as bad:
        parse_event(broken)
    assert bad.value.problems == ["[event] venue has unknown language(s) fr (use de, nl, en)"]
