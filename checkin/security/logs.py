"""The log without secrets or forged lines: one-time pairing and setup codes and name searches
redacted, untrusted text kept on one line."""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

REDACTED = "[redacted]"
# /pair/<code> and /setup/<token> carry one-time secrets; ?q= a name searched for; ?next= the
# page a sign-in returns to, which may hold either (URL-encoded).
_PATH_SECRET = re.compile(r"(/(?:pair|setup)/)[^/?#\s\"]+")
_QUERY = re.compile(r"((?:^|[?&])(?:q|next)=)[^&#\s\"]*")


def one_line(text: str, limit: int = 300) -> str:
    """Return `text` fit for one log line: line breaks and other control characters escaped
    (a file's name must not forge a line of its own), cut at `limit` characters."""
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return text if len(text) <= limit else text[:limit] + "…"


def redact(text: str) -> str:
    """Return a request line, path, query or referrer with secrets and searches redacted."""
    return _QUERY.sub(r"\1" + REDACTED, _PATH_SECRET.sub(r"\1" + REDACTED, text))


class RedactingLogger(Logger):
    """Gunicorn's logger, redacting every text it would write about a request."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        """Return gunicorn's log atoms with their texts redacted."""
        atoms = super().atoms(resp, req, environ, request_time)
        return {k: redact(v) if isinstance(v, str) else v for k, v in atoms.items()}
