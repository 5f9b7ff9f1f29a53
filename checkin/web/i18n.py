"""Languages: German, Dutch and English, chosen by the user or from the browser."""

from flask import Flask, request, session

LANGUAGES = {"de": "Deutsch", "nl": "Nederlands", "en": "English"}


def select_locale() -> str:
    """Pick the language: ?lang= (remembered in the session), else the browser's choice."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        session["lang"] = asked
        return asked
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    return request.accept_languages.best_match(list(LANGUAGES)) or "en"


def init_app(app: Flask) -> None:
    """Make the language list available to every template."""

    @app.context_processor
    def languages() -> dict:
        from flask_babel import get_locale

        return {"LANGUAGES": LANGUAGES, "current_language": str(get_locale())}
