"""The page around the 3D view (Vuetify 3) and what its panels do: the layout, the year slider and
replay, and the analyses panel, which runs :mod:`twin.analyses` in this process and draws its answer
over the scene.

- :mod:`.ui`: the page's layout: toolbar, layer panel, cards over the view (what they do is in viewer.app)
- :mod:`.years`: the year slider, its caption with the year's figures, and the replay in the viewer
- :mod:`.analyses_ui`: the analyses panel's layout: the choice of analysis, its inputs, its list
- :mod:`.analyses_panel`: the analyses panel's state and handlers: run an analysis, highlight and list it
- :mod:`.analysis_results`: what the panel makes of each analysis's answer (highlight, figures, list)
- :mod:`.overlay`: the analyses' highlights in 3D, one merged mesh and actor per kind of result
"""
