"""A walk-on is shown with the excursion they are on today, wherever a person's excursion
is shown: badges (desk reprint, organiser's PDF), mailed badges, paper lists, searches, the
scan's warning. The plan (`participants.excursion`) stays as imported."""

from __future__ import annotations

import io
import subprocess

from checkin import mail
from checkin.badges import select_participants
from checkin.desk.printing import render_badge
from checkin.excursions import record_event
from checkin.lists import list_data
from checkin.participants.records import get_participant, search
from checkin.scans import organiser_actor, record_scans

AT = "2019-11-12T12:50:00.000+00:00"
AVEBE, FORUM = "Avebe Centre Groningen", "Groninger Forum"


def walk_on_to_avebe(db) -> int:
    """Add someone planned for the Forum to the Avebe excursion on the day; return their id."""
    pid = db.execute("SELECT id FROM participants WHERE excursion = 'forum' "
                     "ORDER BY id LIMIT 1").fetchone()[0]
    record_event(db, "avebe", {"id": "walk-on-shown-1", "action": "walk_on",
                               "participant": pid, "at": AT})
    return pid


def pdf_text(pdf: bytes) -> str:
    """The text of a PDF as pdftotext reads it, with runs of white space made one space."""
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True,
                         timeout=60).stdout.decode("utf-8")
    return " ".join(out.split())


def test_a_walk_ons_reprinted_badge_shows_the_new_excursion(db):
    pid = walk_on_to_avebe(db)
    out = io.BytesIO()
    render_badge(db, out, pid, None)  # what the desk hands to CUPS on a reprint
    text = pdf_text(out.getvalue())
    assert AVEBE in text and FORUM not in text
    # The plan is untouched: only what is shown follows the day.
    assert db.execute("SELECT excursion FROM participants WHERE id = ?",
                      [pid]).fetchone()[0] == "forum"


def test_the_organisers_badge_pdf_shows_the_new_excursion(organiser, db):
    pid = walk_on_to_avebe(db)
    response = organiser.get(f"/participants/{pid}/badge.pdf")
    assert response.status_code == 200
    text = pdf_text(response.get_data())
    assert AVEBE in text and FORUM not in text
    page = organiser.get(f"/participants/{pid}").get_data(as_text=True)
    assert AVEBE in page and FORUM not in page


def test_a_walk_on_scanned_at_the_new_excursion_is_not_flagged(db):
    pid = walk_on_to_avebe(db)
    actor = organiser_actor("orga")
    there = record_scans(db, actor, [{"id": "shown-scan-1", "participant": pid,
                                      "checkpoint": "excursion:avebe", "direction": "in",
                                      "at": AT}]).results[0]
    assert (there["status"], there["reason"]) == ("accepted", None)
    # At the excursion of the plan they are no longer expected.
    old = record_scans(db, actor, [{"id": "shown-scan-2", "participant": pid,
                                    "checkpoint": "excursion:forum", "direction": "in",
                                    "at": AT}]).results[0]
    assert (old["status"], old["reason"]) == ("warning", "not_assigned")


def test_the_badge_mail_names_the_new_excursion(db, tmp_path):
    pid = walk_on_to_avebe(db)
    person = mail.recipients(db, [pid], resend=True)[0]
    assert person["excursion_title"] == AVEBE
    place = db.execute("SELECT departure_place FROM excursions WHERE id = 'avebe'").fetchone()[0]
    assert person["excursion_place"] == place
    # ...and so does the text mailed, in the shipped templates, with the place in the
    # person's language (the demo's event file gives it in three).
    mail.ensure_templates(tmp_path)
    _subject, body = mail.preview(db, person, mail.Templates.load(tmp_path))
    spoken = {"de": "Bushaltestelle Grote Markt", "nl": "Bushalte Grote Markt",
              "en": "Bus stop Grote Markt"}[person["language"] or "en"]
    assert AVEBE in body and spoken in body and FORUM not in body


def test_the_paper_roster_lists_a_walk_on_under_the_new_excursion(db):
    pid = walk_on_to_avebe(db)
    on = {x["id"]: {p["id"] for p in x["people"]} for x in list_data(db)["excursions"]}
    assert pid in on["avebe"] and pid not in on["forum"]


def test_participant_page_and_searches_follow_the_day(db):
    pid = walk_on_to_avebe(db)
    person = get_participant(db, pid)
    assert person["excursion_title"] == AVEBE
    found = search(db, person["last_name"], excursion="avebe")
    assert pid in {r["id"] for r in found}
    assert next(r for r in found if r["id"] == pid)["excursion_title"] == AVEBE
    assert pid not in {r["id"] for r in search(db, person["last_name"], excursion="forum")}


def test_printing_the_badges_of_an_excursion_selects_its_walk_ons(db):
    pid = walk_on_to_avebe(db)
    assert pid in select_participants(db, excursions=["avebe"])
    assert pid not in select_participants(db, excursions=["forum"])
