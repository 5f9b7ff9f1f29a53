"""Imported text that would print differently from how it reads: bidi controls, invisibles."""

from __future__ import annotations

import unicodedata

# Beyond Unicode's format characters (Cf: bidi controls such as U+202E, zero-width spaces
# and joiners, the BOM, soft hyphens): private-use and unassigned code points, and line or
# paragraph separators, which no name or organisation needs either.
REFUSED_CATEGORIES = {"Cf", "Co", "Cn", "Cs", "Zl", "Zp"}
# Shown like a space but not one: a name with them cannot be found by typing it.
INVISIBLE_SPACES = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}


def invisible_character(text: str) -> str | None:
    """Return the first bidi control or invisible character in `text`, or None."""
    for ch in text:
        if unicodedata.category(ch) in REFUSED_CATEGORIES or ch in INVISIBLE_SPACES:
            return ch
    return None


def describe(ch: str) -> str:
    """Name a character for an error message, like "U+202E RIGHT-TO-LEFT OVERRIDE"."""
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed character')}"


def one_line(text: str, limit: int = 300) -> str:
    """Return `text` fit for one log line: line breaks and other control characters escaped
    (a file's name must not forge a line of its own), cut at `limit` characters."""
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return text if len(text) <= limit else text[:limit] + "…"
