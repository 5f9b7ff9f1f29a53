"""Event content in several languages: titles, places and room names may be given in the
event file as {de = "…", nl = "…", en = "…"} (a plain string still works).

The database keeps one plain text per name as before (English when given, so every
existing reader keeps working); the other languages are kept beside it in the `meta` table.
Every reader asks `localized()` for its reader's language: pages the viewer's, mails and
badges the participant's, lists and the summary the chosen one. The fallback order is the
asked language, then the plain text (English when the event file gives it, else the first of
the event's languages the value has). Machine-readable exports keep the plain text.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from checkin.core.db import get_meta, set_meta
from checkin.core.errors import Text, say

LANGUAGES = ("de", "nl", "en")
META_KEY = "event_texts"

# Which event-file fields may be multilingual, as (file section, field, kind stored under).
FIELDS = (("rooms", "name", "room"), ("working_groups", "title", "working_group"),
          ("excursions", "title", "excursion"),
          ("excursions", "departure_place", "departure_place"))


def split_text(value: Any, languages: list[str],
               where: str = "") -> tuple[str | None, dict[str, str], Text | None]:
    """Return (plain text, translations, problem) for a plain or multilingual value.

    The plain text (what exports, the command line and older readers show) is the English
    one when given, else the first of the event's languages the value has; `problem` says
    why a multilingual value is not usable (unknown language, empty text), naming it `where`.
    """
    if isinstance(value, str) or value is None:
        return value, {}, None
    if not isinstance(value, dict) or not value:
        return None, {}, say("event.text.not_table", where=where)
    unknown = sorted(set(value) - set(LANGUAGES))
    if unknown:
        return None, {}, say("event.text.language", where=where, languages=", ".join(unknown))
    texts = {k: v.strip() for k, v in value.items() if isinstance(v, str) and v.strip()}
    if len(texts) != len(value):
        return None, {}, say("event.text.empty", where=where)
    order = ["en", *languages, *LANGUAGES]
    plain = next(texts[lang] for lang in order if lang in texts)
    return plain, texts, None


def normalise_event_data(data: dict[str, Any], languages: list[str],
                         problems: list[Text]) -> dict[str, dict[str, dict[str, str]]]:
    """Replace multilingual values in parsed event data by their plain text (in place) and
    return the translations as {kind: {id: {lang: text}}}; problems are appended."""
    texts: dict[str, dict[str, dict[str, str]]] = {}
    venue = data.get("event", {}).get("venue") if isinstance(data.get("event"), dict) else None
    plain, found, problem = split_text(venue, languages, "[event] venue")
    if problem:
        problems.append(problem)
    elif found:
        data["event"]["venue"] = plain
        texts.setdefault("venue", {})["entrance"] = found
    for section, key, kind in FIELDS:
        items = data.get(section)
        if not isinstance(items, list):
            continue
        for n, item in enumerate(items, 1):
            if not isinstance(item, dict) or key not in item:
                continue
            plain, found, problem = split_text(item[key], languages, f"{section} #{n}: {key}")
            if problem:
                problems.append(problem)
                item[key] = ""
            elif found:
                item[key] = plain
                texts.setdefault(kind, {})[str(item.get("id"))] = found
    return texts


def store(db: Database, texts: dict[str, Any]) -> None:
    """Keep the event's translations (call inside the event's write transaction)."""
    set_meta(db, META_KEY, json.dumps(texts, ensure_ascii=False))


def all_texts(db: Database) -> dict[str, dict[str, dict[str, str]]]:
    """Return every kept translation as {kind: {id: {lang: text}}}."""
    raw = get_meta(db, META_KEY)
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        return {}


def localized(texts: dict[str, Any], kind: str, ident: str | None, lang: str | None,
              fallback: str | None) -> str | None:
    """Return the text of `kind` `ident` in `lang`, else `fallback` (the plain text)."""
    if ident is None:
        return fallback
    return texts.get(kind, {}).get(str(ident), {}).get(lang) or fallback


def venue_in(texts: dict[str, Any], lang: str | None, plain: str | None) -> str | None:
    """Return the event's venue in `lang` (a multilingual venue is kept as the entrance's)."""
    return localized(texts, "venue", "entrance", lang, plain)


def event_in(info: dict[str, Any], texts: dict[str, Any], lang: str | None) -> dict[str, Any]:
    """Return a copy of the event's info (event_info) with its venue in `lang`."""
    return {**info, "venue": venue_in(texts, lang, info.get("venue"))}


def checkpoint_names(db: Database, lang: str) -> dict[str, str]:
    """Return every checkpoint's name in `lang` (by checkpoint id), for pages and scripts."""
    texts = all_texts(db)
    out = {}
    for cp_id, kind, name, ref in db.execute("SELECT id, kind, name, ref FROM checkpoints"):
        source = {"entrance": ("venue", "entrance"), "room": ("room", ref),
                  "excursion": ("excursion", ref),
                  "assembly": ("assembly", ref)}.get(kind, ("", None))
        out[cp_id] = localized(texts, source[0], source[1], lang, name) or name
    return out
