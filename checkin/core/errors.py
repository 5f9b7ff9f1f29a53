"""One way to report a domain error: a machine code, a sentence, an HTTP status.

Decisions raise a DomainError subclass (nothing was stored); the edge (an API error handler,
a page's flash message) shows it with `in_words`, in the reader's language.
"""

from __future__ import annotations

from flask_babel import gettext as _


class DomainError(Exception):
    """A request the domain refuses: `code` for machines, the message for people."""

    status = 400
    # Which of the translated sentences below belong to this error's codes (None: its own).
    domain: str | None = None

    def __init__(self, code: str, message: str, status: int | None = None):
        super().__init__(message)
        self.code, self.message = code, message
        if status is not None:
            self.status = status


def _words() -> dict[str, dict[str, str]]:
    """The translated sentence for each domain error code that people meet, per domain."""
    return {"excursion": {
        # Excursion events (the guide's phone).
        "unknown_code": _("This badge code is not valid."),
        "already_departed": _("This excursion has already departed."),
        "not_departed": _("The excursion has not departed yet."),
        "already_returned": _("This excursion has already returned."),
        "already_assigned": _("This person is already on this excursion."),
    }, "correction": {
        # Corrections (the organisers' overview).
        "unknown_scan": _("There is no such scan."),
        "bad_action": _("A correction voids a scan or moves it."),
        "already_voided": _("This scan is already voided."),
        "rejected_scan": _("A rejected scan counts nowhere; it can only be voided."),
        "unknown_checkpoint": _("Choose the checkpoint the scan belongs to."),
        "same_checkpoint": _("The scan already counts there."),
    }}


def in_words(exc: DomainError) -> str:
    """Say a domain error in the reader's language (its own message where none is known)."""
    return _words().get(exc.domain or "", {}).get(exc.code, exc.message)
