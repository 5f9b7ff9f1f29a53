"""Errors from the catalogue (checkin/core/catalogue.py), worded in the reader's language.

An error carries a catalogue key and named parameters, never a finished sentence: it is put
into words when it is read, in the reader's language (docs/errors.md). Core does not import
Flask: a `Text` is rendered with babel's own catalogues in checkin/translations (the same
files Flask-Babel reads), in the language that `current_language` names. The web layer
makes that the request's language (`checkin.web.i18n` calls `use_language_source`), the CLI
the one chosen with `--lang` (`use_language`), and English where neither is set.

Field names in messages are the labels people see on the pages (`field_label`), never the
column names of the database.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from babel.support import NullTranslations, Translations

from checkin.core.catalogue import CATALOGUE, FIELDS
from checkin.core.paths import TRANSLATIONS

LANGUAGES = ("de", "nl", "en")


@lru_cache(maxsize=8)
def translations(language: str) -> NullTranslations:
    """Return the compiled catalogue for `language` (English: the messages themselves)."""
    if language not in LANGUAGES or language == "en":
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS), [language])


_chosen: ContextVar[str | None] = ContextVar("checkin_language", default=None)
_sources: list[Callable[[], str | None]] = []


def use_language(language: str | None) -> Callable[[], None]:
    """Choose the language errors are said in outside a web request (the CLI's --lang);
    return what puts back the language chosen before."""
    token = _chosen.set(language)
    return lambda: _chosen.reset(token)


def use_language_source(source: Callable[[], str | None]) -> None:
    """Register where the reader's language comes from (the web layer: the request's)."""
    if source not in _sources:
        _sources.append(source)


def current_language() -> str:
    """Return the reader's language: the registered source's, else the chosen one, else en."""
    for source in _sources:
        if (found := source()) in LANGUAGES:
            return found
    return _chosen.get() or "en"


class Text:
    """A sentence translated when it is read: a message with named placeholders.

    With a `plural` form, the `num` parameter chooses the form in each language (ngettext).
    """

    __slots__ = ("msgid", "params", "plural")

    def __init__(self, msgid: str, /, **params: Any):
        self.msgid, self.params, self.plural = msgid, params, None

    def render(self, language: str | None = None) -> str:
        """Say the sentence in `language` (default: the reader's); Text parameters too."""
        language = language or current_language()
        params = {k: v.render(language) if isinstance(v, Text) else v
                  for k, v in self.params.items()}
        words = translations(language)
        said = (words.ngettext(self.msgid, self.plural, self.params["num"]) if self.plural
                else words.gettext(self.msgid))
        return said % params if params else said

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"Text({self.msgid!r}, **{self.params!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Text) and (self.msgid, self.params) == (other.msgid,
                                                                         other.params)

    def __hash__(self) -> int:
        return hash(self.msgid)


#: The labels of the participant fields, as the pages show them.
def field_label(name: str) -> Text | str:
    """Return the label people see for participant field `name` (unknown names as they are)."""
    return Text(FIELDS[name]) if name in FIELDS else name


def say(key: str, /, **params: Any) -> Text:
    """Return catalogue entry `key`'s message with `params`, to be read in any language."""
    entry = CATALOGUE[key]
    text = Text(entry.message, **params)
    text.plural = entry.plural
    return text


class DomainError(Exception):
    """A request the domain refuses (nothing was stored): a catalogue entry and its parameters.

    `code` and `status` are the entry's; `message` is the sentence in the reader's language.
    """

    def __init__(self, key: str, /, **params: Any):
        entry = CATALOGUE[key]
        self.key, self.code, self.status, self.params = key, entry.code, entry.status, params
        self.text = say(key, **params)
        super().__init__(self.text.render("en"))

    @property
    def message(self) -> str:
        """The sentence in the reader's language."""
        return self.text.render()

    def __str__(self) -> str:
        return self.text.render()

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from its key and parameters (the default would pass the English sentence).
        return _remake, (type(self), self.key, self.params, self.__dict__)


class UnknownChoice(DomainError, LookupError):
    """A filter names a person, working group or excursion the event does not have."""


def _remake(cls: type[DomainError], key: str, params: dict[str, Any],
            state: dict[str, Any]) -> DomainError:
    """Rebuild a pickled error."""
    error = cls.__new__(cls)
    DomainError.__init__(error, key, **params)
    error.__dict__.update(state)
    return error
