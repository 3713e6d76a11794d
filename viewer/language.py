"""The page's language: English, or Chinese (zh-CN) where TWIN_LANGUAGE or the browser asks for it, or
where the person picks it in the footer (which wins over both).

The page reads its words from state, so that a switch re-words it without building it again: ``t`` (the
viewer's messages), ``city_title`` (the city's name in the language, where it was given one), ``titles`` (layer id -> title), ``groups`` (group -> title), ``colourings`` (layer id
-> attribute -> the title of its colouring by it); Vuetify's own strings
follow ``lang`` (viewer.panels.ui). What the server writes (the picked card, the legend, the search's
hits) reads ``state.lang`` and is written again when it changes.
"""

from __future__ import annotations

from twin import i18n
from twin.catalog import Catalog
from twin.settings import get_settings
from twin.store.city import City


def setup_language(state, ctrl, catalog: Catalog, city: City) -> None:
    fixed = get_settings().language
    state.lang = fixed or i18n.DEFAULT

    def words(lang: str, **kwargs) -> None:
        if lang not in i18n.LANGUAGES:  # the page may set state as it likes
            state.lang = i18n.DEFAULT
            return
        state.t = i18n.section("viewer", lang)
        state.city_title = city.title_in(lang)
        state.trame__title = f"{state.city_title} · twin"
        state.titles = {layer.id: layer.title_in(lang) for layer in catalog}
        state.groups = i18n.section("groups", lang)
        state.colourings = {layer.id: {c.attribute: c.title for c in layer.colour_by_in(lang)}
                            for layer in catalog if layer.style.colour_by}

    state.change("lang")(words)
    words(state.lang)

    @ctrl.trigger("browser_languages")
    def browser_languages(languages: list[str] | None) -> None:
        """The browser's languages (navigator.languages), as the page is first shown."""
        if fixed is None:
            state.lang = i18n.choose(languages or [])


def said(key: str) -> tuple[str]:
    """A property bound to the viewer's message ``key`` in the page's language."""
    i18n.section("viewer", i18n.DEFAULT)[key]  # a misspelt key fails as the page is built, not as a blank
    return (f"t.{key}",)


def shown(key: str) -> str:
    """The viewer's message ``key`` in the page's language, as an element's text."""
    return f"{{{{ {said(key)[0]} }}}}"
