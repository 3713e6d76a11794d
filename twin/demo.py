"""``twin demo``: the synthetic Eco-city generated (once), imported through the importers (once), served.

Importers are reached lazily, as the CLI does, since the core does not import them at module level.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from twin.settings import get_settings

CITY = "Sino-Singapore Tianjin Eco-city (synthetic)"
CITY_NAMES = ("zh-CN=中新天津生态城（合成）",)  # as `twin init --name-in` takes them
CRS = "EPSG:4548"  # CGCS2000 / 3-degree Gauss-Kruger CM 117E, as the city's surveys are delivered


def demo_folder() -> Path:
    return get_settings().home / "ecocity"


def ensure_generated(folder: Path, scale: float = 1.0, seed: int = 0) -> dict:
    """The manifest of the generated city, generating it when it is missing or was made otherwise (another
    scale, seed, or generator)."""
    from twin.ecocity import MANIFEST, generate, version

    manifest_path = folder / MANIFEST
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if (manifest.get("scale"), manifest.get("seed"), manifest.get("generator")) == (scale, seed, version()):
            click.echo(f"Eco-city files: {folder} (already generated)", err=True)
            return manifest
    click.echo(f"generating the synthetic Eco-city (scale {scale}, seed {seed}) into {folder}", err=True)
    manifest = generate(folder, scale, seed)
    click.echo(f"generated in {manifest['seconds']:.0f} s", err=True)
    return manifest


def import_all(folder: Path, manifest: dict) -> tuple[int, float]:
    """Import every file of the manifest that the twin does not hold yet, or holds from an older file (the
    generator made it again: importing the same source replaces it); returns (files imported, seconds)."""
    from importers.base import ImportOptions
    from importers.pipeline import run_import
    from twin.catalog import load_catalog
    from twin.store import database

    catalog = load_catalog()
    with database.raw() as connection:
        done = {(layer, source): at for layer, source, at in
                connection.execute("SELECT layer, source, max(imported_at) FROM twin.imports GROUP BY layer, source")}
        done |= {(layer, f"{source}@{year}"): at for layer, source, year, at in
                 connection.execute("SELECT layer, source, year, max(imported_at) FROM twin.rasters "
                                    "GROUP BY layer, source, year")}
    started, count = time.perf_counter(), 0
    for entry in manifest["imports"]:
        path = folder / entry["file"]
        source = entry.get("source") or path.name.split(".")[0]
        layer = catalog[entry["layer"]]
        imported = done.get((layer.id, f"{source}@{entry.get('year')}" if layer.is_raster else source))
        if imported is not None and imported.timestamp() >= path.stat().st_mtime:
            continue
        options = ImportOptions(layer=layer, source=source, year=entry.get("year"))
        click.echo(str(run_import(path, options)).splitlines()[0], err=True)
        count += 1
    return count, time.perf_counter() - started
