"""How the scene looks, the same in the viewer and in ``twin replay``'s video: a sky, a sun with a fill
light and some ambient light, how each layer's surfaces take the light, the year written large while
the city grows, and point symbols' dots thinned where they would carpet the view.

Soft light from a light kit, not screen-space effects: in software rendering (Mesa llvmpipe) eye-dome
lighting took a frame of the Eco-city from 228 to 639 ms and darkened the whole picture, ambient
occlusion (16 samples) from 297 to 349 ms for shading hardly seen at the overview (measured at
1340x880, load 5); both also draw through render passes that hardware picking does not go through.
"""

from __future__ import annotations

import math

import pyvista as pv
import vtk

from twin.catalog import Layer
from viewer.scene.layer_mesh import LayerMesh
from viewer.scene.timeline import Timeline

SKY = ("#e4edf4", "#7ea6d2")  # at the horizon (the picture's foot) and overhead (its top)
# The sun from the south-east, high enough to light the roofs and one side of every street; the fill
# light at the camera keeps the walls turned from the sun readable; the ambient share lifts the shadows.
SUN_AZIMUTH, SUN_ELEVATION, SUN = 135.0, 50.0, 0.75  # degrees from the north, degrees, intensity
FILL = 0.35
AMBIENT, DIFFUSE = 0.3, 0.7
SPECULAR_POWER = 25.0
# The year while the city grows, this share of the picture's height; white over a dark shadow reads on
# the sky and on the city alike.
YEAR_HEIGHT = 0.13
YEAR_PLACE = (0.975, 0.955)  # its upper right corner, a share of the picture's width and height
# A point layer's dots are thinned to stand about this far apart on screen: at the overview the Eco-city's
# 4,593 cameras (47 m apart) were a carpet of dots 7 px apart over the buildings, with its hydrants,
# lamp poles and sensors; its four hospitals (1.5 km apart) keep every dot at any distance. Never fewer
# than a share of FEWEST_DOTS: a twin of manholes alone still shows them from afar.
DOTS_APART_PX = 20.0
FEWEST_DOTS = 1 / 64


def dress(plotter: pv.Plotter) -> None:
    """The sky and the lights."""
    plotter.set_background(SKY[0], top=SKY[1])
    plotter.remove_all_lights()
    sun = pv.Light(light_type="scene light", intensity=SUN)
    azimuth, elevation = math.radians(SUN_AZIMUTH), math.radians(SUN_ELEVATION)
    sun.position = (math.sin(azimuth) * math.cos(elevation), math.cos(azimuth) * math.cos(elevation),
                    math.sin(elevation))
    sun.focal_point = (0.0, 0.0, 0.0)
    sun.positional = False
    plotter.add_light(sun)
    plotter.add_light(pv.Light(light_type="headlight", intensity=FILL))


def finish(actor: vtk.vtkActor, layer: Layer | None) -> None:
    """How the actor's surfaces take the light: ambient and diffuse alike, the layer's shine (water's)."""
    prop = actor.GetProperty()
    prop.SetAmbient(AMBIENT)
    prop.SetDiffuse(DIFFUSE)
    shine = layer.style.specular if layer is not None else 0.0
    prop.SetSpecular(shine)
    prop.SetSpecularPower(SPECULAR_POWER)


class YearTitle:
    """The year in large figures in the picture's upper right corner, sized to the picture."""

    def __init__(self, plotter: pv.Plotter) -> None:
        self.actor = vtk.vtkTextActor()
        text = self.actor.GetTextProperty()
        text.SetColor(1.0, 1.0, 1.0)
        text.BoldOn()
        text.ShadowOn()
        text.SetShadowOffset(2, -2)
        text.SetJustificationToRight()
        text.SetVerticalJustificationToTop()
        self.actor.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
        self.actor.SetPosition(*YEAR_PLACE)
        self.actor.SetVisibility(False)
        self.actor.SetPickable(False)
        plotter.renderer.AddViewProp(self.actor)
        plotter.renderer.AddObserver("StartEvent", self._fit)

    def show(self, year: int | None) -> None:
        """``year`` written, or (None) nothing."""
        self.actor.SetVisibility(year is not None)
        if year is not None:
            self.actor.SetInput(str(year))

    def _fit(self, renderer: vtk.vtkRenderer, event: str) -> None:
        height = renderer.GetSize()[1]
        # A font's size is its line's height; the figures themselves stand about 0.72 of it.
        self.actor.GetTextProperty().SetFontSize(max(12, round(YEAR_HEIGHT * height / 0.72)))


class Dots:
    """Thins point layers' dots while their features would stand closer than DOTS_APART_PX on screen,
    judged at every render from how many metres a pixel spans at the camera's focal point; in halvings
    of the share kept, so that a zoom redraws the dots only now and then."""

    def __init__(self, renderer: vtk.vtkRenderer, meshes: dict[str, LayerMesh], timeline: Timeline) -> None:
        self.timeline = timeline
        self.spacing = {layer_id: made.spacing for layer_id, made in meshes.items()
                        if made.layer.geometry == "point" and isinstance(made.mesh, pv.PolyData)}
        renderer.AddObserver("StartEvent", self._judge)

    def _judge(self, renderer: vtk.vtkRenderer, event: str) -> None:
        camera = renderer.GetActiveCamera()
        height = max(renderer.GetSize()[1], 1)
        if camera.GetParallelProjection():
            metres = 2 * camera.GetParallelScale() / height
        else:
            metres = 2 * camera.GetDistance() * math.tan(math.radians(camera.GetViewAngle()) / 2) / height
        for layer_id, apart in self.spacing.items():
            wanted = min(1.0, (apart / metres / DOTS_APART_PX) ** 2)  # kept dots stand 1/sqrt(share) as far apart
            self.timeline.dots(layer_id, 2.0 ** -math.ceil(-math.log2(max(wanted, FEWEST_DOTS))))
