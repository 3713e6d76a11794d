"""The generated city written in the formats real cities deliver, and the manifest that says which file
goes into which layer (in the order ``twin demo`` imports them: terrain first, for the pipes' heights)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import rasterio
import shapely
from pyproj import Transformer

from twin.ecocity.buildings import Building
from twin.ecocity.networks import DRAINAGE, TUNNEL, UTILITIES, Fitting, Pipe, diameter_m
from twin.ecocity.plan import CRS, Plan
from twin.ecocity.rasters import ground_height, grid

# GeoPackages record when they were written; a fixed date keeps a seed's files byte for byte the same.
FIXED_DATE = {"OGR_CURRENT_DATE": "2020-12-31T00:00:00Z"}


def gpkg(path: Path, records: list[dict], layer: str) -> None:
    frame = gpd.GeoDataFrame([{k: v for k, v in r.items() if k != "geometry"} for r in records],
                             geometry=[r["geometry"] for r in records], crs=CRS)
    pyogrio.set_gdal_config_options(FIXED_DATE)
    try:
        pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG")
    finally:
        pyogrio.set_gdal_config_options({key: None for key in FIXED_DATE})


def geojson(path: Path, records: list[dict]) -> None:
    """RFC 7946 GeoJSON: WGS84 longitude/latitude, 7 decimals (1 cm)."""
    to_wgs84 = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    features = []
    for record in records:
        x, y = to_wgs84.transform(record["geometry"].x, record["geometry"].y)
        properties = {k: v for k, v in record.items() if k not in ("geometry", "year")}
        properties["install_year"] = record["year"]
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(x, 7), round(y, 7)]},
                         "properties": properties})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False,
                               sort_keys=True), encoding="utf-8")


def buildings_gpkg(path: Path, buildings: list[Building]) -> None:
    """Survey-style field names (编号, 层数, 建筑高度, 用途, 建成年代, 建筑面积)."""
    gpkg(path, [{"编号": b.id, "层数": b.floors, "建筑高度": round(b.height, 2), "用途": b.use, "建成年代": b.build_year,
                 "建筑面积": round(b.floor_area, 1), "geometry": b.footprint} for b in buildings], "buildings")


def buildings_cityjson(path: Path, buildings: list[Building]) -> None:
    """CityJSON 2.0, LOD1 solids standing on the DEM, with the build year."""
    origin = np.array([buildings[0].footprint.bounds[0], buildings[0].footprint.bounds[1], 0.0]) if buildings else np.zeros(3)
    vertices: list[list[int]] = []
    objects: dict[str, dict] = {}
    for b in buildings:
        ring = np.asarray(b.footprint.exterior.coords)[:-1]
        if not b.footprint.exterior.is_ccw:
            ring = ring[::-1]
        c = b.footprint.centroid
        ground = float(ground_height(np.array([c.x]), np.array([c.y]))[0])
        base = len(vertices)
        for z in (ground, ground + b.height):
            vertices += [list(np.round((np.array([x, y, z]) - origin) * 1000).astype(int).tolist()) for x, y in ring]
        n = len(ring)
        bottom = [list(range(base, base + n))[::-1]]
        top = [list(range(base + n, base + 2 * n))]
        walls = [[[base + i, base + (i + 1) % n, base + n + (i + 1) % n, base + n + i]] for i in range(n)]
        objects[b.id] = {"type": "Building", "attributes": {
            "measuredHeight": round(b.height, 2), "yearOfConstruction": b.build_year,
            "storeysAboveGround": b.floors, "function": b.use},
            "geometry": [{"type": "Solid", "lod": "1", "boundaries": [[bottom, top, *walls]]}]}
    document = {"type": "CityJSON", "version": "2.0",
                "transform": {"scale": [0.001, 0.001, 0.001], "translate": origin.tolist()},
                "metadata": {"referenceSystem": "https://www.opengis.net/def/crs/EPSG/0/4548",
                             "title": "Sino-Singapore Tianjin Eco-city (synthetic), buildings LOD1"},
                "CityObjects": objects, "vertices": vertices}
    path.write_text(json.dumps(document, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def pipes_gpkg(path: Path, pipes: list[Pipe], utility: str) -> None:
    """A CJJ 61 survey of one network, with the field names Chinese surveys use."""
    spec = UTILITIES[utility]
    records = []
    for pipe in pipes:
        (x0, y0), (x1, y1) = pipe.line.coords[0], pipe.line.coords[-1]
        record = {"管线编号": pipe.id, "管线类型": spec["zh"], "材质": spec["material"],
                  "管径": pipe.size if isinstance(pipe.size, str) else f"DN{int(pipe.size)}",
                  "起点埋深": round(pipe.start_depth, 3), "终点埋深": round(pipe.end_depth, 3),
                  "建设年代": pipe.install_year, "权属单位": spec["owner"], "压力": spec["pressure"],
                  "所在管廊": pipe.tunnel, "geometry": pipe.line}
        if utility in DRAINAGE:
            ground = ground_height(np.array([x0, x1]), np.array([y0, y1]))
            record["起点管底高程"] = round(float(ground[0] - pipe.start_depth), 3)
            record["终点管底高程"] = round(float(ground[1] - pipe.end_depth), 3)
        records.append(record)
    gpkg(path, records, utility)


def epanet(path: Path, pipes: list[Pipe]) -> None:
    """The water-supply network as an EPANET model (SI units: LPS, mm, m); junctions at the pipes'
    centre-line elevations, so the network is 3D."""
    nodes: dict[tuple[float, float], tuple[str, float]] = {}
    lines = ["[TITLE]", "Sino-Singapore Tianjin Eco-city (synthetic) water supply, EPSG:4548", "",
             "[JUNCTIONS]", ";ID\tElev\tDemand"]
    pipe_rows = []
    for pipe in pipes:
        ids = []
        for (x, y), depth in ((pipe.line.coords[0], pipe.start_depth), (pipe.line.coords[-1], pipe.end_depth)):
            key = (round(x, 2), round(y, 2))
            if key not in nodes:
                elevation = float(ground_height(np.array([x]), np.array([y]))[0]) - depth - diameter_m(pipe.size) / 2
                nodes[key] = (f"J{len(nodes) + 1}", elevation)
            ids.append(nodes[key][0])
        pipe_rows.append(f"{pipe.id}\t{ids[0]}\t{ids[1]}\t{pipe.line.length:.2f}\t{float(pipe.size):.0f}\t130\t0\tOpen")
    lines += [f"{name}\t{elevation:.3f}\t0.1" for name, elevation in nodes.values()]
    lines += ["", "[PIPES]", ";ID\tNode1\tNode2\tLength\tDiameter\tRoughness\tMinorLoss\tStatus", *pipe_rows,
              "", "[OPTIONS]", "Units\tLPS", "Headloss\tH-W", "", "[COORDINATES]", ";Node\tX-Coord\tY-Coord"]
    lines += [f"{name}\t{x:.2f}\t{y:.2f}" for (x, y), (name, _) in nodes.items()]
    lines += ["", "[END]", ""]
    path.write_text("\n".join(lines), encoding="ascii")


def opencellid(path: Path, stations: list[dict]) -> None:
    """NR cells as a per-country OpenCelliD export (no header row), MCC 460 (China)."""
    to_wgs84 = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    rows = []
    for index, station in enumerate(stations):
        lon, lat = to_wgs84.transform(station["geometry"].x, station["geometry"].y)
        created = {2019: 1561939200, 2020: 1593561600}[station["year"]] + index * 3600
        rows.append(f"NR,460,{station['mnc']},{10100 + index % 7},{4611686 + index},0,{lon:.6f},{lat:.6f},"
                    f"500,20,1,{created},1608768000,0")
    path.write_text("\n".join(rows) + "\n", encoding="ascii")


def fittings_gpkg(path: Path, fittings: list[Fitting], layer: str) -> None:
    records = []
    for f in fittings:
        record = {"id": f.id, "utility": f.utility, "depth_m": round(f.depth, 3), "install_year": f.install_year,
                  "geometry": f.point}
        if layer == "valves":
            record.update(valve_type="gate", diameter_mm=f.diameter, normally_open=True)
        records.append(record)
    gpkg(path, records, layer)


def tunnels_gpkg(path: Path, tunnels: list[tuple[str, shapely.LineString, int]]) -> None:
    gpkg(path, [{"id": tid, "install_year": year, "owner": "生态城管廊公司", **TUNNEL, "geometry": line}
                for tid, line, year in tunnels], "utility_tunnels")


def raster(path: Path, plan: Plan, data: np.ndarray, nodata: float | None = None) -> None:
    transform, width, height = grid(plan)
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=1, dtype=data.dtype,
                       crs=CRS, transform=transform, nodata=nodata, compress="deflate", tiled=True) as dataset:
        dataset.write(data, 1)
