"""The 3D viewer: a trame app that renders the twin on the server and shows it in the browser.

Its entry points are here; the rest is grouped by concern:

- :mod:`.app`: the trame app (``python -m viewer.app``): builds the scene, wires the tools and panels
- :mod:`.launcher`: a viewer process per browser, behind one port (``twin serve``)
- :mod:`.render`: the off-screen render windows and the actors that draw a scene's layers
- :mod:`.replay`: ``twin replay``, the city's growth rendered into a video
- :mod:`.scene`: building the scene from PostGIS, and showing it as it stood in any year
- :mod:`.tools`: the view's tools: picking, measuring, the section plane, viewpoints, comparing two years
- :mod:`.panels`: the page around the view: its layout, the year slider, the analyses panel
"""
