"""The page's parts of comparing two years (Vuetify 3; what they do is in viewer.tools.compare, the two
views are made in viewer.app): where the views lie, a large year label over each, and the swipe line
with a handle that the mouse drags and the arrow keys move.

The story reads forward in time whichever of A (the slider's year) and B is the earlier: the earlier
year's view on the left side by side, left of the line in swipe, as the change panel reads earlier ->
later. A view does not change size when it changes side, so nothing is drawn again for it.
"""

from __future__ import annotations

from trame.widgets import html
from trame.widgets import vuetify3 as v3

from viewer.language import said

# What each year label calls its year: year B's slider's, or the main slider's.
YEAR_B, SLIDER = said("label_year_b")[0], said("label_slider")[0]
# While comparing, the year labels take a band across the top of the view; the cards start under it.
BAND_PX = 72
B_EARLIER = "year > year_b"  # year B's view on the left (the same year twice: A on the left)
# Where the line between the two years lies, in % of the view's width.
LINE_AT = "(compare === 'side' ? 50 : swipe_at)"

# Side by side two halves; in swipe, year B over the whole view, shown on its side of the line, the mouse
# reaching the main view under it.
VIEW_A = ("{ position: 'absolute', top: 0, bottom: 0, width: compare === 'side' ? '50%' : '100%', "
          f"left: compare === 'side' && {B_EARLIER} ? '50%' : 0 }}")
VIEW_B = (f"compare === 'side' ? {{ position: 'absolute', top: 0, bottom: 0, width: '50%', "
          f"left: {B_EARLIER} ? 0 : '50%' }} : {{ position: 'absolute', inset: 0, pointerEvents: 'none', "
          f"clipPath: {B_EARLIER} ? 'inset(0 ' + (100 - swipe_at) + '% 0 0)' "
          ": 'inset(0 0 0 ' + swipe_at + '%)' }")

# The pointer's place across the view (the handle's parent spans it), in % to a tenth: the line follows
# the mouse smoothly rather than in steps of 1 % (13 px of a 1,300 px view).
POINTER_AT = ("Math.min(100, Math.max(0, Math.round(1000 * ($event.clientX - "
              "$event.currentTarget.parentElement.getBoundingClientRect().left) / "
              "$event.currentTarget.parentElement.clientWidth) / 10))")
# The handle keeps the pointer from pressing to release (pointer capture): a drag moves the line however
# fast the mouse goes, and never reaches the views under it, which would turn the camera.
GRAB = ("$event.currentTarget.setPointerCapture($event.pointerId); $event.currentTarget.focus(); "
        f"swipe_at = {POINTER_AT}")
DRAG = f"$event.currentTarget.hasPointerCapture($event.pointerId) && (swipe_at = {POINTER_AT})"
KEY_STEP = 2  # % of the view's width an arrow key moves the line


def overlay() -> None:
    """The year labels and the line between the two views, over both, while comparing."""
    with html.Div(v_if="compare !== 'off'", classes="twin-compare-overlay",
                  style="position: absolute; inset: 0; overflow: hidden; pointer-events: none;"):
        _label("earlier", year=f"{B_EARLIER} ? year_b : year", name=f"{B_EARLIER} ? {YEAR_B} : {SLIDER}",
               side="{ left: '25%', transform: 'translateX(-50%)' }",
               swipe="{ right: 'calc(' + (100 - swipe_at) + '% + 26px)' }")
        _label("later", year=f"{B_EARLIER} ? year : year_b", name=f"{B_EARLIER} ? {SLIDER} : {YEAR_B}",
               side="{ left: '75%', transform: 'translateX(-50%)' }",
               swipe="{ left: 'calc(' + swipe_at + '% + 26px)' }")
        _line()


def _label(which: str, year: str, name: str, side: str, swipe: str) -> None:
    """A year's label: in the middle of its pane's top side by side, beside the line in swipe."""
    with html.Div(classes=f"twin-year-label twin-year-label-{which} d-flex align-baseline elevation-2 "
                          "rounded-lg px-3",
                  style=("[{ position: 'absolute', top: '12px', whiteSpace: 'nowrap', background: "
                         f"'rgba(255, 255, 255, 0.92)' }}, compare === 'side' ? {side} : {swipe}]",)):
        html.Span(f"{{{{ {year} }}}}", classes="text-h4 font-weight-bold twin-year-label-year")
        html.Span(f"{{{{ {name} }}}}", classes="text-caption text-medium-emphasis ml-2")


def _line() -> None:
    """The white line between the two years; in swipe, a strip 24 px wide around it, with a knob beside
    the labels, drags it (and, focused, the arrow keys, Home and End move it)."""
    with html.Div(classes="twin-swipe-handle", role="slider",
                  aria_label=said("swipe_line"), aria_valuemin="0", aria_valuemax="100",
                  aria_valuenow=("swipe_at",), tabindex=("compare === 'swipe' ? 0 : -1",),
                  style=("{ position: 'absolute', top: 0, bottom: 0, width: '24px', left: 'calc(' + "
                         f"{LINE_AT} + '% - 12px)', pointerEvents: compare === 'swipe' ? 'auto' : 'none', "
                         "cursor: 'ew-resize', touchAction: 'none', userSelect: 'none', outline: 'none' }",),
                  pointerdown=GRAB, pointermove=DRAG,
                  keydown_left=f"swipe_at = Math.max(0, Math.round(swipe_at) - {KEY_STEP})",
                  keydown_right=f"swipe_at = Math.min(100, Math.round(swipe_at) + {KEY_STEP})",
                  keydown_home="swipe_at = 0", keydown_end="swipe_at = 100",
                  __properties=[("aria_label", "aria-label"), ("aria_valuemin", "aria-valuemin"),
                                ("aria_valuemax", "aria-valuemax"), ("aria_valuenow", "aria-valuenow"),
                                "role", "tabindex"],
                  __events=[("pointerdown", "pointerdown.prevent"), "pointermove",
                            *((f"keydown_{key}", f"keydown.{key}.prevent")
                              for key in ("left", "right", "home", "end"))]):
        html.Div(classes="twin-swipe-line",
                 style="position: absolute; top: 0; bottom: 0; left: 11px; width: 2px; background: white;")
        # Laid out inline, not with Vuetify's d-flex, whose !important would defeat v-show's display: none.
        with html.Div(v_show="compare === 'swipe'", classes="twin-swipe-knob elevation-3",
                      style="position: absolute; top: 16px; left: -6px; width: 36px; height: 36px; "
                            "display: flex; align-items: center; justify-content: center; "
                            "border-radius: 18px; background: white;"):
            v3.VIcon("mdi-arrow-left-right", size="small")
