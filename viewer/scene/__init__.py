"""Building the scene from PostGIS: one merged mesh per layer (never an actor per feature), with each
cell's feature and years as cell data, the ground dressed with its rasters, and the shown copy of each
mesh that keeps the features standing in a year. Imports nothing else of the viewer.

- :mod:`.build`: the scene (:func:`~viewer.scene.build.build`): every layer's mesh, the ground, the origin
- :mod:`.layer_mesh`: what every layer's mesh carries (each cell's feature and its years)
- :mod:`.buildings`: buildings as one mesh: their LOD2 surfaces, else extruded footprints (LOD1)
- :mod:`.areas`: areas lying on the terrain (water, parks, grids, road ribbons), cut along the DEM's grid
- :mod:`.terrain_mesh`: the ground: the DEM as a surface with texture coordinates
- :mod:`.ground_textures`: what the rasters dressing the ground share (registration, texel grid, texture)
- :mod:`.land_cover`: the land cover of each year as a texture on the ground
- :mod:`.orthophoto`: the orthophotos as the ground's texture
- :mod:`.timeline`: the city in any year (the rule of :mod:`twin.time`) without rebuilding a mesh
"""
