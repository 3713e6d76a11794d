"""The analyses panel's layout (Vuetify 3), in the drawer: the choice of analysis, its inputs, run and
clear, the 5G legend and the list of what it found (its figures are a name/value card of viewer.panels.ui's over
the view). What the controls do is in :mod:`viewer.panels.analyses_panel`."""

from __future__ import annotations

from trame.widgets import html
from trame.widgets import vuetify3 as v3

from viewer.language import said, shown

# The analyses, in the choice's order; their names and hints are the viewer's messages analysis_<key>
# and hint_<key>.
ANALYSES = ("hydrants", "nearest", "clearance", "burst", "coverage", "changes")


def controls(ctrl) -> None:
    """The panel in the drawer."""
    items = "[" + ", ".join(f"{{title: {said(f'analysis_{key}')[0]}, value: '{key}'}}" for key in ANALYSES) + "]"
    with v3.VExpansionPanels(flat=True, classes="twin-analyses"):
        with v3.VExpansionPanel(title=said("analyses"), classes="twin-analyses-panel"):
            with v3.VExpansionPanelText():
                v3.VSelect(v_model=("analysis", "hydrants"), items=(items,), density="compact", hide_details=True,
                           label=said("analysis"), classes="twin-analysis-choice")
                for key in ANALYSES:
                    html.Div(shown(f"hint_{key}"), v_if=f"analysis === '{key}'", classes="text-caption my-2 twin-analysis-hint")
                with html.Div(v_if="analysis === 'nearest'", classes="d-flex align-center"):
                    v3.VBtn(shown("mode_point"), click="mode = 'point'", prepend_icon="mdi-map-marker", size="small",
                            variant="tonal", classes="twin-analysis-point mr-2")
                    v3.VSelect(v_model=("analysis_n", 3), items=("[1, 2, 3, 4, 5]",), label=said("of_each"), density="compact",
                               hide_details=True, classes="twin-analysis-n")
                v3.VCheckbox(v_if="analysis === 'clearance'", v_model=("analysis_in_view", False), density="compact",
                             hide_details=True, label=said("only_in_view"), classes="twin-analysis-in-view")
                _years_to_compare()
                with html.Div(classes="d-flex mt-2", style="gap: 8px;"):
                    v3.VBtn(shown("run"), click=ctrl.analysis_run, loading=("analysis_busy",), color="primary", size="small",
                            classes="twin-analysis-run")
                    v3.VBtn(shown("clear"), click=ctrl.analysis_clear, size="small", variant="outlined",
                            disabled=("!analysis_title",), classes="twin-analysis-clear")
                with html.Div(v_if="analysis_busy", classes="twin-analysis-busy mt-2"):
                    v3.VProgressLinear(indeterminate=True, color="primary")
                    html.Div(shown("computing"), classes="text-caption")
                v3.VAlert(v_if="analysis_message", text=("analysis_message",), type="warning", density="compact",
                          variant="tonal", classes="twin-analysis-message mt-2")
                _found(ctrl)
    v3.VDivider()


def _years_to_compare() -> None:
    """Year B of the changes analysis: the compare view's own, so that Compare shows the same two years."""
    with html.Div(v_if="analysis === 'changes' && year_first", classes="twin-analysis-years"):
        v3.VSlider(v_model=("year_b", 2008), min=("year_first",), max=("year_last",), step=1, show_ticks="always",
                   tick_size=3, hide_details=True, density="compact", label=said("year_b"), thumb_label=True,
                   classes="twin-analysis-year-b")
        with html.Div(classes="d-flex align-center"):
            # Earlier first, as the change is computed and the compare view reads, whichever is year B.
            html.Span("{{ Math.min(year, year_b) }} → {{ Math.max(year, year_b) }}",
                      classes="text-caption twin-analysis-years-value")
            v3.VSpacer()
            v3.VBtn(shown("compare_two_years"), click="compare = 'side'", size="small", variant="tonal",
                    prepend_icon="mdi-compare", classes="twin-analysis-compare")


def _found(ctrl) -> None:
    """What the analysis found, under its controls (the drawer scrolls; the cards over the view would
    crowd it): the 5G legend and the list, each entry flying to its place."""
    with html.Div(v_if="analysis_title", classes="twin-analysis-found mt-2"):
        with html.Div(v_if="analysis_ramp", classes="twin-analysis-legend text-caption"):
            html.Div(style=("{ background: analysis_ramp_css, height: '10px', borderRadius: '2px' }",))
            with html.Div(classes="d-flex"):
                html.Span(shown("covered_none"))
                v3.VSpacer()
                html.Span("100 %")
            html.Div(shown("no_buildings"))
        with v3.VList(density="compact", classes="twin-analysis-items"):
            # Two lines of detail: the drawer is narrow, and a detail cut short loses its last figure.
            v3.VListItem(v_for="item in analysis_items", key="item.key", title=("item.label",), lines="two",
                         subtitle=("item.detail",), click=(ctrl.analysis_go, "[item.key]"), classes="twin-analysis-item")
        html.Div("{{ t.analysis_more.replace('{count}', analysis_more.toLocaleString()) }}", v_if="analysis_more",
                 classes="text-caption twin-analysis-more")
