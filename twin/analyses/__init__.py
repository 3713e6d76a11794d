"""The analyses planners and pipeline managers ask of the twin, each a function of a psycopg connection
and its parameters that answers a :class:`~twin.analyses.results.Result` in the twin's CRS (the service
serves it as WGS84 GeoJSON, the viewer highlights it as it is), cached in the database
(:mod:`.cache`) until an import changes what it read:

- :mod:`.hydrants`: hydrant coverage (GB 50974): buildings beyond 150 m, road stretches without hydrants
- :mod:`.nearest`: the nearest police stations, fire brigades and hospitals, straight and along the roads
- :mod:`.clearance`: pipes closer than the GB 50289 clearance for their two utilities
- :mod:`.burst`: the valves to close, the pipes isolated and the buildings cut off by a burst water pipe
- :mod:`.coverage5g`: the share of buildings and floor area within range of a 5G station, per grid and year
- :mod:`.changes`: what appeared and disappeared between two years

:mod:`.params` checks parameters (a :class:`twin.errors.ParameterError` names the one at fault),
:mod:`.queries` holds what their SQL shares, :mod:`.graph` walks networks.
"""
