"""The demo event: the 2019 Groningen–Bremen–Oldenburg meeting with 60 fictional people."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

from sqlite_utils import Database

from checkin.core.event import apply_event, parse_event
from checkin.participants.csvfile import import_file
from checkin.participants.records import COLUMNS
from checkin.security.erase import mark_fictional

EVENT_TOML = """\
# The event file: copy it as a template for your own meeting.
# Names, titles and places may be one text, or one per language: title.de = "…" (and .nl,
# .en) on their own lines, or title = {de = "…", nl = "…", en = "…"} on one.
[event]
name = "Expertentreffen Groningen–Bremen–Oldenburg 2019"
date = 2019-11-12
venue = "Stadhuis Groningen"
host_city = "Groningen"
languages = ["de", "nl", "en"]
timezone = "Europe/Amsterdam"

[[rooms]]
id = "raadzaal"
name.de = "Ratssaal (Plenum)"
name.nl = "Raadzaal (plenair)"
name.en = "Raadzaal (Plenum)"
capacity = 80

[[rooms]]
id = "kamer-a"
name = "Kamer A"
capacity = 14

[[rooms]]
id = "kamer-b"
name = "Kamer B"
capacity = 14

[[rooms]]
id = "kamer-c"
name = "Kamer C"
capacity = 12

[[rooms]]
id = "kamer-d"
name = "Kamer D"
capacity = 12

[[rooms]]
id = "kamer-e"
name = "Kamer E"
capacity = 10

[[rooms]]
id = "kamer-f"
name = "Kamer F"
capacity = 8

[[working_groups]]
id = "bibliotheken"
area = "Stadt & Quartier"
title = "Bibliotheken: von traditionellen zu neuen Funktionen"
room = "kamer-a"
start = "10:30"
end = "12:30"

[[working_groups]]
id = "obdachlosigkeit"
area = "Stadt & Quartier"
title = "Obdachlosigkeit: Notversorgung, Arbeits- und Wohnperspektiven, Sucht"
room = "kamer-b"
start = "10:30"
end = "12:30"

[[working_groups]]
id = "online-dienste"
area = "Digitalisierung"
title = "Online-Dienste der Stadtverwaltung"
room = "kamer-c"
start = "10:30"
end = "12:30"

[[working_groups]]
id = "digitale-kompetenzen"
area = "Digitalisierung"
title = "Digitale Kompetenzen für (erwachsene) Bürgerinnen und Bürger"
room = "kamer-d"
start = "10:30"
end = "12:30"

[[working_groups]]
id = "wasserstoff"
area = "Mobilität"
title = "Wasserstoff und Mobilität"
room = "kamer-e"
start = "10:30"
end = "12:30"

[[working_groups]]
id = "abfall"
area = "Nachhaltigkeit"
title = "Abfallmanagement: Waste Hub, Kreislaufwirtschaft, Wertschöpfungsketten"
room = "kamer-f"
start = "10:30"
end = "12:30"

[[excursions]]
id = "homelessness"
title.de = "Obdachlosigkeit in Groningen"
title.nl = "Dakloosheid in Groningen"
title.en = "Homelessness in Groningen"
departure_place.de = "Grote Markt, Haupteingang des Stadhuis"
departure_place.nl = "Grote Markt, hoofdingang van het Stadhuis"
departure_place.en = "Grote Markt, main entrance of the Stadhuis"
departure = "14:00"
return = "16:30"
capacity = 10
guide = "Anouk Bijlsma"

[[excursions]]
id = "future-working"
title = "Future Working Space"
departure_place.de = "Stadhuis, Seiteneingang Waagstraat"
departure_place.nl = "Stadhuis, zij-ingang Waagstraat"
departure_place.en = "Stadhuis, side entrance Waagstraat"
departure = "14:00"
return = "16:00"
capacity = 10
guide = "Pieter de Groot"

[[excursions]]
id = "digital-castle"
title = "Digital Castle"
departure_place.de = "Stadhuis, Seiteneingang Waagstraat"
departure_place.nl = "Stadhuis, zij-ingang Waagstraat"
departure_place.en = "Stadhuis, side entrance Waagstraat"
departure = "14:15"
return = "16:15"
capacity = 10
guide = "Femke Dijkstra"

[[excursions]]
id = "bike-tour"
title.de = "Radtour Groningen"
title.nl = "Fietstocht Groningen"
title.en = "Bike Tour Groningen"
departure_place.de = "Fahrradparkplatz Grote Markt"
departure_place.nl = "Fietsenstalling Grote Markt"
departure_place.en = "Bicycle park Grote Markt"
departure = "14:00"
return = "17:00"
capacity = 12
guide = "Jan-Willem van der Veen"

[[excursions]]
id = "avebe"
title = "Avebe Centre Groningen"
departure_place.de = "Bushaltestelle Grote Markt"
departure_place.nl = "Bushalte Grote Markt"
departure_place.en = "Bus stop Grote Markt"
departure = "13:45"
return = "16:45"
capacity = 10
guide = "Sanne Hoekstra"

[[excursions]]
id = "forum"
title = "Groninger Forum"
departure_place.de = "Grote Markt, Haupteingang des Stadhuis"
departure_place.nl = "Grote Markt, hoofdingang van het Stadhuis"
departure_place.en = "Grote Markt, main entrance of the Stadhuis"
departure = "14:30"
return = "16:00"
capacity = 12
guide = "Maarten Meijer"

# Roll call: where people gather when the building is evacuated, and whether marshals'
# phones may start a roll call themselves (default: only organisers).
[rollcall]
marshals_may_start = true

[[assembly_points]]
id = "grote-markt"
name = "Grote Markt, in front of the Stadhuis"
titles = { de = "Grote Markt, vor dem Stadhuis", nl = "Grote Markt, voor het Stadhuis" }

[[assembly_points]]
id = "vismarkt"
name = "Vismarkt, by the Korenbeurs"
titles = { de = "Vismarkt, an der Korenbeurs", nl = "Vismarkt, bij de Korenbeurs" }
"""

# Fictional people: every name here is invented.
FIRST_NL = ["Anouk", "Bram", "Femke", "Sanne", "Joost", "Lieke", "Pieter", "Maaike", "Ruud",
            "Ineke", "Thijs", "Marloes", "Sjoerd", "Eline", "Wouter", "Geertje", "Hilde",
            "Roel", "Noor", "Jelle", "Renée", "Daan"]
LAST_NL = ["de Vries", "van der Veen", "Bijl", "Dijkstra", "Meijer", "Hoekstra",
           "van 't Hof", "Zijlstra", "de Jong", "Bosma", "Kuipers", "van den Berg", "Wijnja",
           "Postma", "ter Horst", "Smit", "Huizinga", "IJzerman", "Mulder", "de Boer",
           "Veenstra", "Schuurman"]
FIRST_DE = ["Jürgen", "Sabine", "Björn", "Käthe", "Jörg", "Anneliese", "Hans-Peter", "Ulrike",
            "Maximilian", "Sönke", "Gesine", "Frauke", "Lüder", "Hannelore", "Malte", "Inga",
            "Tjark", "Merle", "Ole", "Heike", "Andrés", "Zoë"]
LAST_DE = ["Müller", "Schröder", "Weiß", "Groß-Bölting", "Kühn", "Jäger", "Meyer", "Döring",
           "Brüggemann", "Oltmanns", "Fröhlich", "Janßen", "Hüsing", "Wübbena", "Ahlers",
           "Strauß", "Büsing", "Köhler", "Gerdes", "Lührs", "O'Brien", "von Hammerstein"]
ORGANISATIONS = {
    "Groningen": [("Gemeente Groningen", "administration"),
                  ("Rijksuniversiteit Groningen", "university"),
                  ("Hanzehogeschool Groningen", "university"),
                  ("Biblionet Groningen", "institution"), ("Stichting Het Kopland", "other"),
                  ("Groningen Seaports", "company"), ("Groninger Forum", "institution")],
    "Bremen": [("Freie Hansestadt Bremen, Senatorin für Bau", "administration"),
               ("Universität Bremen", "university"), ("Stadtbibliothek Bremen", "institution"),
               ("swb AG", "company"), ("Innere Mission Bremen e. V.", "other"),
               ("Die Bremer Stadtreinigung", "administration")],
    "Oldenburg": [("Stadt Oldenburg", "administration"),
                  ("Carl von Ossietzky Universität Oldenburg", "university"),
                  ("Jade Hochschule", "university"), ("EWE AG", "company"),
                  ("Stadtbibliothek Oldenburg", "institution"),
                  ("Diakonie im Oldenburger Land", "other")],
}
GROUPS = ["bibliotheken", "obdachlosigkeit", "online-dienste", "digitale-kompetenzen",
          "wasserstoff", "abfall"]
EXCURSIONS = ["homelessness", "future-working", "digital-castle", "bike-tour", "avebe", "forum"]


# German letters as Germans write them without the letter (ü -> ue), not dropped.
TRANSLITERATION = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae",
                                 "Ö": "Oe", "Ü": "Ue", "ĳ": "ij", "Ĳ": "IJ"})


def ascii_slug(text: str) -> str:
    """Return `text` as a lower-case e-mail local part: umlauts written out, accents dropped."""
    import unicodedata

    plain = unicodedata.normalize("NFKD", text.translate(TRANSLITERATION))
    plain = plain.encode("ascii", "ignore").decode("ascii").lower()
    return "".join(ch for ch in plain if ch.isalnum() or ch == ".")


def participants_csv(count: int = 60, seed: int = 2019) -> str:
    """Return the demo participants as a semicolon CSV, as German Excel saves it."""
    rng = random.Random(seed)
    cities = ["Groningen"] * 24 + ["Bremen"] * 18 + ["Oldenburg"] * 18
    used: set[tuple[str, str]] = set()
    rows = []
    for n in range(count):
        city = cities[n % len(cities)]
        dutch = city == "Groningen"
        while True:
            first = rng.choice(FIRST_NL if dutch else FIRST_DE)
            last = rng.choice(LAST_NL if dutch else LAST_DE)
            if (first, last) not in used:
                used.add((first, last))
                break
        # Cover all five organisation types in every delegation, then pick at random.
        orgs = ORGANISATIONS[city]
        org, kind = orgs[n % len(orgs)] if n < 21 else rng.choice(orgs)
        slug = ascii_slug(f"{first}.{last}")
        domain = "example.nl" if dutch else "example.de"
        role = "organiser" if n in (0, 1, 2) else "speaker" if n in (3, 10, 25, 40) else \
            "participant"
        rows.append({
            "first_name": first, "last_name": last, "organisation": org,
            "organisation_type": kind, "city": city, "email": f"{slug}.{n + 1}@{domain}",
            "language": "nl" if dutch else "de" if n % 7 else "en",
            "working_group": GROUPS[n % len(GROUPS)],
            "excursion": "" if n % 15 == 14 else EXCURSIONS[(n * 5 + n // 6) % len(EXCURSIONS)],
            "role": role,
            # Fictional numbers from the ranges kept for drama and examples (555).
            "phone": f"+31 50 555 {n + 1:04d}" if dutch else f"+49 421 555 {n + 1:04d}",
        })
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS), delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def create_demo(db: Database, folder: Path) -> dict[str, int]:
    """Write the demo event file and participants CSV into `folder` and load both into `db`."""
    folder.mkdir(parents=True, exist_ok=True)
    event_path = folder / "demo-event.toml"
    csv_path = folder / "demo-participants.csv"
    event_path.write_text(EVENT_TOML, encoding="utf-8")
    people = participants_csv()
    csv_path.write_bytes(people.encode("utf-8-sig"))
    apply_event(db, parse_event(EVENT_TOML))
    result = import_file(db, csv_path.read_bytes())
    if result["problems"]:
        raise RuntimeError("demo participants do not import: " + "; ".join(result["problems"]))
    # Its people are invented: a demo dated 2019 must not ask a new user to purge them (who
    # adds real people, by import or at the desk, is reminded as for any event).
    emails = [row["email"].lower() for row in csv.DictReader(io.StringIO(people), delimiter=";")]
    mark_fictional(db, [r[0] for r in db.execute(
        "SELECT id FROM participants WHERE lower(email) IN (SELECT value FROM json_each(?))",
        [json.dumps(emails)])])
    return {**{k: result[k] for k in ("created", "updated", "unchanged")},
            "day_wins": result.get("day_wins", [])}
