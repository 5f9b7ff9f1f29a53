"""Languages: German, Dutch and English, chosen by the user or from the browser."""

from flask import Flask, has_request_context, request, session

from checkin.core.errors import use_language_source

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


def request_language() -> str | None:
    """The language of the request being answered (None outside a request)."""
    if not has_request_context():
        return None
    from flask_babel import get_locale

    return str(get_locale())


def init_app(app: Flask) -> None:
    """Make the language list available to every template; errors speak the request's."""
    # Errors from the catalogue are worded when read: in a request, in its language.
    use_language_source(request_language)

    @app.context_processor
    def languages() -> dict:
        from flask_babel import get_locale

        return {"LANGUAGES": LANGUAGES, "current_language": str(get_locale())}
