"""Where the package finds its templates, static files and fonts, installed or in a checkout."""

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent


def _resource(name: str) -> Path:
    """Return the folder `name`, inside the installed package or at the checkout's top."""
    inside = PACKAGE / name
    return inside if inside.is_dir() else PACKAGE.parent / name


TEMPLATES = _resource("templates")
STATIC = _resource("static")
FONTS = PACKAGE / "fonts"
TRANSLATIONS = PACKAGE / "translations"


def default_database() -> Path:
    """The event database used when neither --db nor CHECKIN_DB names one: instance/checkin.db."""
    from flask import Flask

    return Path(Flask("checkin", instance_relative_config=True).instance_path) / "checkin.db"
