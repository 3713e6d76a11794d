"""The messages in English and Chinese: every message has both, and a person gets the language asked for."""

from __future__ import annotations

import string

import pytest

from twin import i18n
from twin.errors import SettingsError
from twin.settings import get_settings

pytestmark = pytest.mark.fast


def _placeholders(message: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(message) if name is not None}


@pytest.mark.parametrize("section", ["groups", "viewer", "measure", "analysis", "history", "parameters", "validation", "api"])
def test_every_message_has_both_languages_with_the_same_placeholders(section: str) -> None:
    english, chinese = (i18n._table(language)[section] for language in ("en", "zh-CN"))
    assert set(english) == set(chinese), set(english) ^ set(chinese)
    for key, message in english.items():
        assert _placeholders(message) == _placeholders(chinese[key]), key
        assert chinese[key] != message, f"{section}.{key} is not translated"


def test_vuetify_strings_for_chinese() -> None:
    assert i18n.vuetify_messages()["zh-CN"]["noDataText"] == "暂无数据"


@pytest.mark.parametrize(("header", "language"), [
    (None, "en"), ("", "en"), ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"), ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
    ("de-DE, zh;q=0.5", "zh-CN"), ("zh-TW", "zh-CN"), ("en;q=0.2, zh-Hans;q=0.9", "zh-CN"),
    ("zh-CN;q=0, en", "en"), ("fr, *;q=0.1", "en"),
])
def test_the_browsers_first_language_twin_speaks(header: str | None, language: str) -> None:
    assert i18n.choose(i18n.accepted(header)) == language


def test_the_setting_overrides_the_browser(monkeypatch: pytest.MonkeyPatch) -> None:
    get_settings.cache_clear()
    monkeypatch.setenv("TWIN_LANGUAGE", "zh-CN")
    try:
        assert i18n.language_for(["en-US"]) == "zh-CN"
        monkeypatch.setenv("TWIN_LANGUAGE", "")
        get_settings.cache_clear()
        assert i18n.language_for(["en-US"]) == "en"
        monkeypatch.setenv("TWIN_LANGUAGE", "fr")
        get_settings.cache_clear()
        with pytest.raises(SettingsError, match="TWIN_LANGUAGE"):
            get_settings()
    finally:
        get_settings.cache_clear()


def test_text_fills_its_placeholders() -> None:
    assert i18n.text("viewer.picked_not_standing", "zh-CN", title="给水管道: W1", year=2012) == "给水管道: W1（2012 年不存在）"
    assert i18n.text("groups.underground") == "Underground utilities"
