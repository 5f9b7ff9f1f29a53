"""The `checkin badges` command: print-ready badge sheets as PDF."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from checkin.badges import DEFAULT_SIZE, SIZES, render_pdf, select_participants
from checkin.cli.failing import fail, fail_with
from checkin.core.errors import UnknownChoice

if TYPE_CHECKING:
    from checkin.cli import Context


@click.command("badges")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="The PDF file to write.")
@click.option("--only", "only", multiple=True, metavar="ID_EMAIL_OR_CODE",
              help="Only this participant (repeat for more).")
@click.option("--city", "cities", multiple=True, help="Only this delegation (repeatable).")
@click.option("--working-group", "working_groups", multiple=True, metavar="ID",
              help="Only members of this working group (repeatable).")
@click.option("--excursion", "excursions", multiple=True, metavar="ID",
              help="Only people on this excursion (repeatable).")
@click.option("--size", type=click.Choice(list(SIZES)), default=DEFAULT_SIZE, show_default=True,
              help="Page format: " + "; ".join(f"{s.name}: {s.description}"
                                                for s in SIZES.values()) + ".")
@click.pass_obj
def badges_command(ctx: Context, output: Path, only: tuple[str, ...], cities: tuple[str, ...],
                   working_groups: tuple[str, ...], excursions: tuple[str, ...],
                   size: str) -> None:
    """Render badges as a print-ready vector PDF: A4 sheets of four with cut marks, or one
    badge per A6 card or label (--size).

    Filters combine: --city Bremen --excursion bike-tour prints the Bremen people on the
    bike tour. Badges come sorted by city and name.

    Example: checkin --db event.db badges -o badges.pdf --city Bremen --size a4
    """
    if not output.resolve().parent.is_dir():
        fail("no_folder", folder=str(output.resolve().parent))
    db = ctx.db()
    try:
        ids = select_participants(db, only, cities, working_groups, excursions)
    except UnknownChoice as exc:
        fail_with(exc)
    if not ids:
        fail("no_match")
    warnings: list[str] = []
    # Write next to the target and rename at the end: a failed run leaves no half file.
    fd, tmp_name = tempfile.mkstemp(prefix=".badges-", suffix=".pdf",
                                    dir=output.resolve().parent)
    try:
        with os.fdopen(fd, "wb") as out, click.progressbar(
                length=len(ids), label="Rendering badges", file=sys.stderr,
                show_pos=True) as bar:
            count = render_pdf(db, out, ids, progress=bar.update, warnings=warnings,
                               size=size)
        os.replace(tmp_name, output)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    for warning in warnings:
        click.echo(f"Warning: {warning}", err=True)
    pages = -(-count // SIZES[size].per_page)
    click.echo(f"Wrote {count} badge(s) on {pages} page(s) to {output}.")
