"""`python -m checkin.cli`: the same command line as the `checkin` console script."""

from checkin.cli import cli

cli()
