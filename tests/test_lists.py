"""The paper lists: every participant and excursion in the PDF's real text, in the organiser's
language, with arrivals marked; the command and the organisers' download."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from checkin.cli import cli
from checkin.core.texts import all_texts, localized
from checkin.lists import build_pdf
from checkin.scans import organiser_actor, record_scans


def pdf_text(data: bytes, tmp_path: Path) -> str:
    """The PDF's text as pdftotext (poppler) reads it."""
    path = tmp_path / f"{uuid.uuid4().hex}.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def squash(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("language,entrance,excursion,group",
                         [("en", "Entrance list", "Excursion", "Working group"),
                          ("de", "Eingangsliste", "Exkursion", "Arbeitsgruppe"),
                          ("nl", "Ingangslijst", "Excursie", "Werkgroep")])
def test_every_participant_and_excursion_is_in_the_text(db, tmp_path, language, entrance,
                                                        excursion, group):
    text = pdf_text(build_pdf(db, language), tmp_path)
    flat = squash(text)
    assert entrance in text and excursion in text and group in text
    people = list(db.query("SELECT * FROM participants"))
    assert len(people) == 60
    for p in people:
        assert f"{p['last_name']}, {p['first_name']}" in flat, p
        assert p["code"][-4:] in flat
        assert p["code"] not in flat  # never the whole code: a list must not let anyone in
    # Each title in the list's language (the demo gives several in de, nl and en).
    texts = all_texts(db)
    for x in db.query("SELECT * FROM excursions"):
        title = localized(texts, "excursion", x["id"], language, x["title"])
        assert squash(title) in flat and x["guide"] in flat
        assert squash(localized(texts, "departure_place", x["id"], language,
                                x["departure_place"])) in flat
    for g in db.query("SELECT * FROM working_groups"):
        assert squash(localized(texts, "working_group", g["id"], language, g["title"]))[:30] \
            in flat


def test_entrance_list_is_a_to_z(db, tmp_path):
    """A–Z as a volunteer searches: umlauts beside their letter, "van den Berg" under B."""
    import unicodedata

    def reference(last: str, first: str) -> tuple[str, str]:
        words = last.split()
        while len(words) > 1 and words[0].lstrip("'’")[:1].islower():  # van, ter, 't ...
            words = words[1:]
        plain = [unicodedata.normalize("NFKD", t).encode("ascii", "ignore").decode().lower()
                 for t in (" ".join(words), first)]
        return plain[0], plain[1]

    text = pdf_text(build_pdf(db, "en"), tmp_path)
    entrance = text.split("Excursion:")[0]
    people = list(db.query("SELECT last_name, first_name FROM participants"))
    printed = sorted(people, key=lambda p: entrance.index(f"{p['last_name']}, {p['first_name']}"))
    keys = [reference(p["last_name"], p["first_name"]) for p in printed]
    assert keys == sorted(keys)
    assert entrance.index("van den Berg, Bram") < entrance.index("Bijl, Bram")


def test_arrived_marks_exactly_who_arrived(db, tmp_path):
    people = list(db.query("SELECT id, code, first_name, last_name FROM participants "
                           "ORDER BY id LIMIT 3"))
    record_scans(db, organiser_actor("orga"),
                 [{"id": str(uuid.uuid4()), "code": p["code"], "checkpoint": "entrance",
                   "direction": "in", "at": "2019-11-12T08:00:00Z"} for p in people[:2]])
    flat = squash(pdf_text(build_pdf(db, "en", arrived=True), tmp_path))
    for p in people[:2]:
        assert f"{p['last_name']}, {p['first_name']} (arrived)" in flat
    assert f"{people[2]['last_name']}, {people[2]['first_name']} (arrived)" not in flat
    plain = squash(pdf_text(build_pdf(db, "en"), tmp_path))
    assert "(arrived)" not in plain


def test_lists_command_and_download(db_path, organiser, client, tmp_path):
    out = tmp_path / "lists.pdf"
    result = CliRunner().invoke(cli, ["--db", str(db_path), "lists", "-o", str(out),
                                      "--lang", "nl", "--arrived"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF") and "Ingangslijst" in pdf_text(
        out.read_bytes(), tmp_path)
    response = organiser.get("/lists.pdf?arrived=1")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "Entrance list" in pdf_text(response.data, tmp_path)
    overview = organiser.get("/overview").get_data(as_text=True)
    assert "/lists.pdf?arrived=1" in overview


def test_download_is_for_organisers_only(db_path, tmp_path):
    from checkin import create_app

    client = create_app({"TESTING": True, "DATABASE": str(db_path)}).test_client()
    assert client.get("/lists.pdf").status_code in (302, 401, 403)
