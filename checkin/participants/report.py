"""The column mapping and the first rows of an import, as lines of text for the terminal."""

from __future__ import annotations

from typing import Any

from checkin.participants.columns import IGNORE, Mapping


def mapping_lines(mapping: Mapping, preview: list[dict[str, Any]] | None = None) -> list[str]:
    """Describe which column gives which field, the defaults, and the first rows."""
    width = max((len(c) for c in mapping.columns), default=0)
    lines = ["Columns:"]
    for row in mapping.rows():
        column, target, how = row["column"], row["field"], row["how"]
        if how == "unplaced":
            said = (f'not recognised, not imported (--map "{column}=FIELD" or '
                    f'--map "{column}={IGNORE}")')
        elif target == IGNORE:
            said = "ignored"
        else:
            said = target + (" (split into title, first_name, last_name)"
                             if target == "name" else "")
            said += " (assigned)" if how == "assigned" else ""
        lines.append(f"  {column:<{width}}  -> {said}")
    if mapping.defaults:
        lines.append("Defaults for missing columns: " + ", ".join(
            f"{k} = {v}" for k, v in mapping.defaults.items()))
    if preview:
        lines.append("First rows as they will be imported:")
        for row in preview:
            shown = ", ".join(f"{k}={v!r}" for k, v in row.items() if k != "line" and v)
            lines.append(f"  line {row['line']}: {shown}")
    return lines
