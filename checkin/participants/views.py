"""Organiser pages for participants: the list, one person, upload, badges, export."""

from __future__ import annotations

import io
from collections.abc import Callable
from math import ceil
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlite_utils import Database

from checkin.auth import current_organiser, organiser_required
from checkin.core.codes import reissue as reissue_code
from checkin.core.db import get_db, with_database
from checkin.core.errors import FIELDS, DomainError, field_label, say
from checkin.core.jobs import job_state
from checkin.core.plaintext import one_line
from checkin.core.pool import run_pooled
from checkin.http.jobs import job_answer, pooled_file, wants_job
from checkin.participants import upload as uploads
from checkin.participants.csvfile import CSVFileError, export_participants, import_file
from checkin.participants.records import (
    SHOWN_PROBLEMS,
    get_participant,
    search,
    search_count,
)
from checkin.participants.workbook import MAX_COLUMNS
from checkin.scans.people import in_language

PER_PAGE = 100
FILTERS = ("q", "city", "working_group", "excursion")
# How many pending uploads one session may hold (one per browser tab, roughly).
MAX_PENDING = 5
NO_STORE = {"Cache-Control": "no-store, private"}


def labels() -> dict[str, dict[str, str]]:
    """Translated words for the stored values of organisation type, role and language."""
    return {
        "organisation_type": {"administration": _("Administration"),
                              "university": _("University"), "institution": _("Institution"),
                              "company": _("Company"), "other": _("Other")},
        "role": {"participant": _("Participant"), "speaker": _("Speaker"),
                 "organiser": _("Organiser"), "guide": _("Guide")},
        "language": {"de": "Deutsch", "nl": "Nederlands", "en": "English"},
    }


def _filters() -> dict[str, str]:
    """The search text and filters from the query string, trimmed."""
    return {k: request.args.get(k, "").strip()[:200] for k in FILTERS}


def _choices(db: Database) -> dict[str, list[dict[str, Any]]]:
    """What the filter selects offer: cities in use, working groups, excursions."""
    return {
        "cities": [r[0] for r in db.execute(
            "SELECT DISTINCT city FROM participants WHERE city != '' ORDER BY city")],
        "working_groups": list(db.query(
            "SELECT id, area, title FROM working_groups ORDER BY area, title")),
        "excursions": list(db.query("SELECT id, title FROM excursions ORDER BY title")),
    }


def _matching(db: Database, filters: dict[str, str], limit: int = -1,
              offset: int = 0) -> list[dict[str, Any]]:
    """The participants the search and filters match (all, or one page of them)."""
    return search(db, filters["q"], city=filters["city"],
                  working_group=filters["working_group"], excursion=filters["excursion"],
                  limit=limit, offset=offset)


@organiser_required
def index() -> Any:
    """List participants: search by name or organisation, filter, page through."""
    db = get_db()
    filters = _filters()
    # Counted, then only the page read: the organisers' home page costs a page at 5,000
    # people, not the whole list, on the door's process.
    total = search_count(db, filters["q"], city=filters["city"],
                         working_group=filters["working_group"],
                         excursion=filters["excursion"])
    pages = max(1, ceil(total / PER_PAGE))
    try:
        page = min(max(1, int(request.args.get("page", "1"))), pages)
    except ValueError:
        page = 1
    active = {k: v for k, v in filters.items() if v}
    shown = in_language(db, _matching(db, filters, PER_PAGE, (page - 1) * PER_PAGE),
                        str(get_locale()))
    return render_template(
        "participants/index.html", people=shown,
        total=total, all_count=db["participants"].count, page=page, pages=pages,
        filters=filters, active=active, choices=_choices(db), labels=labels())


@organiser_required
def detail(participant_id: int) -> Any:
    """Show one participant with their QR code, badge preview and actions."""
    from checkin.badges import qr_svg

    db = get_db()
    person = get_participant(db, participant_id)
    if person is None:
        abort(404)
    in_language(db, [person], str(get_locale()))
    earlier = db.execute("SELECT count(*) FROM codes WHERE participant_id = ? "
                         "AND revoked_at IS NOT NULL", [participant_id]).fetchone()[0]
    # qr_svg builds the SVG from the code alone (our own alphabet), so it is safe markup.
    return render_template("participants/detail.html", person=person,
                           qr=Markup(qr_svg(person["code"])),  # noqa: S704
                           earlier_codes=earlier, labels=labels()), 200, NO_STORE


@organiser_required
def badge_png(participant_id: int) -> Any:
    """Serve one participant's badge as a PNG image (the preview on their page)."""
    from checkin.badges import badge_png as render_png

    db = get_db()
    if get_participant(db, participant_id) is None:
        abort(404)
    return Response(render_png(db, participant_id), mimetype="image/png", headers=NO_STORE)


def _pdf_response(ids: list[int] | None, filename: str) -> Response:
    """Render badges for `ids` (None: everyone) as a PDF, in the page size the query asks
    for (?size=a6; unknown sizes get the A4 sheet): `GET` downloads it, `POST` starts a job."""
    from checkin.badges import DEFAULT_SIZE, SIZES, badges_file

    size = request.args.get("size", DEFAULT_SIZE)
    # Seconds of CPU for a thousand badges: in a pool worker, or every scan would wait (a
    # thread would still share the interpreter lock with the event loop).
    return pooled_file(badges_file, (current_app.config["DATABASE"], ids,
                                     size if size in SIZES else DEFAULT_SIZE),
                       filename, "application/pdf",
                       headers=lambda count: {"X-Badge-Count": str(count)})


@organiser_required
def badge_pdf(participant_id: int) -> Any:
    """Download one participant's badge as a print-ready PDF."""
    if get_participant(get_db(), participant_id) is None:
        abort(404)
    return _pdf_response([participant_id], f"badge-{participant_id}.pdf")


@organiser_required
def badges_pdf() -> Any:
    """Download the badges of everyone, or of those the current search and filters match."""
    filters = _filters()
    if not any(filters.values()):
        if not get_db()["participants"].count:
            flash(_("There are no participants yet, so there are no badges to print."))
            return redirect(url_for("participants.index"))
        return _pdf_response(None, "badges.pdf")
    ids = [p["id"] for p in _matching(get_db(), filters)]
    if not ids:
        flash(_("No participant matches the search, so there are no badges to print."))
        return redirect(url_for("participants.index", **{k: v for k, v in filters.items() if v}))
    return _pdf_response(ids, "badges-selection.pdf")


def _export_csv(db: Database) -> bytes:
    """Return every participant as the CSV `checkin export participants` writes."""
    out = io.StringIO()
    export_participants(db, out)
    # With a BOM, as `checkin export` writes it, so that Excel reads the umlauts right.
    return out.getvalue().encode("utf-8-sig")


@organiser_required
def export_csv() -> Any:
    """Download every participant in the import's columns plus their code, like the CLI."""
    data = run_pooled(with_database, current_app.config["DATABASE"], _export_csv)
    return Response(data, mimetype="text/csv", headers={
        **NO_STORE, "Content-Disposition": 'attachment; filename="participants.csv"'})


@organiser_required
def reissue(participant_id: int) -> Any:
    """Ask for confirmation, then give a participant a new code (the old badge stops working)."""
    db = get_db()
    person = get_participant(db, participant_id)
    if person is None:
        abort(404)
    if request.method == "POST" and request.form.get("confirm") == "yes":
        try:
            reissue_code(db, participant_id)
        except LookupError:  # erased: no new badge
            abort(404)
        flash(_("%(name)s has a new code. The old badge no longer works: print the new one.",
                name=f"{person['first_name']} {person['last_name']}"))
        return redirect(url_for("participants.detail", participant_id=participant_id))
    return render_template("participants/reissue.html", person=person)


def upload_folder() -> Path:
    """Where uploaded files wait for confirmation: UPLOAD_FOLDER, else next to the database."""
    configured = current_app.config.get("UPLOAD_FOLDER")
    return Path(configured) if configured else Path(current_app.config["DATABASE"]).parent / \
        "uploads"


def _pending() -> dict[str, str]:
    """This session's uploads waiting for "Import now", oldest first: token -> file name."""
    # A list of pairs, not a dict: Flask's session serialiser sorts dict keys.
    pending = session.get("uploads")
    if not isinstance(pending, list):
        return {}
    return {str(p[0]): str(p[1]) for p in pending if isinstance(p, list) and len(p) == 2}


def _remember(pending: dict[str, str]) -> None:
    session["uploads"] = [[token, name] for token, name in pending.items()]


def _forget(token: str) -> None:
    """Delete a kept upload and drop it from the session."""
    uploads.discard_upload(upload_folder(), token)
    pending = _pending()
    pending.pop(token, None)
    _remember(pending)


def field_labels() -> dict[str, str]:
    """Translated names of the fields a column can give, for the column mapping."""
    # The same labels the error catalogue names fields by (checkin.core.errors.FIELDS).
    return {name: str(field_label(name)) for name in FIELDS}


def _upload_page(status: int = 200, **context: Any) -> Any:
    # A file with 150,000 bad rows must not make a 13 MB page: the first ones, then a count.
    return render_template("participants/upload.html", fields=field_labels(), labels=labels(),
                           shown=SHOWN_PROBLEMS, **context), status


def log_refusal(status: int, filename: str, size: int | None, reason: str) -> None:
    """Write the one line the server's log gets for a refused upload: what, and why."""
    what = [one_line(repr(filename))] if filename else []
    if size is not None:
        what.append(f"{size} bytes")
    why = one_line(reason)
    current_app.logger.warning("upload refused (%d): %s", status,
                               f"{', '.join(what)}: {why}" if what else why)


def _unreadable(exc: CSVFileError, filename: str, size: int, **context: Any) -> Any:
    """Answer a file that cannot be read as a participants list: the upload page saying why
    (415 for a format we do not read, else 422), and one line in the server's log."""
    log_refusal(exc.status, filename, size, exc.in_english())
    return _upload_page(exc.status, filename=filename,
                        error=say("file.unreadable", reason=exc.text), **context)


def _show_plan(filename: str, token: str, data: bytes, sheet: str | None,
               chosen: dict[str, str]) -> Any:
    """Check a kept upload with the chosen sheet and columns and show what importing does."""
    try:
        plan = uploads.plan_import(get_db(), data, sheet, chosen)
    except CSVFileError as exc:
        return _unreadable(exc, filename, len(data), token=token)
    return _upload_page(422 if plan["problems"] else 200, filename=filename, plan=plan,
                        token=token)


def _pooled(fn: Callable[..., Any], *args: Any) -> Any:
    """Run `fn(db, *args)` in a pool worker, in the page's language (checking or importing
    thousands of rows takes seconds: never in the door's process)."""
    return run_pooled(uploads.in_worker, str(get_locale() or "en"),
                      current_app.config["DATABASE"], fn, *args)


@organiser_required
def upload() -> Any:
    """Upload a participants workbook or CSV and preview what importing it would do:
    the columns found, the first rows as they will be imported; nothing changes yet."""
    if request.method == "GET":
        return _upload_page()
    file = request.files.get("file")
    if file is None or not file.filename:
        missing = DomainError("no_file")
        return _upload_page(missing.status, error=missing.message)
    filename = Path(file.filename).name[:200]
    data = file.read()
    try:
        plan = _pooled(uploads.plan_import, data)
    except CSVFileError as exc:
        return _unreadable(exc, filename, len(data))
    # Kept even with problems: assigning a column differently may be all it needs.
    token = uploads.keep_upload(upload_folder(), data)
    pending = _pending()
    pending[token] = filename
    while len(pending) > MAX_PENDING:
        oldest = next(iter(pending))
        uploads.discard_upload(upload_folder(), oldest)
        del pending[oldest]
    _remember(pending)
    return _upload_page(422 if plan["problems"] else 200, filename=filename, plan=plan,
                        token=token)


def _kept(token: str) -> bytes | None:
    """The bytes of this session's kept upload `token`, or None (flashing why)."""
    pending = _pending()
    data = uploads.load_upload(upload_folder(), token) if token in pending else None
    if data is None:
        if token in pending:
            _forget(token)
        flash(DomainError("upload_gone").message)
    return data


@organiser_required
def upload_columns() -> Any:
    """Check a kept upload again with the sheet and column assignments the organiser chose."""
    token = request.form.get("token", "")
    data = _kept(token)
    if data is None:
        return redirect(url_for("participants.upload"))
    allowed = set(field_labels())
    chosen: dict[str, str] = {}
    columns = request.form.getlist("column")[:MAX_COLUMNS]
    targets = request.form.getlist("field")[:MAX_COLUMNS]
    for column, target in zip(columns, targets, strict=False):
        if target in allowed and column.strip():
            chosen[column[:200]] = target
    sheet = request.form.get("sheet", "")[:200] or None
    uploads.keep_settings(upload_folder(), token, sheet, chosen)
    return _show_plan(_pending()[token], token, data, sheet, chosen)


def import_job(_output: str, language: str, db_path: str, data: bytes, sheet: str | None,
               chosen: dict[str, str]) -> dict[str, int]:
    """Import a kept upload in a pool worker as a job; return its counts (and problems)."""
    result = uploads.in_worker(language, db_path, import_file, data, False, sheet, chosen)
    return {k: result[k] for k in ("created", "updated", "unchanged")} | \
        {"problems": len(result["problems"])}


def _imported(filename: str, token: str, data: bytes, sheet: str | None,
              chosen: dict[str, str], result: dict[str, Any]) -> Any:
    """Answer an import's end: the plan again if the event changed meanwhile, else the list."""
    if result["problems"]:
        # The event changed between preview and import; nothing was imported.
        plan = _pooled(uploads.plan_import, data, sheet, chosen)
        return _upload_page(409, filename=filename, plan=plan, token=token, changed=True)
    _forget(token)
    flash(_("Imported %(file)s: %(created)d new, %(updated)d updated, %(unchanged)d unchanged.",
            file=filename, created=result["created"], updated=result["updated"],
            unchanged=result["unchanged"]))
    return redirect(url_for("participants.index"))


@organiser_required
def upload_confirm() -> Any:
    """Import a previewed upload, all or nothing, and delete the kept file. The page's
    script asks for a job (JSON): it shows the progress and can cancel the import."""
    token = request.form.get("token", "")
    data = _kept(token)
    if data is None:
        return redirect(url_for("participants.upload"))
    filename = _pending()[token]
    sheet, chosen = uploads.load_settings(upload_folder(), token)
    if wants_job():
        return job_answer(import_job, (str(get_locale() or "en"),
                                       current_app.config["DATABASE"], data, sheet, chosen),
                          url_for("participants.upload_done", job_id="JOB_ID", token=token))
    try:
        result = _pooled(import_file, data, False, sheet, chosen)
    except CSVFileError as exc:
        _forget(token)
        return _unreadable(exc, filename, len(data))
    return _imported(filename, token, data, sheet, chosen, result)


@organiser_required
def upload_done(job_id: str) -> Any:
    """Where the page goes when its import job has ended: the list with the counts, or the
    upload page saying the import was cancelled or failed (nothing imported either way)."""
    token = request.args.get("token", "")
    state = job_state(current_app.config["DATABASE"], job_id)
    data = _kept(token) if state is not None else None
    if data is None:
        return redirect(url_for("participants.upload"))
    if state["status"] != "done":
        flash(_("The import was cancelled; nothing was imported.")
              if state["status"] == "cancelled"
              else _("This did not work. Please try again."))
        sheet, chosen = uploads.load_settings(upload_folder(), token)
        return _show_plan(_pending()[token], token, data, sheet, chosen)
    sheet, chosen = uploads.load_settings(upload_folder(), token)
    return _imported(_pending()[token], token, data, sheet, chosen, state["result"])


@organiser_required
def upload_cancel() -> Any:
    """Throw away a previewed upload without importing it."""
    token = request.form.get("token", "")
    # Only this session's own uploads: a token from elsewhere deletes nothing.
    if token in _pending():
        _forget(token)
    flash(_("The upload was cancelled; nothing was imported."))
    return redirect(url_for("participants.upload"))


def too_large(_error: Exception) -> Any:
    """Answer an upload over the size limit with the upload page and a clear message."""
    if current_organiser() is None:
        return redirect(url_for("auth.login"))
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    size = f"{limit // 2**20} MB" if limit >= 2**20 else f"{max(1, limit // 2**10)} KB"
    # The body was not read, so its file name is unknown; its declared length is known.
    log_refusal(413, "", request.content_length, f"over the limit of {size}")
    too_large = DomainError("upload_too_large", size=size)
    return _upload_page(too_large.status, error=too_large.message)


def register(app: Flask) -> None:
    """Attach this module's URL rules (organisers only) and blueprint to the app."""
    bp = Blueprint("participants", __name__)
    bp.add_url_rule("/participants", view_func=index)
    bp.add_url_rule("/participants/<int:participant_id>", view_func=detail)
    bp.add_url_rule("/participants/<int:participant_id>/badge.png", view_func=badge_png)
    bp.add_url_rule("/participants/<int:participant_id>/badge.pdf", view_func=badge_pdf,
                    methods=["GET", "POST"])
    bp.add_url_rule("/participants/<int:participant_id>/reissue", view_func=reissue,
                    methods=["GET", "POST"])
    bp.add_url_rule("/participants/badges.pdf", view_func=badges_pdf, methods=["GET", "POST"])
    bp.add_url_rule("/participants/export.csv", view_func=export_csv)
    bp.add_url_rule("/participants/upload", view_func=upload, methods=["GET", "POST"])
    bp.add_url_rule("/participants/upload/confirm", view_func=upload_confirm,
                    methods=["POST"])
    bp.add_url_rule("/participants/upload/cancel", view_func=upload_cancel, methods=["POST"])
    bp.add_url_rule("/participants/upload/done/<job_id>", view_func=upload_done)
    bp.add_url_rule("/participants/upload/columns", view_func=upload_columns,
                    methods=["POST"])
    bp.register_error_handler(413, too_large)
    app.register_blueprint(bp)
