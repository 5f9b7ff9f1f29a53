"""Pages as people see them: reachable pairing addresses, one fullness rule, friendly errors,
favicon, sign-in details, devices list, demo e-mails."""

from __future__ import annotations

import json
import re

import pytest

from checkin import create_app
from checkin.core.places import place_state, with_states
from checkin.demo import ascii_slug, participants_csv
from checkin.devices import add_device, revoke
from checkin.tls.reach import device_base_url, is_loopback
from checkin.web.server import reachable_addresses
from tests.conftest import ORGANISER, csrf_token


@pytest.mark.parametrize("url, addresses, expected", [
    ("http://127.0.0.1:8443/", ["192.168.1.20"], "http://192.168.1.20:8443"),
    ("https://localhost:8443/", ["10.0.0.5", "192.168.1.20"], "https://10.0.0.5:8443"),
    ("https://[::1]:8443/", ["fd00::5"], "https://[fd00::5]:8443"),
    ("https://checkin.local:8443/", ["10.0.0.5"], "https://checkin.local:8443"),
    ("https://192.168.1.20:8443/", [], "https://192.168.1.20:8443"),
    ("http://127.0.0.1:8000/", [], None),
])
def test_device_base_url_never_loopback(url, addresses, expected):
    assert device_base_url(url, addresses) == expected


def test_reachable_addresses_follow_where_the_server_listens():
    assert reachable_addresses("0.0.0.0", ["192.168.1.20"]) == ["192.168.1.20"]  # noqa: S104
    assert reachable_addresses("127.0.0.1", ["192.168.1.20"]) == []
    assert reachable_addresses("192.168.1.20", ["192.168.1.20", "10.0.0.1"]) == ["192.168.1.20"]
    assert is_loopback("localhost") and is_loopback("127.0.0.2") and not is_loopback("10.0.0.1")


def _pairing_page(db_path, addresses):
    app = create_app({"TESTING": True, "DATABASE": str(db_path), "LAN_ADDRESSES": addresses})
    client = app.test_client()
    client.post("/login", data={"username": ORGANISER[0], "password": ORGANISER[1],
                                "csrf_token": csrf_token(client)})
    response = client.post("/devices", data={"csrf_token": csrf_token(client, "/devices"),
                                             "name": "Door", "role": "scanner",
                                             "checkpoint": "entrance"})
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_pairing_qr_uses_the_lan_address_or_warns(db_path):
    page = _pairing_page(db_path, ["192.168.1.20"])
    assert re.search(r'href="http://192\.168\.1\.20/pair/[^"]+"', page)
    assert "no network address" not in page
    page = _pairing_page(db_path, [])
    assert 'role="alert"' in page and "no network address" in page


def test_nearly_full_is_one_rule():
    # The two rooms: 9 of 10 and 7 of 8 are both one place from full.
    assert place_state(9, 10) == place_state(7, 8) == "near"
    assert place_state(8, 10) == "ok" and place_state(90, 100) == "near"
    assert place_state(89, 100) == "ok"
    assert place_state(10, 10) == "full" and place_state(11, 10) == "over"
    assert place_state(3, None) == "none" and place_state(0, 0) == "ok"
    counts = with_states({"checkpoints": [{"inside": 7, "capacity": 8}], "arrived": 7})
    assert counts["checkpoints"][0]["state"] == "near" and counts["arrived"] == 7


def test_fullness_grows_with_the_people_inside():
    # Exhaustive over every room size up to 300 (fast: a plain function).
    order = ["ok", "near", "full", "over"]
    for capacity in range(1, 301):
        states = [place_state(inside, capacity) for inside in range(capacity + 2)]
        assert [order.index(s) for s in states] == sorted(order.index(s) for s in states)
        assert states[-2:] == ["full", "over"] and "near" in states
        # "near" always means few places left: at most a tenth, and at least one counts.
        near = [capacity - i for i, s in enumerate(states) if s == "near"]
        assert max(near) == max(1, -(-capacity // 10)) and min(near) == 1


@pytest.mark.parametrize("lang, words", [
    ("de", "Seite nicht gefunden"), ("nl", "Pagina niet gevonden"), ("en", "Page not found")])
def test_404_page_is_friendly_and_translated(client, lang, words):
    response = client.get(f"/no/such/page?lang={lang}")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert words in page and 'class="error-page"' in page and f'lang="{lang}"' in page


def test_api_errors_stay_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.is_json


def test_500_page_is_friendly(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken():
        raise RuntimeError("boom")

    app.add_url_rule("/broken-for-test", "broken", broken)
    response = app.test_client().get("/broken-for-test?lang=nl")
    assert response.status_code == 500
    assert "Er ging iets mis" in response.get_data(as_text=True)


def test_favicon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and b"<svg" in response.data
    assert 'rel="icon"' in client.get("/login").get_data(as_text=True)


def test_login_redirect_has_no_stray_question_mark(client):
    assert client.get("/devices").headers["Location"].endswith("/login?next=/devices")
    assert client.get("/devices?show=all").headers["Location"].endswith(
        "next=/devices?show%3Dall")


def test_wrong_password_keeps_the_username(client):
    response = client.post("/login", data={"username": "orga", "password": "wrong",
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 401
    assert re.search(r'id="username"[^>]*value="orga"', response.get_data(as_text=True))


def test_devices_list_hides_revoked_shows_event_time_and_asks_before_revoking(organiser, db):
    kept = add_device(db, "Door", "scanner", "entrance")
    gone = add_device(db, "Old tablet", "scanner", None)
    revoke(db, gone["id"])
    db.execute("UPDATE devices SET last_seen_at = '2019-11-12T08:05:00.000000+00:00' "
               "WHERE id = ?", [kept["id"]])
    db.conn.commit()
    page = organiser.get("/devices").get_data(as_text=True)
    assert "Door" in page and "Old tablet" not in page and "Show 1 revoked device" in page
    # The demo event is in Europe/Amsterdam: 08:05 UTC is 09:05 there; no "UTC" shown.
    assert "2019-11-12 09:05" in page and "UTC" not in page
    # Revoke is a question first (a <details>), the real button inside it.
    assert re.search(r'<details class="confirm">\s*<summary class="button danger">Revoke', page)
    assert "Yes, revoke" in page
    assert "Old tablet" in organiser.get("/devices?show=all").get_data(as_text=True)


def test_demo_emails_transliterate_umlauts():
    assert ascii_slug("Lüder.Ahlers") == "lueder.ahlers"
    assert ascii_slug("Jörg.Weiß") == "joerg.weiss"
    emails = re.findall(r";([^;]+@example\.(?:de|nl));", participants_csv())
    assert emails and all(e.isascii() for e in emails)
    assert not any(re.match(r"l(d|ü)er\.", e) for e in emails)  # no "lder." from "Lüder."


def test_the_arrivals_chart_shows_one_day(db):
    """Arrivals on two days (a rehearsal today on the event's database): the axis covers the
    event's day; the others are counted apart, never stretching it."""
    import uuid
    from datetime import UTC, datetime, timedelta

    from checkin.core.clock import now_iso
    from checkin.live.stats import arrivals_timeline
    from checkin.scans import organiser_actor, record_scans

    codes = [r[0] for r in db.execute("SELECT code FROM participants ORDER BY id LIMIT 6")]
    day = datetime(2019, 11, 12, 8, 0, tzinfo=UTC)  # the demo's day, 09:00 in Groningen
    now = datetime.now(UTC).replace(microsecond=0)
    moments = [now - timedelta(hours=2), now - timedelta(hours=1)] + \
        [day + timedelta(minutes=20 * n) for n in range(4)]
    items = [{"id": str(uuid.uuid4()), "code": c, "checkpoint": "entrance", "direction": "in",
              "at": now_iso(m)} for c, m in zip(codes, moments, strict=True)]
    record_scans(db, organiser_actor("orga"), items)
    timeline = arrivals_timeline(db)
    starts = [datetime.fromisoformat(b["start"]) for b in timeline["buckets"]]
    assert max(starts) - min(starts) < timedelta(hours=2), timeline
    assert timeline["total"] == 4 and timeline["buckets"][-1]["total"] == 4
    assert timeline["outside_day"] == 2
    assert timeline["bucket_minutes"] == 15


def test_event_names_in_three_languages_parse_and_plain_text_still_works():
    from checkin.core.event import EventFileError, parse_event

    base = ('[event]\nname = "E"\ndate = 2019-11-12\nvenue = "Hall"\nhost_city = "X"\n'
            'languages = ["de", "nl", "en"]\ntimezone = "Europe/Amsterdam"\n')
    event = parse_event(base + '[[rooms]]\nid = "a"\nname = "Room A"\n'
                        '[[rooms]]\nid = "b"\nname = {de = "Raum B", nl = "Zaal B"}\n'
                        '[[excursions]]\nid = "x"\ntitle.de = "Hafen"\ntitle.en = "Harbour"\n')
    assert [r["name"] for r in event.rooms] == ["Room A", "Raum B"]  # no English: first lang
    assert event.excursions[0]["title"] == "Harbour"  # English is the plain text when given
    assert event.texts == {"room": {"b": {"de": "Raum B", "nl": "Zaal B"}},
                           "excursion": {"x": {"de": "Hafen", "en": "Harbour"}}}
    with pytest.raises(EventFileError) as bad:
        parse_event(base + '[[rooms]]\nid = "a"\nname = {fr = "Salle", de = ""}\n')
    assert "unknown language(s) fr" in str(bad.value)


def test_pages_show_event_names_in_the_viewers_language(organiser):
    overview = organiser.get("/overview?lang=de").get_data(as_text=True)
    assert "Obdachlosigkeit in Groningen" in overview and "Radtour Groningen" in overview
    assert "Homelessness in Groningen" not in overview
    assert "Homelessness in Groningen" in organiser.get("/overview?lang=en").get_data(
        as_text=True)
    assert "Dakloosheid in Groningen" in organiser.get("/reports/summary?lang=nl").get_data(
        as_text=True)
    # Device pages fetch the names in their language (a device token or an organiser).
    for lang, text in (("nl", "Raadzaal (plenair)"), ("de", "Fahrradparkplatz Grote Markt")):
        names = organiser.get(f"/api/v1/event-names?lang={lang}").get_json()
        assert text in json.dumps(names, ensure_ascii=False)
    anonymous = organiser.application.test_client().get("/api/v1/event-names")
    assert anonymous.status_code == 401 and anonymous.is_json
    # The page shells themselves carry none of the event's names.
    assert "Raadzaal" not in organiser.application.test_client().get("/dashboard").get_data(
        as_text=True)


def test_badges_speak_the_wearers_language(db):
    from checkin.badges import people

    rows = {r["id"]: r for r in people(db)}
    on_tour = db.execute("SELECT id, language FROM participants WHERE excursion = "
                         "'homelessness'").fetchall()
    by_lang = {lang: rows[pid]["excursion_title"] for pid, lang in on_tour}
    assert by_lang.get("de") == "Obdachlosigkeit in Groningen"
    assert by_lang.get("nl") == "Dakloosheid in Groningen"
    assert by_lang.get("en", "Homelessness in Groningen") == "Homelessness in Groningen"
