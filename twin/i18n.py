"""Languages: the messages people read in English and in Chinese (zh-CN), and which of them a person gets.

The messages are data, one TOML file a language in ``twin/messages/`` (sections ``viewer``, ``groups``,
``parameters`` (the analyses' checks), ``validation`` (FastAPI's type checks), ``api`` and others; zh-CN
also ``vuetify``, Vuetify's own strings, which it ships in English only); a key is ``section.name``. The layers' titles live in their layer files (:mod:`twin.catalog`). The language is
``TWIN_LANGUAGE`` where set, else the first of the browser's (``Accept-Language``,
``navigator.languages``) that twin speaks, else English.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

LANGUAGES = ("en", "zh-CN")
DEFAULT = "en"
MESSAGES_DIR = Path(__file__).resolve().parent / "messages"

# One Chinese a language: a reader of zh-TW or zh-HK reads zh-CN far better than English.
_PRIMARY = {"en": "en", "zh": "zh-CN"}
_QUALITY = re.compile(r"^q=([01](?:\.\d{0,3})?)$")


def choose(preferred: Iterable[str]) -> str:
    """The first language of ``preferred`` (language tags, most wanted first) that twin speaks."""
    for tag in preferred:
        language = _PRIMARY.get(tag.strip().split("-")[0].split("_")[0].lower())
        if language:
            return language
    return DEFAULT


def accepted(header: str | None) -> list[str]:
    """The tags of an ``Accept-Language`` header, most wanted first (RFC 9110 12.5.4); ``q=0`` refuses."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate((header or "").split(",")):
        tag, *parameters = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for parameter in parameters:
            match = _QUALITY.match(parameter)
            quality = float(match.group(1)) if match else quality
        if tag and quality > 0:
            weighted.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(weighted)]


def language_for(preferred: Iterable[str] = ()) -> str:
    """The language to answer in: the TWIN_LANGUAGE setting, else the browser's choice."""
    from twin.settings import get_settings

    return get_settings().language or choose(preferred)


@cache
def _table(language: str) -> dict:
    if language not in LANGUAGES:
        raise KeyError(f"no language '{language}'; languages: {', '.join(LANGUAGES)}")
    with (MESSAGES_DIR / f"{language}.toml").open("rb") as file:
        return tomllib.load(file)


def section(name: str, language: str) -> dict[str, str]:
    """The messages of one section (``viewer``, ``groups``, ``api``), English where a language lacks one."""
    return {**_table(DEFAULT).get(name, {}), **_table(language).get(name, {})}


def text(key: str, language: str = DEFAULT, **params: object) -> str:
    """The message ``section.name`` in ``language``, its ``{placeholders}`` filled from ``params``."""
    name, _, entry = key.partition(".")
    return section(name, language)[entry].format(**params)


def vuetify_messages() -> dict[str, dict]:
    """Vuetify's own strings (no data, close, clear) for each language but English, which Vuetify has."""
    return {language: _table(language)["vuetify"] for language in LANGUAGES if language != DEFAULT}
