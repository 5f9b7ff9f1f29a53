"""German, Dutch and English: every UI string translated, compiled, and chosen right."""

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from checkin.core.paths import TRANSLATIONS
from tests.conftest import ROOT

METHOD_MAP = [("checkin/**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
            "N_": None}


def source_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), METHOD_MAP, keywords=KEYWORDS,
            options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}}):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("lang", ["de", "nl"])
def test_every_string_is_translated(lang):
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    messages = source_messages()
    assert len(messages) > 20
    untranslated = sorted(
        m for m in messages
        if not (entry := catalog.get(m)) or not entry.string or entry.fuzzy
        or (isinstance(entry.string, tuple) and not all(entry.string)))
    assert untranslated == [], f"run scripts/translations and translate: {untranslated[:20]}"


@pytest.mark.parametrize("lang", ["de", "nl"])
def test_compiled_catalogues_match_the_sources(lang):
    folder = TRANSLATIONS / lang / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as f:
        po = {m.id: m.string for m in read_po(f) if m.id and not m.fuzzy}
    with (folder / "messages.mo").open("rb") as f:
        # read_mo gives plural ids and strings as lists, read_po as tuples
        mo = {tuple(m.id) if isinstance(m.id, list) else m.id:
              tuple(m.string) if isinstance(m.string, list) else m.string
              for m in read_mo(f) if m.id}
    assert mo == po, "run scripts/translations compile"


@pytest.mark.parametrize("lang, word", [("de", "Anmelden"), ("nl", "Inloggen"),
                                        ("en", "Sign in")])
def test_language_is_chosen_by_query_and_remembered(client, lang, word):
    html = client.get(f"/login?lang={lang}").get_data(as_text=True)
    assert f'<html lang="{lang}">' in html and word in html
    assert word in client.get("/login").get_data(as_text=True)


def test_language_follows_the_browser(client):
    html = client.get("/login", headers={"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"}
                      ).get_data(as_text=True)
    assert '<html lang="nl">' in html and "Inloggen" in html
    html = client.get("/login", headers={"Accept-Language": "fr-FR"}).get_data(as_text=True)
    assert '<html lang="en">' in html
