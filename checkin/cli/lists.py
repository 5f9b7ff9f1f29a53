"""`checkin lists`: the paper lists as a PDF, for when screens fail."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from checkin.lists import LANGUAGES, render_lists


def default_language(db: Any) -> str:
    """The organiser's language: from LANG when it is one of ours, else the event's first."""
    from checkin.core.event import event_info

    wanted = (os.environ.get("LC_ALL") or os.environ.get("LANG") or "")[:2].lower()
    if wanted in LANGUAGES:
        return wanted
    languages = (event_info(db) or {}).get("languages") or []
    return next((lang for lang in languages if lang in LANGUAGES), "en")


@click.command("lists")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The PDF file to write.")
@click.option("--arrived", is_flag=True, help="Mark who has already arrived (mid-day fallback).")
@click.option("--lang", type=click.Choice(LANGUAGES), default=None,
              help="Language of the lists (default: from LANG, else the event's first).")
@click.pass_obj
def lists_command(ctx: Any, output: Path, arrived: bool, lang: str | None) -> None:
    """Print the entrance list, excursion rosters and working group lists as one PDF.

    Example: checkin --db event.db lists -o lists.pdf --arrived --lang de
    """
    data = render_lists(ctx.db_path, lang or default_language(ctx.db()), arrived=arrived)
    output.write_bytes(data)
    click.echo(f"Wrote {output} ({len(data):,} bytes).")
