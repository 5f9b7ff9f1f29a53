"""Column names and values as organisers write them (German, Dutch, English) -> our fields.

A participants file is a header and rows of text. This module decides which column is
which field (recognised names, or the organiser's own assignment), splits a single
"Name" column into title, first and last name, turns the values people type
("Deutsch", "Gemeente", a working group's title) into the stored ones, and fills stated
defaults for optional columns the file lacks. It guesses nothing: a column it cannot place
is reported and not imported until the organiser assigns it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlite_utils import Database

from checkin.core.errors import DomainError, Text, say
from checkin.core.errors import field_label as labelled
from checkin.core.event import other_titles
from checkin.participants.records import COLUMNS

IGNORE = "ignore"
NAME = "name"  # a whole name in one cell, split into title, first and last name
# Fields a column can give: the stored columns, a whole name, and the badge code (only read
# back from our own export, never imported).
FIELDS = (*COLUMNS, NAME, "code")


def key(text: str) -> str:
    """Reduce a column name or value to letters and digits: no case, accents or punctuation."""
    decomposed = unicodedata.normalize("NFKD", text or "").replace("ß", "ss")
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch)
                   ).casefold()


# Recognised column names (compared as key()s). Ambiguous words such as "Funktion" or
# "Dienststelle" are deliberately absent: they mean different things in different lists.
COLUMN_NAMES = {
    "first_name": ("first_name", "firstname", "first", "given name", "forename", "Vorname",
                   "Rufname", "Voornaam", "Roepnaam"),
    "last_name": ("last_name", "lastname", "last", "Last name", "Surname", "family name",
                  "Nachname", "Familienname", "Zuname", "Achternaam", "Familienaam"),
    NAME: ("Name", "full name", "Vollständiger Name", "Naam", "Volledige naam",
           "Teilnehmer", "Teilnehmerin", "Teilnehmer/in", "Deelnemer"),
    "title": ("title", "Titel", "akademischer Titel", "academic title", "Academische titel"),
    "email": ("email", "e-mail", "mail", "email address", "E-Mail-Adresse", "Mailadresse",
              "E-mailadres", "Emailadres", "Mailadres"),
    "organisation": ("organisation", "organization", "Organisatie", "Institution", "Institut",
                     "Einrichtung", "Firma", "Unternehmen", "Company", "Instelling",
                     "Bedrijf", "Arbeitgeber", "Werkgever", "Organisation / Firma"),
    "organisation_type": ("organisation_type", "organization_type", "organisation type",
                          "Organisationstyp", "Organisationsart", "Art der Organisation",
                          "Type organisatie", "Organisatietype", "Soort organisatie"),
    "city": ("city", "Stadt", "Ort", "Stad", "Plaats", "Woonplaats", "Delegation",
             "Delegatie"),
    "language": ("language", "lang", "Sprache", "Taal", "Korrespondenzsprache", "Voertaal"),
    "working_group": ("working_group", "workinggroup", "group", "working group", "Arbeitsgruppe",
                      "AG", "Arbeitskreis", "Werkgroep", "Workshop"),
    "excursion": ("excursion", "Exkursion", "Excursie", "Tour", "field trip"),
    "role": ("role", "Rolle", "Rol"),
    "phone": ("phone", "Telefon", "Telefoon", "Tel.", "phone number", "Telefonnummer",
              "Telefoonnummer", "Mobil", "Mobiel", "Handy", "mobile", "Mobilnummer",
              "Mobiel nummer"),
    "code": ("code", "Badge code"),
}
ALIASES = {key(name): target for target, names in COLUMN_NAMES.items() for name in names}

# Values as typed in the three languages -> stored values (compared as key()s).
_VALUES = {
    "language": {
        "de": ("de", "deu", "ger", "de-DE", "Deutsch", "German", "Duits", "Allemand"),
        "nl": ("nl", "nld", "dut", "nl-NL", "Niederländisch", "Holländisch", "Dutch",
               "Nederlands", "Néerlandais"),
        "en": ("en", "eng", "en-GB", "en-US", "Englisch", "English", "Engels", "Anglais"),
    },
    "organisation_type": {
        "administration": ("administration", "Verwaltung", "Stadtverwaltung", "Behörde",
                           "Kommune", "öffentliche Verwaltung", "Overheid", "Gemeente",
                           "Bestuur", "public administration", "government"),
        "university": ("university", "Universität", "Hochschule", "Fachhochschule", "Uni",
                       "Universiteit", "Hogeschool", "higher education"),
        "institution": ("institution", "Einrichtung", "Institut", "Instelling", "Instituut",
                        "Institutie", "Verein", "Stiftung", "Stichting", "Vereniging"),
        "company": ("company", "Unternehmen", "Firma", "Betrieb", "Bedrijf", "Onderneming",
                    "business"),
        "other": ("other", "Sonstige", "Sonstiges", "Andere", "Anders", "Overig", "Overige"),
    },
    "role": {
        "participant": ("participant", "Teilnehmer", "Teilnehmerin", "Teilnehmer/in",
                        "Teilnehmende", "Deelnemer", "attendee"),
        "speaker": ("speaker", "Referent", "Referentin", "Referent/in", "Sprecher",
                    "Sprecherin", "Vortragende", "Spreker"),
        "organiser": ("organiser", "organizer", "Organisator", "Organisatorin", "Orga",
                      "Organisationsteam", "Organisatieteam", "Organisatie"),
        "guide": ("guide", "Gids", "Exkursionsleitung", "Exkursionsleiter", "Begleitung",
                  "Reiseleitung", "Begeleider"),
    },
}
VALUE_ALIASES = {column: {key(v): stored for stored, vs in table.items() for v in vs}
                 for column, table in _VALUES.items()}

# Stated defaults for optional columns a file does not have (language: the event's first).
DEFAULTS = {"organisation_type": "other", "role": "participant"}

# Academic and professional titles written before a name. Those that could also be a name
# or a word ("Em", "Ma") count only with their dot.
TITLES = {key(t) for t in (
    "Dr", "Prof", "Professor", "Professorin", "Dipl-Ing", "Dr-Ing", "Dipl", "Dipl-Kfm",
    "Dipl-Kffr", "Ing", "Ir", "Drs", "Mr", "Mrs", "Ms", "Dr.h.c", "PhD", "MSc", "BSc", "MBA",
    "LLM")}
DOTTED_TITLES = {key(t) for t in (
    "PD", "Mag", "rer", "nat", "phil", "med", "jur", "oec", "pol", "habil", "mult", "em",
    "apl", "hon", "h.c", "Ds", "Bc", "MA", "BA", "Dipl.-Verw.-Wiss")}
# Name particles that belong to the last name ("van der Veen", "von Hammerstein", "ter Haar").
PARTICLES = {"van", "von", "vom", "zu", "zum", "zur", "der", "den", "de", "del", "della",
             "di", "da", "du", "des", "la", "le", "ter", "ten", "te", "het", "'t", "’t",
             "in", "op", "uit", "van't", "d'", "dos", "das", "do", "af", "av"}


class MapError(DomainError, ValueError):
    """A `--map COLUMN=FIELD` that cannot be used: a catalogue entry (checkin.core.errors)."""


def field_label(name: str) -> str:
    """The field's name as the pages and the command line show it."""
    return {NAME: _("whole name (split)"), IGNORE: _("ignore"),
            "code": _("code (not imported)")}.get(name, name)


@dataclass
class Mapping:
    """Which field each column of a file gives, and what the file leaves to defaults."""

    columns: list[str]  # the header cells as written
    fields: list[str]  # per column: a field, IGNORE, or "" (not placed)
    assigned: list[bool]  # per column: set by the organiser rather than recognised
    defaults: dict[str, str] = field(default_factory=dict)
    problems: list[Text | str] = field(default_factory=list)

    @property
    def unplaced(self) -> list[str]:
        """Columns neither recognised nor assigned: shown, and not imported."""
        return [c for c, f in zip(self.columns, self.fields, strict=True) if not f]

    def rows(self) -> list[dict[str, Any]]:
        """The mapping as a list of {column, field, how} for pages and reports."""
        out = []
        for column, target, own in zip(self.columns, self.fields, self.assigned, strict=True):
            how = "assigned" if own else ("recognised" if target else "unplaced")
            out.append({"column": column, "field": target, "how": how})
        return out


def parse_overrides(items: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Parse `--map "Column=field"` items into {column: field}; raise ValueError if malformed."""
    out: dict[str, str] = {}
    for item in items:
        column, sep, target = item.rpartition("=")
        target = target.strip().lower().replace(" ", "_").replace("-", "_")
        if not sep or not column.strip():
            raise MapError("map.syntax", item=repr(item))
        if target not in (*FIELDS, IGNORE):
            # The field names here are the ones typed after --map, so they are shown as such.
            raise MapError("map.unknown_field", field=repr(target),
                           fields=", ".join((*FIELDS, IGNORE)))
        out[column.strip()] = target
    return out


def build_mapping(header: list[str], overrides: dict[str, str] | None = None,
                  first_language: str = "en") -> Mapping:
    """Place each header cell: the organiser's assignment first, else a recognised name."""
    overrides = {key(k): v for k, v in (overrides or {}).items()}
    fields, assigned = [], []
    for cell in header:
        own = overrides.get(key(cell))
        fields.append(own if own is not None else ALIASES.get(key(cell), ""))
        assigned.append(own is not None)
    mapping = Mapping(list(header), fields, assigned)
    used = [f for f in fields if f and f != IGNORE]
    for target in sorted(set(used)):
        if used.count(target) > 1:
            cols = [c for c, f in zip(header, fields, strict=True) if f == target]
            mapping.problems.append(say(
                "mapping.same_field", columns=", ".join(map(repr, cols)),
                field=labelled(target)))
    has = set(used)
    if NAME in has and has & {"first_name", "last_name"}:
        mapping.problems.append(say("mapping.name_twice"))
    elif NAME not in has:
        for missing in ("first_name", "last_name"):
            if missing not in has:
                mapping.problems.append(say("mapping.no_column", field=labelled(missing),
                                            found=", ".join(header)))
    if "language" not in has:
        mapping.defaults["language"] = first_language
    for name, value in DEFAULTS.items():
        if name not in has:
            mapping.defaults[name] = value
    return mapping


def split_name(text: str) -> tuple[str, str, str]:
    """Split a whole name into (title, first name, last name), losing no character.

    "Dr. Jürgen Kröger" -> ("Dr.", "Jürgen", "Kröger"); "Kröger, Jürgen" and
    "van der Veen, Marijke" put the part before the comma last (and "Veen, Marijke van der"
    moves its particles back to it); Dutch and German particles
    start the last name ("Marijke van der Veen" -> last name "van der Veen").
    """
    text = " ".join(text.split())
    if "," in text:
        last, _sep, first = text.partition(",")
        title, first = _take_titles(first.strip())
        words = first.split(" ")
        # Dutch lists write "Veen, Marijke van der": the particles go back to the last name.
        cut = len(words)
        while cut > 1 and words[cut - 1].casefold() in PARTICLES:
            cut -= 1
        return title, " ".join(words[:cut]), " ".join([*words[cut:], last.strip()]).strip()
    title, rest = _take_titles(text)
    words = rest.split(" ")
    if len(words) == 1:
        return title, "", rest
    start = len(words) - 1
    for i in range(1, len(words) - 1):
        if words[i].casefold() in PARTICLES:
            start = i
            break
    return title, " ".join(words[:start]), " ".join(words[start:])


def _take_titles(text: str) -> tuple[str, str]:
    """Take the titles off the front of a name: ("Prof. Dr.", "Jürgen Kröger")."""
    words = text.split(" ") if text else []
    n = 0
    # At least one word stays a name, so a cell holding only "Dr." is not all title.
    while n < len(words) - 1 and (key(words[n]) in TITLES or (
            words[n].endswith(".") and key(words[n]) in DOTTED_TITLES)):
        n += 1
    return " ".join(words[:n]), " ".join(words[n:])


class Values:
    """Turns typed values into stored ones, knowing the event's groups and excursions."""

    def __init__(self, db: Database, first_language: str = "en"):
        self.first_language = first_language
        translated = other_titles(db)
        self.lookup: dict[str, dict[str, str]] = {
            col: dict(table) for col, table in VALUE_ALIASES.items()}
        for column, table in (("working_group", "working_groups"), ("excursion", "excursions")):
            found: dict[str, str] = {}
            rows = db.execute(f"SELECT id, title FROM {table}").fetchall()  # noqa: S608
            for ident, title in rows:
                found[key(title)] = ident
            for ident, by_language in translated.get(column, {}).items():
                for title in by_language.values():
                    found.setdefault(key(title), ident)
            for ident, _title in rows:
                found[key(ident)] = ident  # an id wins over a title that reads the same
            self.lookup[column] = found

    def stored(self, column: str, value: str) -> str:
        """The stored value for `value` in `column`; unknown values come back unchanged
        (the row check then reports them)."""
        table = self.lookup.get(column)
        if not table or not value.strip():
            return value
        return table.get(key(value), value)


def apply_mapping(mapping: Mapping, values: Values,
                  rows: list[tuple[int, list[str]]]) -> list[tuple[int, dict[str, str]]]:
    """Turn raw rows into (line, field -> text) rows ready for the row check."""
    out = []
    for line, cells in rows:
        row: dict[str, str] = dict(mapping.defaults)
        for target, cell in zip(mapping.fields, cells, strict=False):
            if not target or target in (IGNORE, "code"):
                continue
            if target == NAME:
                title, first, last = split_name(cell)
                row.update(title=title, first_name=first, last_name=last)
            else:
                row[target] = values.stored(target, cell.strip())
        if not row.get("language"):
            # An empty language cell gets the event's first language, like a missing column.
            row["language"] = values.first_language
        out.append((line, row))
    return out
