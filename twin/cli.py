"""The ``twin`` command. Heavy parts (importers, viewer) are imported inside their commands, so
``twin layers`` starts fast and never loads VTK."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click

from twin.errors import TwinError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="twin")
def cli() -> None:
    """twin: a city's digital twin (CIM) in the browser."""


# -- twin init ------------------------------------------------------------------------------------------
@cli.command()
@click.argument("name")
@click.option("--crs", help="the twin's CRS: anything PROJ takes (EPSG:4548, EPSG:4548+5737, WKT, a PROJ string); "
                            "default: the first import chooses it")
@click.option("--name-in", "names", multiple=True, metavar="LANGUAGE=NAME",
              help="the city's name in another language, shown to its readers: --name-in zh-CN=中新天津生态城")
@click.pass_context
def init(ctx: click.Context, name: str, crs: str | None, names: tuple[str, ...] = ()) -> None:
    """Make an empty twin of the city NAME (in TWIN_HOME's own database, or TWIN_DATABASE_URL)."""
    from twin.store.init import init_city

    ctx.invoke(up)
    click.echo(init_city(name, crs, dict(named.partition("=")[::2] for named in names)), err=True)


# -- twin db -------------------------------------------------------------------------------------------
@cli.group()
def db() -> None:
    """The PostGIS store: twin's own cluster under TWIN_HOME, or TWIN_DATABASE_URL."""


@db.command()
def up() -> None:
    """Start the database (or check TWIN_DATABASE_URL) and migrate it; harmless when already up."""
    from twin.store.url import database_url, is_external, own_cluster, safe_url

    if not is_external():
        cluster = own_cluster()
        was_running = cluster.status().running
        port = cluster.up()
        click.echo(f"database {'already running' if was_running else 'started'} on port {port}", err=True)
    report = _migrate("head")
    click.echo(f"ready: {safe_url(database_url())}", err=True)
    _echo_sync(report)


@db.command()
def down() -> None:
    """Stop twin's own database server (an external TWIN_DATABASE_URL server is left alone)."""
    from twin.store.url import is_external, own_cluster

    if is_external():
        click.echo("TWIN_DATABASE_URL points at a server twin does not own; nothing to stop", err=True)
        return
    stopped = own_cluster().down()
    click.echo("database stopped" if stopped else "database was not running", err=True)


@db.command()
@click.option("--json", "as_json", is_flag=True, help="print a JSON object")
def status(as_json: bool) -> None:
    """Where the database is, whether it runs, its schema revision and CRS."""
    from twin.store.status import database_status

    info = database_status()
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    for key, value in info.items():
        click.echo(f"{key:>16}: {value}")


@db.command()
def url() -> None:
    """Print the database URL (for psql, ogr2ogr, QGIS)."""
    from twin.store.url import database_url

    click.echo(database_url())


@db.command()
@click.argument("file", type=click.Path(path_type=Path))
def backup(file: Path) -> None:
    """Write the twin's database and its registered rasters to FILE (a tar), checksummed."""
    from twin.store.backup import backup as write_backup
    from twin.store.url import is_external, own_cluster

    if not is_external():
        own_cluster().up()  # started, not migrated: the backup keeps the revision the twin is at
    manifest = write_backup(file)
    rows = sum(int(checksum.split()[0]) for checksum in manifest["tables"].values())
    click.echo(f"{file}: {len(manifest['tables'])} tables ({rows:,} rows), {len(manifest['rasters'])} rasters, "
               f"schema revision {manifest['revision']}", err=True)


@db.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--replace", is_flag=True, help="replace a twin that holds features (it is lost)")
@click.pass_context
def restore(ctx: click.Context, file: Path, replace: bool) -> None:
    """Replace the twin's store by the backup FILE (all of it or nothing), then migrate it to this twin."""
    from twin.store.backup import restore as read_backup

    ctx.invoke(up)
    manifest = read_backup(file, replace=replace)
    click.echo(f"restored {file} (made {manifest['made']} by twin {manifest['twin']}, revision "
               f"{manifest['revision']}); every table matches its checksum", err=True)


@db.command()
@click.argument("revision", default="head")
def migrate(revision: str) -> None:
    """Move the schema to REVISION (default head; base, -1 or an id go down), then match the catalog."""
    report = _migrate(revision)
    click.echo(f"schema at {revision}", err=True)
    _echo_sync(report)


def _migrate(revision: str):  # -> SyncReport, imported lazily
    from twin.store.migrate import migrate as run_migrations

    return run_migrations(revision)


def _echo_sync(report) -> None:
    if report.created:
        click.echo(f"created {len(report.created)} layer tables", err=True)
    for column in report.added_columns:
        click.echo(f"added column {column}", err=True)
    for orphan in report.orphans:
        click.echo(f"note: {orphan} is in the database but not in the catalog (kept)", err=True)


# -- twin users ----------------------------------------------------------------------------------------
@cli.group()
def users() -> None:
    """Who may see the twin from beyond its own machine (the viewer and the API ask them to log in)."""


@users.command(name="add")
@click.argument("name")
@click.option("--role", type=click.Choice(["reader", "editor"]), default="reader", show_default=True,
              help="reader: the viewer and the API's reading; editor: also what the API changes")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input (for scripts)")
def users_add(name: str, role: str, password_stdin: bool) -> None:
    """Add the user NAME (or give an existing one a new password and role)."""
    from twin.auth import add_user

    password = (sys.stdin.readline().rstrip("\n") if password_stdin
                else click.prompt("password", hide_input=True, confirmation_prompt=True, err=True))
    add_user(name, password, role)
    click.echo(f"user {name} ({role}) can log in", err=True)


@users.command(name="list")
def users_list() -> None:
    """The users and their roles."""
    from twin.auth import users as all_users

    for name, role in all_users():
        click.echo(f"{name}\t{role}")


@users.command(name="remove")
@click.argument("name")
def users_remove(name: str) -> None:
    """Remove the user NAME: their next request is refused."""
    from twin.auth import remove_user

    remove_user(name)
    click.echo(f"user {name} removed", err=True)


# -- twin layers ---------------------------------------------------------------------------------------
@cli.command()
@click.option("--json", "as_json", is_flag=True, help="print a JSON list")
def layers(as_json: bool) -> None:
    """The layer catalog with the row count of each layer."""
    from twin.catalog import load_catalog
    from twin.store import database
    from twin.store.stats import layer_counts

    from twin.store import city

    catalog = load_catalog()
    with database.connect() as connection:
        counts = layer_counts(connection, catalog)
        known = city.read(database.psycopg_of(connection))
    rows = [
        {
            "id": layer.id,
            "title": layer.title,
            "group": layer.group,
            "geometry": layer.geometry,
            "draw": layer.draw.mode,
            "time_varying": layer.time_varying,
            "count": counts[layer.id],
        }
        for layer in catalog
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    click.echo(f"{known.title} ({known.crs_label})")
    group = None
    for row in rows:
        if row["group"] != group:
            group = row["group"]
            click.echo(f"\n{catalog[row['id']].group_title()}")
        count = "-" if row["count"] is None else f"{row['count']:,}"
        click.echo(f"  {row['id']:<20} {row['title']:<28} {row['geometry']:<8} {row['draw']:<8} {count:>10}")


# -- twin import ---------------------------------------------------------------------------------------
@cli.command(name="import")
@click.argument("path", type=click.Path(path_type=Path), required=False)
@click.option("--layer", "layer_id", help="the catalog layer to load into (default: every layer the file feeds)")
@click.option("--source", help="dataset name (default: the file name); re-importing a source replaces it")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="the file is a snapshot of the source on that day: what changed since its last snapshot becomes "
                   "the features' history (new, vanished, altered) instead of replacing the source")
@click.option("--match-tolerance", type=click.FloatRange(min=0.0), default=0.5, show_default=True, metavar="METRES",
              help="a snapshot without ids: how far a footprint may move and still be the same feature")
@click.option("--undo", "undo_id", type=int, metavar="IMPORT_ID",
              help="undo an import (and those made with it): `twin imports` lists them")
@click.option("--crs", help="the source's CRS when the file has none or a wrong one: EPSG:n, GCJ-02, BD-09")
@click.option("--heights", metavar="VERTICAL_CRS",
              help="the datum of the file's Z (EPSG:5773 EGM96, EPSG:5737 Yellow Sea 1985, EPSG:4979 ellipsoidal), "
                   "converted into the twin's where its CRS is compound")
@click.option("--map", "mappings", multiple=True, metavar="SRC=DEST", help="source column to layer attribute")
@click.option("--strict", is_flag=True, help="fail on the first row that does not validate")
@click.option("--make-valid", is_flag=True, help="repair invalid geometries instead of rejecting them")
@click.option("--year", type=int, help="the year a land-cover raster shows")
@click.option("--source-layer", help="which layer of a file that holds several")
@click.option("--encoding", help="text encoding of a Shapefile's DBF or a CSV (e.g. GB18030)")
@click.option("--points", type=click.Path(path_type=Path),
              help="a survey line table's point table, where it is not beside it (给水管点.csv for 给水管线.csv)")
def import_(path: Path | None, layer_id: str | None, source: str | None, as_of: datetime | None,
            match_tolerance: float, undo_id: int | None, crs: str | None, heights: str | None,
            mappings: tuple[str, ...], strict: bool, make_valid: bool, year: int | None, source_layer: str | None,
            encoding: str | None, points: Path | None) -> None:
    """Import PATH into a layer, or every layer it feeds: one transaction, rejected rows reported, the
    source replaced (or, with --as-of, its changes recorded); or undo an import."""
    if undo_id is not None:
        if path is not None:
            raise click.UsageError("--undo takes an import id, not a file: `twin import --undo IMPORT_ID`")
        return _undo(undo_id)
    if path is None:
        raise click.UsageError("give the file to import (or --undo IMPORT_ID)")
    from importers.base import ImportOptions
    from importers.mapping import parse_mapping
    from importers.pipeline import layers_to_import, run_imports
    from twin.catalog import load_catalog

    layers = layers_to_import(path, load_catalog(), layer_id)
    options = ImportOptions(
        layer=layers[0], source=source or _source_name(path), crs=crs, heights=heights, mapping=parse_mapping(mappings), strict=strict,
        year=year, source_layer=source_layer, encoding=encoding, make_valid=make_valid, points=points,
        as_of=as_of.date() if as_of else None, tolerance_m=match_tolerance,
    )
    click.echo(str(run_imports(path, options, layers)), err=True)


def _undo(import_id: int) -> None:
    from twin.catalog import load_catalog
    from twin.history import undo
    from twin.store import database

    with database.raw() as connection:
        undone = undo(connection, load_catalog(), import_id)
    for entry in undone:
        click.echo(f"undone: import {entry.id}, {entry.layer} <- {entry.source} ({entry.imported:,} features)", err=True)


@cli.command(name="imports")
@click.option("--layer", "layer_id", help="only the imports into this layer")
def imports_(layer_id: str | None) -> None:
    """The import log, oldest first: what `twin import --undo` takes."""
    from twin.history import imports
    from twin.store import database

    with database.raw() as connection:
        entries = imports(connection, layer_id)
    if not entries:
        click.echo("no imports yet", err=True)
    for entry in entries:
        click.echo(str(entry))


def _source_name(path: Path) -> str:
    """The file's name without its format's suffixes: delft.city.json -> delft, monaco.osm.pbf -> monaco."""
    name = path.name
    for suffix in (".city.json", ".osm.pbf", ".osm.xml", ".osm.bz2", ".shp.zip"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


# -- twin serve / demo ---------------------------------------------------------------------------------
@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--viewer-port", default=8080, show_default=True, help="port of the 3D viewer")
@click.option("--api-port", default=8081, show_default=True, help="port of the OGC API service")
def serve(host: str, viewer_port: int, api_port: int) -> None:
    """Serve the twin: the 3D viewer and the OGC API over the layer tables."""
    from twin.serve import serve as run

    run(host, viewer_port, api_port)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--viewer-port", default=8080, show_default=True)
@click.option("--api-port", default=8081, show_default=True)
@click.option("--no-serve", is_flag=True, help="set up the demo twin, then stop")
@click.option("--scale", type=click.FloatRange(min=0.05, max=100.0), default=1.0, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.pass_context
def demo(ctx: click.Context, host: str, viewer_port: int, api_port: int, no_serve: bool, scale: float,
         seed: int) -> None:
    """The demo twin: the synthetic Eco-city generated and imported (once each), then served."""
    from twin.demo import CITY, CITY_NAMES, CRS, demo_folder, ensure_generated, import_all

    ctx.invoke(init, name=CITY, crs=CRS, names=CITY_NAMES)
    folder = demo_folder()
    manifest = ensure_generated(folder, scale, seed)
    imported, seconds = import_all(folder, manifest)
    click.echo(f"imported {imported} files in {seconds:.0f} s" if imported else "the twin already holds the Eco-city",
               err=True)
    ctx.invoke(layers, as_json=False)
    click.echo("The Eco-city is synthetic: generated from public facts about the Sino-Singapore Tianjin Eco-city.",
               err=True)
    if not no_serve:
        ctx.invoke(serve, host=host, viewer_port=viewer_port, api_port=api_port)


@cli.command()
@click.option("--out", type=click.Path(path_type=Path), required=True, help="the video: FILE.mp4 or FILE.gif")
@click.option("--from", "first", type=int, help="first year (default: the data's first)")
@click.option("--to", "last", type=int, help="last year (default: the data's last)")
@click.option("--fps", type=int, default=12, show_default=True, help="frames per second; one second a year")
@click.option("--size", default="1280x720", show_default=True, help="WIDTHxHEIGHT in pixels")
@click.option("--colour-by", default="use", show_default=True,
              help="colour the buildings by this attribute (a colouring of their layer file: use, build_year), "
                   "or 'plain'")
def replay(out: Path, first: int | None, last: int | None, fps: int, size: str, colour_by: str) -> None:
    """Render the city's growth, year by year, into a video."""
    from viewer.replay import export, parse_size

    made = export(out, first, last, fps, parse_size(size), colour_by=None if colour_by == "plain" else colour_by)
    click.echo(f"{made.path}: {made.frames} frames of {made.size[0]}x{made.size[1]} in {made.seconds:.0f} s "
               f"({made.frames / made.seconds:.1f} frames/s)", err=True)


@cli.group()
def generate() -> None:
    """Generate demo cities as source files."""


@generate.command()
@click.option("--out", type=click.Path(path_type=Path), required=True, help="folder for the files")
@click.option("--scale", type=click.FloatRange(min=0.05, max=100.0), default=1.0, show_default=True,
              help="1: about 19,000 buildings; 10: about 190,000")
@click.option("--seed", type=int, default=0, show_default=True)
def ecocity(out: Path, scale: float, seed: int) -> None:
    """The Sino-Singapore Tianjin Eco-city 2008-2020 (synthetic) in real file formats."""
    from twin.ecocity import generate as make

    manifest = make(out, scale, seed)
    counts = ", ".join(f"{count:,} {name}" for name, count in manifest["counts"].items())
    click.echo(f"{out}: {counts} ({manifest['seconds']:.0f} s)", err=True)


def main() -> None:
    """Entry point: twin's own errors become one line on stderr and exit status 1; so does anything else
    (a bug, or input no check foresaw), its traceback kept in a log file for the report."""
    try:
        cli.main(standalone_mode=False)
    except TwinError as exc:
        click.echo(f"twin: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("twin: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except Exception as exc:
        log = _log_traceback()
        first = (str(exc).strip().splitlines() or [""])[0]
        click.echo(f"twin: {_subject(sys.argv[1:])}: unexpected error ({type(exc).__name__}: {first}); "
                   f"details in {log}", err=True)
        sys.exit(1)


def _subject(args: list[str]) -> str:
    """What the failed command was working on: its PATH argument where it has one, else the command."""
    command = cli.get_command(click.Context(cli), args[0]) if args else None
    if command is None:
        return "twin"
    try:
        context = command.make_context(args[0], args[1:], resilient_parsing=True)
    except click.ClickException:
        context = None
    path = context.params.get("path") if context is not None else None
    return str(path) if path is not None else f"twin {args[0]}"


def _log_traceback() -> Path:
    """Write the exception being handled, with its traceback, to TWIN_HOME/logs/twin-<timestamp>.log."""
    import datetime
    import traceback

    from twin.settings import get_settings

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    log = get_settings().home / "logs" / f"twin-{stamp}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(f"twin {' '.join(sys.argv[1:])}\n\n{traceback.format_exc()}", encoding="utf-8")
    return log
