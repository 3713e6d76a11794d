"""The analyses panel's layout (Vuetify 3), in the drawer: the choice of analysis, its inputs, run and
clear, the 5G legend and the list of what it found (its figures are a name/value card of viewer.panels.ui's over
the view). What the controls do is in :mod:`viewer.panels.analyses_panel`."""

from __future__ import annotations

from trame.widgets import html
from trame.widgets import vuetify3 as v3

ANALYSES = (("hydrants", "Hydrant coverage"), ("nearest", "Nearest emergency resources"),
            ("clearance", "Pipe clearance"), ("burst", "Burst isolation"), ("coverage", "5G coverage"),
            ("changes", "Changes between two years"))
HINTS = {
    "hydrants": "Buildings farther than 150 m from a hydrant (orange-red) and roads with hydrants more than "
                "120 m apart (sky blue), in the slider's year.",
    "nearest": "Choose Point and click the view (or run on the last point clicked): the nearest police, fire "
               "and hospitals, and the roads there.",
    "clearance": "Pipes of different utilities closer than GB 50289 allows (orange-red, the places yellow), in "
                 "the slider's year, listed place by place (a run along the same two networks is one place), "
                 "the worst first.",
    "burst": "In underground mode, click a water supply pipe, then run: valves to close (green), pipes "
             "isolated (yellow), buildings cut off (purple).",
    "coverage": "Management grids by their share of buildings within reach of a 5G station, in the slider's year "
                "(dark purple none, teal half, yellow all).",
    "changes": "What appeared (blue), disappeared (orange-red) and was altered (purple: another version, as a later "
               "survey found it) between the slider's year and year B, whichever comes first; Compare shows "
               "the two years side by side.",
}


def controls(ctrl) -> None:
    """The panel in the drawer."""
    # A JS literal inside a double-quoted attribute: Python's repr quotes with ' (no title holds one).
    items = repr([{"title": title, "value": key} for key, title in ANALYSES])
    with v3.VExpansionPanels(flat=True, classes="twin-analyses"):
        with v3.VExpansionPanel(title="Analyses", classes="twin-analyses-panel"):
            with v3.VExpansionPanelText():
                v3.VSelect(v_model=("analysis", "hydrants"), items=(items,), density="compact", hide_details=True,
                           label="Analysis", classes="twin-analysis-choice")
                for key, hint in HINTS.items():
                    html.Div(hint, v_if=f"analysis === '{key}'", classes="text-caption my-2 twin-analysis-hint")
                with html.Div(v_if="analysis === 'nearest'", classes="d-flex align-center"):
                    v3.VBtn("Point", click="mode = 'point'", prepend_icon="mdi-map-marker", size="small",
                            variant="tonal", classes="twin-analysis-point mr-2")
                    v3.VSelect(v_model=("analysis_n", 3), items=("[1, 2, 3, 4, 5]",), label="Of each", density="compact",
                               hide_details=True, classes="twin-analysis-n")
                v3.VCheckbox(v_if="analysis === 'clearance'", v_model=("analysis_in_view", False), density="compact",
                             hide_details=True, label="Only around the current view", classes="twin-analysis-in-view")
                _years_to_compare()
                with html.Div(classes="d-flex mt-2", style="gap: 8px;"):
                    v3.VBtn("Run", click=ctrl.analysis_run, loading=("analysis_busy",), color="primary", size="small",
                            classes="twin-analysis-run")
                    v3.VBtn("Clear", click=ctrl.analysis_clear, size="small", variant="outlined",
                            disabled=("!analysis_title",), classes="twin-analysis-clear")
                with html.Div(v_if="analysis_busy", classes="twin-analysis-busy mt-2"):
                    v3.VProgressLinear(indeterminate=True, color="primary")
                    html.Div("Computing…", classes="text-caption")
                v3.VAlert(v_if="analysis_message", text=("analysis_message",), type="warning", density="compact",
                          variant="tonal", classes="twin-analysis-message mt-2")
                _found(ctrl)
    v3.VDivider()


def _years_to_compare() -> None:
    """Year B of the changes analysis: the compare view's own, so that Compare shows the same two years."""
    with html.Div(v_if="analysis === 'changes' && year_first", classes="twin-analysis-years"):
        v3.VSlider(v_model=("year_b", 2008), min=("year_first",), max=("year_last",), step=1, show_ticks="always",
                   tick_size=3, hide_details=True, density="compact", label="Year B", thumb_label=True,
                   classes="twin-analysis-year-b")
        with html.Div(classes="d-flex align-center"):
            # Earlier first, as the change is computed and the compare view reads, whichever is year B.
            html.Span("{{ Math.min(year, year_b) }} → {{ Math.max(year, year_b) }}",
                      classes="text-caption twin-analysis-years-value")
            v3.VSpacer()
            v3.VBtn("Compare two years", click="compare = 'side'", size="small", variant="tonal",
                    prepend_icon="mdi-compare", classes="twin-analysis-compare")


def _found(ctrl) -> None:
    """What the analysis found, under its controls (the drawer scrolls; the cards over the view would
    crowd it): the 5G legend and the list, each entry flying to its place."""
    with html.Div(v_if="analysis_title", classes="twin-analysis-found mt-2"):
        with html.Div(v_if="analysis_ramp", classes="twin-analysis-legend text-caption"):
            html.Div(style=("{ background: analysis_ramp_css, height: '10px', borderRadius: '2px' }",))
            with html.Div(classes="d-flex"):
                html.Span("0 % covered")
                v3.VSpacer()
                html.Span("100 %")
            html.Div("grey: no buildings in the grid")
        with v3.VList(density="compact", classes="twin-analysis-items"):
            # Two lines of detail: the drawer is narrow, and a detail cut short loses its last figure.
            v3.VListItem(v_for="item in analysis_items", key="item.key", title=("item.label",), lines="two",
                         subtitle=("item.detail",), click=(ctrl.analysis_go, "[item.key]"), classes="twin-analysis-item")
        html.Div("and {{ analysis_more.toLocaleString() }} more", v_if="analysis_more",
                 classes="text-caption twin-analysis-more")
