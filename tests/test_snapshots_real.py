"""Snapshots of real samples from ../shared/data/real/, edited here into a later edition: the changes the
test made are the changes the twin records, matched by the source's ids where it has them and by
footprint where it has none; undo puts the store back. Skipped, with the reason, without ../shared."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from test_snapshots import store_checksum

EARLIER, LATER = "2016-01-01", "2024-01-01"


def test_fortaleza_hydrants_matched_by_their_ids(make_twin, real_copy, tmp_path: Path) -> None:
    path = real_copy("water/fortaleza_hydrants.geojson")
    twin = make_twin("EPSG:31984")  # SIRGAS 2000 / UTM 24S
    hydrants = gpd.read_file(path)
    rng = np.random.default_rng(14)
    rows = rng.permutation(len(hydrants))
    gone, readdressed, moved = rows[:12], rows[12:20], rows[20:25]
    edition = hydrants.copy()
    edition.loc[readdressed, "endereco"] = edition.loc[readdressed, "endereco"] + " (renumbered)"
    metres = edition.to_crs(31984)
    metres.loc[moved, "geometry"] = shapely.transform(metres.geometry[moved].to_numpy(), lambda xy: xy + 3.0)
    edition = metres.to_crs(4326).drop(index=gone)
    added = hydrants.iloc[:4].copy()
    added["gid"] = np.arange(1000, 1004)
    added["geometry"] = shapely.transform(hydrants.geometry.iloc[:4].to_numpy(), lambda xy: xy + 0.002)
    later = tmp_path / "hydrants_later.geojson"
    gpd.GeoDataFrame(pd.concat([edition, added]), crs=4326).to_file(later, driver="GeoJSON")
    flags = ("--layer", "smart_hydrants", "--source", "cagece", "--map", "endereco=address")
    twin.run("import", str(path), *flags, "--as-of", EARLIER)
    before = store_checksum(twin, "smart_hydrants")
    result = twin.run("import", str(later), *flags, "--as-of", LATER)
    assert f"snapshot as of {LATER}: 4 new, 13 altered, 12 vanished, 221 unchanged" in result.stderr
    assert "matched by footprint" not in result.stderr  # the later edition's gids are ids, not row numbers
    gone_ids = sorted(str(gid) for gid in hydrants.gid[gone])
    assert twin.sql("SELECT source_id FROM layers.smart_hydrants WHERE valid_to = %s AND version = 1 "
                    "AND NOT EXISTS (SELECT 1 FROM layers.smart_hydrants v WHERE v.source_id = smart_hydrants.source_id "
                    "AND v.version = 2) ORDER BY source_id", date(2024, 1, 1)) == [(i,) for i in gone_ids]
    readdressed_ids = {str(gid) for gid in hydrants.gid[readdressed]}
    assert {row[0] for row in twin.sql("SELECT source_id FROM layers.smart_hydrants WHERE version = 2 "
                                      "AND address LIKE '%(renumbered)'")} == readdressed_ids
    twin.run("import", "--undo", twin.sql("SELECT max(id)::text FROM twin.imports")[0][0])
    assert store_checksum(twin, "smart_hydrants") == before


def test_montpelier_manholes_without_ids_matched_by_footprint(make_twin, real_copy, tmp_path: Path) -> None:
    path = real_copy("sewer/montpelier_points.geojson")
    twin = make_twin("EPSG:32145")  # NAD83 / Vermont
    points = gpd.read_file(path).to_crs(32145)
    points = points[~points.geometry.duplicated()].reset_index(drop=True)  # a footprint names one manhole
    earlier = tmp_path / "manholes_earlier.geojson"
    points.to_file(earlier, driver="GeoJSON")
    rng = np.random.default_rng(14)
    rows = rng.permutation(len(points))
    gone, resurveyed, relaid, retyped = rows[:20], rows[20:25], rows[25:28], rows[28:38]
    edition = points.copy()
    edition.loc[retyped, "Type"] = "Relined"
    edition.loc[resurveyed, "geometry"] = shapely.transform(edition.geometry[resurveyed].to_numpy(), lambda xy: xy + 0.2)
    edition.loc[relaid, "geometry"] = shapely.transform(edition.geometry[relaid].to_numpy(), lambda xy: xy + 30.0)
    edition = edition.drop(index=gone).sample(frac=1.0, random_state=3)  # another export, another row order
    later = tmp_path / "manholes_later.geojson"
    edition.to_file(later, driver="GeoJSON")
    flags = ("--layer", "manholes", "--source", "city", "--map", "Type=material")
    twin.run("import", str(earlier), *flags, "--as-of", EARLIER)
    before = store_checksum(twin, "manholes")
    result = twin.run("import", str(later), *flags, "--as-of", LATER)
    # Relaid 30 m away: another manhole (3 new, 3 more vanished); resurveyed 0.2 m off: the same, moved.
    unchanged = len(points) - 20 - 5 - 3 - 10
    assert f"3 new, 15 altered, 23 vanished, {unchanged} unchanged" in result.stderr
    assert f"{len(edition) - 3:,} rows matched by footprint (within 0.5 m)" in result.stderr
    assert twin.sql("SELECT count(*) FROM layers.manholes WHERE version = 2 AND material = 'Relined'") == [(10,)]
    twin.run("import", "--undo", twin.sql("SELECT max(id)::text FROM twin.imports")[0][0])
    assert store_checksum(twin, "manholes") == before
