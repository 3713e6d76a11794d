"""The view's tools: what a click, the toolbar or the camera do in the 3D view (their buttons and cards
are laid out in :mod:`viewer.panels.ui`). They work on the meshes of :mod:`viewer.scene`.

- :mod:`.clicks`: a click in the view: inspect, measure or give the analyses a point, as the mode says
- :mod:`.picking`: what is under the cursor, mapped back to the feature's row in PostGIS
- :mod:`.versions`: a picked feature's history, one line per version
- :mod:`.measure`: distances, a building's height, a pipe's depth below ground
- :mod:`.section`: the section plane that cuts the scene away east or north of it
- :mod:`.viewpoints`: named viewpoints worked out from the data, and the search that frames a feature
- :mod:`.compare`: two years at once: a second view of year B beside or under a swipe, and what changed
- :mod:`.depth_scale`: underground, a ruler of true depths at the view's centre and labels of utility and depth
- :mod:`.labels`: text drawn at points of the scene (the ruler's, the section's)
- :mod:`.readout`: a feature's values as the picked card shows them
"""
