"""One error catalogue (issue 18, point 3; issue 21): every error a user meets is in
checkin/core/errors.py with a German and a Dutch text, is worded in the reader's language
where it is read, and names fields as the pages label them, never `first_name`."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from click.testing import CliRunner

from checkin.cli import cli
from checkin.core.errors import CATALOGUE, FIELDS, DomainError, Text, say, use_language
from checkin.core.paths import TRANSLATIONS
from checkin.devices import add_device
from checkin.participants.records import COLUMNS
from tests.conftest import csrf_token

PLACEHOLDER = re.compile(r"%\((\w+)\)[sdr]")
# A row with no first name: the import says which field is missing.
NO_FIRST_NAME = ",".join(COLUMNS) + "\r\n,Bakker,Gemeente Groningen,administration,Groningen," \
    ",nl,,,,\r\n"


def catalogue(lang: str):
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f)


@pytest.mark.parametrize("lang", ["de", "nl"])
def test_every_catalogue_error_and_field_label_has_a_text(lang):
    po = catalogue(lang)
    messages = {e.message for e in CATALOGUE.values()} | set(FIELDS.values())
    untranslated = sorted(m for m in messages
                          if not (entry := po.get(m)) or not entry.string or entry.fuzzy)
    assert untranslated == [], f"translate in {lang} (scripts/translations): {untranslated}"
    # The translation keeps every named placeholder, so that wording it never fails.
    # A plural entry's translation is one text per plural form of the language.
    wrong = sorted(m for m in messages for said in forms(po.get(m).string)
                   if set(PLACEHOLDER.findall(m)) != set(PLACEHOLDER.findall(said)))
    assert wrong == []


def forms(string: str | tuple[str, ...]) -> tuple[str, ...]:
    """Every form of a translation: one, or one per plural form."""
    return string if isinstance(string, tuple) else (string,)


@pytest.mark.parametrize(("lang", "one", "many"), [
    ("en", "Try again in 1 minute.", "Try again in 5 minutes."),
    ("de", "in 1 Minute", "in 5 Minuten"),
    ("nl", "over 1 minuut", "over 5 minuten"),
])
def test_a_plural_entry_takes_the_form_its_count_needs(lang, one, many):
    assert one in say("too_many_logins", num=1).render(lang)
    assert many in say("too_many_logins", num=5).render(lang)
    assert DomainError("too_many_logins", num=5).status == 429


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_every_entry_is_worded_in_each_language(key):
    params = {name: 1 if kind == "d" else "x"
              for name, kind in re.findall(r"%\((\w+)\)([sdr])", CATALOGUE[key].message)}
    said = {lang: say(key, **params).render(lang) for lang in ("en", "de", "nl")}
    assert all(said.values())
    message = CATALOGUE[key].message
    assert said["en"] == (message % params if params else message)
    # Some sentences are the same words in two languages ("Organisation"), never all three
    # at once for a sentence.
    assert len(set(said.values())) > 1 or len(CATALOGUE[key].message.split()) < 3


def test_an_error_carries_its_code_and_status_and_is_worded_when_read():
    error = DomainError("unknown_pairing_code")
    assert (error.code, error.status) == ("unknown_pairing_code", 404)
    restore = use_language("de")
    try:
        german = str(error)
    finally:
        restore()
    assert german.startswith("Dieser Kopplungscode ist unbekannt")
    assert str(error) == CATALOGUE["unknown_pairing_code"].message


def test_a_field_label_inside_a_message_follows_the_reader():
    message = say("row.missing", column=Text(FIELDS["first_name"]))
    assert message.render("en") == "First name is missing"
    assert message.render("de") == "Vorname fehlt"
    assert message.render("nl") == "Voornaam ontbreekt"


def test_german_upload_names_the_field_as_the_german_page_labels_it(organiser):
    page = organiser.get("/participants/upload?lang=de").get_data(as_text=True)
    assert "Vorname" in page
    token = csrf_token(organiser, "/participants/upload")
    response = organiser.post("/participants/upload", content_type="multipart/form-data", data={
        "csrf_token": token, "file": (io.BytesIO(NO_FIRST_NAME.encode()), "people.csv")})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'<td class="line">2</td><td>Vorname fehlt</td>', page), page[-3000:]
    assert "first_name fehlt" not in page


def test_dutch_desk_form_names_each_bad_field_by_its_label(client, db):
    desk = add_device(db, "Desk 1", "desk")["token"]
    response = client.post("/api/v1/participants", json={
        "first_name": "", "last_name": "Walker", "email": "nope"},
        headers={"Authorization": f"Bearer {desk}", "Accept-Language": "nl"})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_fields"
    assert error["fields"]["first_name"] == "Voornaam ontbreekt"
    assert error["fields"]["email"].startswith("E-mail 'nope' is geen e-mailadres")


@pytest.mark.parametrize("lang", ["de", "nl", "en"])
def test_api_errors_keep_their_code_and_speak_the_callers_language(client, lang):
    response = client.post("/api/v1/pair", json={"code": "nothing-like-this"},
                           headers={"Accept-Language": lang})
    assert response.status_code == 404
    error = response.get_json()["error"]
    assert error["code"] == "unknown_pairing_code"
    assert error["message"] == say("unknown_pairing_code").render(lang)


def test_cli_error_is_one_line_in_the_chosen_language(db_path: Path, tmp_path: Path, db):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(NO_FIRST_NAME.encode())
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", str(db_path), "--lang", "de", "import", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}: Zeile 2: Vorname fehlt" in result.output.splitlines()
    result = runner.invoke(cli, ["--db", str(db_path), "--lang", "nl", "device", "add",
                                 "--name", "Bus", "--role", "guide"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        say("guide_needs_excursion").render("nl")]
    assert "excursie" in result.output
    # The language was the command's: English again afterwards.
    result = runner.invoke(cli, ["--db", str(db_path), "import", str(bad)])
    assert f"{bad}: line 2: First name is missing" in result.output.splitlines()


BAD_EVENT = """[event]
name = "Forum"
date = "12.11.2019"
venue = "Town hall"
host_city = "Groningen"

[[working_groups]]
id = "wg1"
area = "A"
title = "T"
room = "nowhere"
start = "25:99"
"""


def test_event_file_problems_are_said_in_the_chosen_language(db_path: Path, tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD_EVENT, encoding="utf-8")
    runner = CliRunner()
    said = {}
    for lang in ("de", "nl", "en"):
        result = runner.invoke(cli, ["--db", str(db_path), "--lang", lang, "init", str(bad)])
        assert result.exit_code == 1
        said[lang] = result.output.splitlines()
    assert said["en"] == [f"{bad}: [event] date must be a date like 2019-11-12",
                          f"{bad}: working group wg1: room 'nowhere' is not one of the rooms",
                          f"{bad}: working group wg1: start must be a time like 09:30"]
    assert said["de"] == [f"{bad}: [event] date muss ein Datum wie 2019-11-12 sein",
                          f"{bad}: Arbeitsgruppe wg1: room 'nowhere' ist keiner der Räume",
                          f"{bad}: Arbeitsgruppe wg1: start muss eine Uhrzeit wie 09:30 sein"]
    assert said["nl"][1] == f"{bad}: werkgroep wg1: room 'nowhere' is geen van de zalen"


def test_purge_without_yes_refuses_in_the_chosen_language(db_path: Path, db):
    result = CliRunner().invoke(cli, ["--db", str(db_path), "--lang", "nl", "purge"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [say("purge.confirm").render("nl")]
    assert "Voer de opdracht opnieuw uit met --yes" in result.output
    assert db.execute("SELECT count(*) FROM participants WHERE erased_at IS NULL"
                      ).fetchone()[0] > 0


def raised_keys() -> set[str]:
    """Every catalogue key the code names: the first argument of an error class, say or fail."""
    import ast

    import checkin
    from checkin.core.errors import DomainError as Base

    # CSVFileError: the older name of FileError, still used where CSV files are read.
    classes = {c.__name__ for c in _subclasses(Base)} | {"DomainError", "say", "fail",
                                                         "CSVFileError"}
    found = set()
    for path in Path(checkin.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and node.args \
                    and getattr(node.func, "id", getattr(node.func, "attr", None)) in classes \
                    and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str):
                found.add(node.args[0].value)
    return found


def _subclasses(cls: type) -> set[type]:
    import checkin.api.views  # noqa: F401 (the error classes of every layer)
    import checkin.auth.accounts  # noqa: F401
    import checkin.cli  # noqa: F401
    import checkin.devices  # noqa: F401
    import checkin.excursions  # noqa: F401
    import checkin.mail  # noqa: F401
    import checkin.participants.csvfile  # noqa: F401
    import checkin.scans.corrections  # noqa: F401

    out = set(cls.__subclasses__())
    for sub in list(out):
        out |= _subclasses(sub)
    return out


def test_every_key_the_code_raises_is_in_the_catalogue():
    keys = raised_keys()
    assert len(keys) > 60
    assert sorted(keys - set(CATALOGUE)) == []
