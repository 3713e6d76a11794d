"""The page around the 3D view (Vuetify 3): tools in the toolbar, the layer panel with toggles, colour
swatches, opacity and counts in the drawer, and cards over the view for what was picked or measured and
for the legend. Only layout lives here; what the controls do is in viewer.app.

CSS classes named ``twin-*`` mark what people (and the browser tests) find on the page. Its words are
the viewer's messages in the page's language, bound to state (viewer.language's :func:`said`).
"""

from __future__ import annotations

from collections.abc import Callable

from trame.ui.vuetify3 import SinglePageWithDrawerLayout
from trame.widgets import client, html
from trame.widgets import vuetify3 as v3

from twin import i18n
from twin.catalog import GROUPS, Catalog
from viewer.language import said, shown
from viewer.panels import analyses_ui, colour_by, compare_ui

MODES = (("inspect", "mdi-cursor-default-click"), ("distance", "mdi-ruler"), ("height", "mdi-office-building"),
         ("depth", "mdi-arrow-collapse-down"),
         ("point", "mdi-map-marker"))  # a point for the analyses (nearest emergency resources)
LABELLED_MODES_PX = 1500  # the page's width from which the modes' names fit in the toolbar beside the icons
# On a narrow page the year bar takes the view's whole width (beside the legend, its slider shrank to
# nothing at 1024 px) and the legend stands above it; on a wide one they sit side by side.
NARROW = "($vuetify.display.width < 1300)"
YEARS_LEFT = f"({NARROW} ? '12px' : '290px')"
LEGEND_BOTTOM = f"(!{NARROW} || !year_first ? '12px' : (compare === 'off' ? '70px' : '128px'))"
PALE = 0.72  # the luminance (0-1) above which a layer's colour is too pale for its checkbox's tick
CARD = "position: absolute; max-height: 80%; overflow: auto;"
# A column of cards at the top of the view (left or right); the view stays draggable between them.
COLUMN = ("position: absolute; display: flex; flex-direction: column; gap: 8px; "
          "max-height: 55%; pointer-events: none;")
# Their top (px, a JS expression): under the band of the year labels while two years are compared.
TOP = f"(compare === 'off' ? 12 : {compare_ui.BAND_PX})"
SCROLL = "overflow: auto; pointer-events: auto; flex: 0 1 auto; min-height: 0;"
# Of a picked feature's history (viewer.tools.versions): the version standing at the end of the slider's year
# (twin.time's rule; ISO dates compare as strings).
SHOWN = ("line.version && year_first && (!line.start || line.start <= year + '-12-31') "
         "&& (!line.end || line.end > year + '-12-31')")


# What the footer's "?" says: how the view is worked, which no one can guess (messages help_<what>[_how]).
CONTROLS = ("turn", "move", "zoom", "inspect", "find", "close")


def layout(server, catalog: Catalog, counts: dict[str, int], make_view: Callable[[], None],
           on_found: Callable[[str], None], crs_label: str = "") -> SinglePageWithDrawerLayout:
    """The page; the city's name is state ``city_title`` (viewer.language)."""
    # Vuetify's own strings (a list's "No data available") in each language it does not ship.
    config = {"locale": {"locale": i18n.DEFAULT, "fallback": i18n.DEFAULT, "messages": i18n.vuetify_messages()}}
    with SinglePageWithDrawerLayout(server, vuetify_config=config) as page:
        page.title.set_text("{{ city_title }}")
        _footer(page.footer, f"{{{{ city_title }}}} · {crs_label}" if crs_label else "{{ city_title }}")
        # The city's name before the tools: they give way (the search box narrows) before it is cut short.
        page.title.style = "flex: 0 4 auto; min-width: 120px; max-width: 30%;"
        with page.toolbar:
            _toolbar(on_found)
        with page.drawer:
            _tools()
            analyses_ui.controls(server.controller)
            _layer_panel(catalog, counts)
        with page.content:
            with html.Div(style="width: 100%; height: 100%; position: relative;", classes="twin-view"):
                make_view()
                _cards()
                _years()
    return page


def _toolbar(on_found: Callable[[str], None]) -> None:
    v3.VSpacer()
    v3.VSelect(v_model=("viewpoint", None), items=("viewpoints", []), item_title="title", item_value="key",
               label=said("go_to"), density="compact", hide_details=True, variant="outlined", classes="twin-viewpoints mx-2",
               style="max-width: 280px; min-width: 110px; flex: 1 1 220px;")
    # The hits open in a menu below the box (drawn over the page, not inside the toolbar, which clips what
    # overflows it); the keys work as in any combobox: arrows choose a hit, Enter goes to it, Escape closes.
    with html.Div(style="position: relative; max-width: 300px; min-width: 140px; flex: 1 1 300px;", classes="mx-2"):
        v3.VTextField(v_model=("search_text", ""), label=said("search"), density="compact",
                      hide_details=True, variant="outlined", clearable=True, prepend_inner_icon="mdi-magnify",
                      classes="twin-search", autocomplete="off",
                      keydown_down="search_open = search_results.length > 0; "
                                   "search_index = Math.min(search_index + 1, search_results.length - 1)",
                      keydown_up="search_index = Math.max(search_index - 1, 0)",
                      keydown_enter=(on_found, "[search_results[search_index] ? search_results[search_index].key : '']"),
                      keydown_esc="search_open = false",
                      __events=[("keydown_down", "keydown.down.prevent"), ("keydown_up", "keydown.up.prevent"),
                                ("keydown_enter", "keydown.enter"), ("keydown_esc", "keydown.esc")])
        with v3.VMenu(v_model=("search_open", False), activator="parent", open_on_click=False,
                      disable_initial_focus=True, location="bottom start", offset=4, max_height=420,
                      content_class="twin-search-results"):
            with v3.VList(density="compact", min_width=300):
                v3.VListItem(v_for="(item, index) in search_results", key="item.key", title=("item.label",),
                             subtitle=("item.layer",), prepend_icon=("item.icon",), active=("index === search_index",),
                             click=(on_found, "[item.key]"), classes="twin-search-hit")
    with v3.VBtnToggle(v_model=("mode", "inspect"), mandatory=True, density="compact", variant="outlined",
                       divided=True, classes="twin-modes mx-2", style="flex: 0 0 auto;"):  # the boxes give way, not the buttons
        for value, icon in MODES:
            # Their names beside the icons only where the toolbar has room for them: at 1280 px "Point"
            # fell off the page's edge. The name stays the button's tooltip.
            with v3.VBtn(value=value, prepend_icon=icon, size="small", classes=f"twin-mode-{value}",
                         title=said(f"mode_{value}"), aria_label=said(f"mode_{value}"), min_width=0):
                html.Span(shown(f"mode_{value}"), v_if=f"$vuetify.display.width >= {LABELLED_MODES_PX}")


def _tools() -> None:
    with v3.VCard(flat=True, classes="px-4 pt-2"):
        v3.VSwitch(v_model=("underground", False), label=said("underground"), hide_details=True, density="compact",
                   color="primary", classes="twin-underground")
        v3.VSlider(v_model=("exaggeration", 1.0), min=1, max=20, step=1, hide_details=True, density="compact",
                   label=said("depth_x"), disabled=("!underground",), classes="twin-exaggeration", thumb_label=True)
        v3.VSelect(v_model=("section", "off"), label=said("section"), density="compact", hide_details=True,
                   items=("[{title: t.section_off, value: 'off'}, {title: t.section_x, value: 'x'}, "
                          "{title: t.section_y, value: 'y'}]",), classes="twin-section mt-2")
        v3.VSlider(v_model=("section_at", 50), min=0, max=100, step=1, hide_details=True, density="compact",
                   label=said("cut_at"), disabled=("section === 'off'",), classes="twin-section-at", thumb_label=True)
    v3.VDivider()


def _layer_panel(catalog: Catalog, counts: dict[str, int]) -> None:
    with v3.VList(density="compact", classes="twin-layers"):
        for group in GROUPS:
            v3.VListSubheader(f"{{{{ groups.{group} }}}}")
            for layer in (layer for layer in catalog if layer.group == group):
                count = counts.get(layer.id, 0)
                empty = count == 0
                with html.Div(classes=f"d-flex align-center pr-2 twin-layer twin-layer-{layer.id}"
                                      + (" text-disabled" if empty else "")):
                    v3.VCheckbox(v_model=(f"show_{layer.id}", True), label=(f"titles.{layer.id} + ' ({count:,})'",),
                                 color=_tick_colour(layer.style.color), density="compact", hide_details=True,
                                 disabled=empty)
                    _swatch(layer.id, empty)
                if layer.style.colour_by and not empty:
                    # Its classes show in the legend; the swatch's colour is the plain one's.
                    v3.VSelect(v_model=(f"colour_by_{layer.id}", colour_by.PLAIN), items=(colour_by.items(layer),),
                               label=said("colour"), density="compact", hide_details=True, variant="outlined",
                               classes=f"twin-colour-by twin-colour-by-{layer.id} ml-9 mr-2 mb-2")


def _tick_colour(colour: str) -> str:
    """The layer's colour for its checkbox, where a tick in it can be seen: a pale one (the management
    grids' veil, the buildings' white) made a ticked box look empty."""
    red, green, blue = (int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return colour if 0.2126 * red + 0.7152 * green + 0.0722 * blue < PALE else "#5f6b73"


def _swatch(layer_id: str, empty: bool) -> None:
    """The layer's colour; a click opens its colour and opacity."""
    with v3.VMenu(close_on_content_click=False, location="end"):
        with v3.Template(v_slot_activator="{ props }"):
            html.Div(v_bind="props", classes=f"twin-swatch twin-swatch-{layer_id}", title=said("colour_opacity"),
                     style=(f"{{ background: color_{layer_id}, opacity: 0.25 + 0.75 * opacity_{layer_id}, "
                            f"width: '18px', height: '18px', borderRadius: '4px', cursor: 'pointer', "
                            f"border: '1px solid #0003', flex: 'none', visibility: {'hidden' if empty else 'visible'!r} }}",))
        with v3.VCard(min_width=280, classes=f"twin-style-{layer_id} pa-2"):
            v3.VColorPicker(v_model=(f"color_{layer_id}",), modes=["hex"], hide_inputs=False, elevation=0,
                            classes=f"twin-color-{layer_id}")
            v3.VSlider(v_model=(f"opacity_{layer_id}",), min=0, max=1, step=0.05, label=said("opacity"),
                       hide_details=True, thumb_label=True, classes=f"twin-opacity twin-opacity-{layer_id}")


def _years() -> None:
    """The year slider with play, speed and loop along the bottom of the view; the year's figures on top."""
    with v3.VCard(v_if="year_first", classes="twin-years d-flex align-center px-3 py-1",
                  style=(f"{{ position: 'absolute', bottom: '12px', left: {YEARS_LEFT}, right: '12px', opacity: 0.94 }}",)):
        v3.VBtn(icon=("playing ? 'mdi-pause' : 'mdi-play'",), click="playing = !playing", size="small",
                variant="text", classes="twin-play")
        v3.VSlider(v_model=("year", 2020), min=("year_first",), max=("year_last",), step=1, show_ticks="always",
                   tick_size=3, hide_details=True, density="compact", classes="twin-year mx-2")
        v3.VSelect(v_model=("speed", 1.0), items=("[{title: t.speed_half, value: 0.5}, {title: t.speed_1, value: 1}, "
                                                  "{title: t.speed_2, value: 2}, {title: t.speed_4, value: 4}]",),
                   density="compact", hide_details=True, variant="plain", classes="twin-speed ml-3",
                   style="max-width: 110px;")
        v3.VCheckbox(v_model=("loop", True), label=said("loop"), density="compact", hide_details=True,
                     classes="twin-loop flex-grow-0")
        v3.VSelect(v_model=("compare", "off"), density="compact", hide_details=True, variant="plain",
                   items=("[{title: t.compare_off, value: 'off'}, {title: t.compare_side, value: 'side'}, "
                          "{title: t.compare_swipe, value: 'swipe'}]",), classes="twin-compare ml-2", style="max-width: 200px;")
    with v3.VCard(v_if="year_first && compare !== 'off'", classes="twin-years-b d-flex align-center px-3 py-1",
                  style=(f"{{ position: 'absolute', bottom: '70px', left: {YEARS_LEFT}, right: '12px', opacity: 0.94 }}",)):
        html.Span(shown("year_b"), classes="text-caption mr-2")
        v3.VSlider(v_model=("year_b", 2008), min=("year_first",), max=("year_last",), step=1, show_ticks="always",
                   tick_size=3, hide_details=True, density="compact", thumb_label=True, classes="twin-year-b mx-2")
        html.B("{{ year_b }}", classes="twin-year-b-value mr-4")
        v3.VSlider(v_if="compare === 'swipe'", v_model=("swipe_at", 50), min=0, max=100, step=1, hide_details=True,
                   density="compact", label=said("swipe"), classes="twin-swipe-at", style="max-width: 260px;")



def _footer(footer, about: str) -> None:
    """The page's foot: the busy sign, which city this is, the language, and how the view is worked (in
    place of trame's own links and version numbers, which say nothing to a planner)."""
    footer.clear()
    with footer:
        v3.VProgressCircular(indeterminate=("!!trame__busy",), color="primary", size=16, width=3, classes="ml-n3 mr-2")
        html.Span(about, classes="text-caption text-medium-emphasis twin-about")
        v3.VSpacer()
        # The browser's languages once the page is up (viewer.language); Vuetify's strings follow the page's.
        client.ClientTriggers(mounted="trigger('browser_languages', [window.navigator.languages])")
        client.ClientStateChange(value="lang", change="$vuetify.locale.current = lang", trigger_on_create=True)
        with v3.VBtnToggle(v_model=("lang",), mandatory=True, density="compact", variant="text", divided=True,
                           classes="twin-language mr-2", title=said("language"),
                           style="height: 20px;"):  # no taller than the footer's line: the view keeps its size
            for language in i18n.LANGUAGES:  # each in its own words
                v3.VBtn(i18n.text("viewer.this_language", language), value=language, size="x-small",
                        classes=f"twin-language-{language}")
        with v3.VTooltip(location="top"):
            with v3.Template(v_slot_activator=("{ props }",)):
                v3.VIcon("mdi-help-circle", size=16, classes="mr-2 twin-help", v_bind=("props",))
            with html.Table(classes="text-caption twin-controls"):
                for what in CONTROLS:
                    with html.Tr():
                        html.Td(shown(f"help_{what}"), classes="pr-3 font-weight-bold")
                        html.Td(shown(f"help_{what}_how"))


def _name_value_card(name: str, max_width: int, value_classes: str = "",
                     above: Callable[[], None] | None = None) -> None:
    """A card titled by state ``<name>_title`` listing ``<name>_rows`` ({name, value}), while it has a
    title, closed by its ✕ (the controller's ``<name>_close``); ``above`` makes what goes between the
    title and the list."""
    with v3.VCard(v_if=f"{name}_title", classes=f"twin-{name}", max_width=max_width, style=SCROLL):
        # Vuetify's titles keep to one line, cut: a long title (a building's UUID) wraps instead, and its ✕ stays.
        with v3.VCardTitle(classes="text-subtitle-1 d-flex align-start", style="gap: 4px; white-space: normal;"):
            html.Span(f"{{{{ {name}_title }}}}", classes="flex-1-1", style="overflow-wrap: anywhere; min-width: 0;")
            v3.VBtn(icon="mdi-close", size="x-small", variant="text", density="comfortable",
                    click=f"trigger('{name}_close')", classes=f"twin-{name}-close flex-0-0", title=said("close"))
        if above is not None:
            above()
        with v3.VTable(density="compact"):
            with html.Tbody():
                with html.Tr(v_for=f"row in {name}_rows", key="row.name"):
                    # A Chinese name breaks between words only, as English does (not after any character).
                    html.Td("{{ row.name }}", style="word-break: keep-all;")
                    html.Td("{{ row.value }}", classes=value_classes)


def _history() -> None:
    """A picked feature's history, where it has versions (viewer.tools.versions), the version the slider's year
    shows marked: over its attributes, which may run long and scroll."""
    with html.Div(v_if="picked_versions.length", classes="twin-versions px-4 pb-2 text-caption"):
        html.Div(shown("history"), classes="font-weight-bold")
        with html.Div(v_for="line in picked_versions", key="line.key", classes="d-flex align-start",
                      style="gap: 4px; overflow-wrap: anywhere;"):
            v3.VIcon(icon=(f"({SHOWN}) ? 'mdi-eye' : line.version ? 'mdi-circle-small' : 'mdi-flag-outline'",),
                     size="small", color=(f"({SHOWN}) ? 'primary' : undefined",), classes="flex-0-0")
            html.Span("{{ line.text }}", classes=(f"'twin-version ' + (line.version ? 'twin-version-' + line.key : "
                                                  f"'twin-event') + (({SHOWN}) ? ' twin-version-shown "
                                                  f"font-weight-bold text-primary' : '')",))


def _cards() -> None:
    """Cards over the view's corners, stacked in two columns so they never cover one another: the year,
    what is measured and what an analysis found on the left, what is picked and what changed on the right."""
    with html.Div(classes="twin-cards-left",
                  style=(f"'{COLUMN} left: 12px; max-width: 45%; top: ' + {TOP} + 'px'",)):
        # Its figures are the slider's year's: while comparing, the year labels over the views name the years
        # (side by side, this corner lies over the earlier year, often year B's).
        with v3.VCard(v_if="caption.length && compare === 'off'", classes="twin-caption px-3 py-1",
                      style="opacity: 0.92;"):
            html.Div("{{ caption_year }}", classes="text-h5 font-weight-bold twin-caption-year")
            with html.Div(classes="d-flex flex-wrap text-caption", style="gap: 2px 12px;"):
                with html.Span(v_for="item in caption", key="item.key", classes=("'twin-figure-' + item.key",)):
                    html.Span("{{ item.label }} ")
                    html.B("{{ item.value }}")
        _name_value_card("measure", max_width=380, value_classes="twin-measure-value")
        _name_value_card("analysis", max_width=380, value_classes="twin-analysis-value")
    # The right column may run down to the year bars (year B's ends 120 px above the view's foot): a picked
    # feature's history and attributes and the change panel share it. The left one leaves the legend its corner.
    with html.Div(classes="twin-cards-right",
                  style=(f"'{COLUMN} right: 12px; max-width: 400px; top: ' + {TOP} + 'px; "
                         f"max-height: calc(100% - 128px - ' + {TOP} + 'px)'",)):
        _name_value_card("picked", max_width=360, above=_history)
        # Four columns in the column's 400 px: narrow cell padding, and figures that wrap (their km or floor
        # area under the count) rather than a table wider than its card.
        with v3.VCard(v_if="compare !== 'off' && changes.length", classes="twin-changes pa-2", max_width=400,
                      style=SCROLL):
            # Folded to its title, it leaves the later year's pane (side by side) or side (swipe) open.
            with v3.VCardTitle(classes="text-subtitle-1 pa-1 d-flex align-center"):
                html.Span("{{ changes_title }}")
                v3.VSpacer()
                v3.VBtn(icon=("changes_open ? 'mdi-chevron-up' : 'mdi-chevron-down'",), size="small",
                        variant="text", density="comfortable", click="changes_open = !changes_open",
                        title=("changes_open ? t.changes_fold : t.changes_show",),
                        classes="twin-changes-fold")
            with v3.VTable(v_show="changes_open", density="compact"):
                with html.Thead():
                    with html.Tr():
                        for title in ("layer", "appeared", "disappeared", "altered"):
                            html.Th(shown(f"changes_{title}"), classes="px-2")
                with html.Tbody():
                    with html.Tr(v_for="row in changes", key="row.key", classes=("'twin-change-' + row.key",)):
                        html.Td("{{ row.title }}", classes="px-2")
                        for key in ("appeared", "disappeared", "altered"):
                            html.Td(f"{{{{ row.{key} }}}}", classes=f"twin-{key} px-2")
    with v3.VCard(v_if="empty", classes="twin-empty pa-4", max_width=520,
                  style="position: absolute; top: 40%; left: 50%; transform: translate(-50%, -50%);"):
        v3.VCardTitle(shown("empty_title"))
        v3.VCardText(shown("empty_text"))
    with v3.VCard(v_if="legend.length || analysis_legend.length", classes="twin-legend pa-2", max_width=260,
                  style=(f"'{CARD} left: 12px; max-height: 35%; opacity: 0.92; bottom: ' + {LEGEND_BOTTOM}",)):
        html.Div(shown("legend"), classes="text-caption font-weight-bold")
        # What an analysis highlights first (its colours are over the layers'), then the layers shown.
        for items, classes in (("analysis_legend", "twin-legend-analysis"), ("legend", "")):
            with html.Div(v_for=f"item in {items}", key="item.id", classes=f"d-flex align-center text-caption {classes}"):
                html.Span(v_if="!item.heading",
                          style=("{ background: item.color, width: '12px', height: '12px', borderRadius: item.round ? "
                                 "'6px' : '2px', display: 'inline-block', marginRight: '6px', flex: 'none' }",))
                html.Span("{{ item.title }}", classes=("item.heading ? 'font-weight-medium mt-1' : ''",))
