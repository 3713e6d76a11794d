"""``twin db backup`` and ``twin db restore``: the twin's database and its registered rasters in one tar.

A backup holds ``manifest.json`` (twin's version, the schema revision, each table's rows and checksum,
each raster's row and file), ``database.dump`` (``pg_dump -Fc`` of twin's schemas: its own tables, the
layers and their history) and the raster files under ``rasters/``. The checksums are taken in the
snapshot the dump is made from, so they describe exactly what it holds.

A restore is one transaction (psql ``--single-transaction`` over ``pg_restore``'s script, between a
prologue and an epilogue of twin's): twin's schemas dropped, the backup's loaded, every table checked
against its checksum, the rasters' rows pointed at their restored files, the revision stamped; any
failure leaves the store as it was. Then the store is migrated to this twin's head revision: a backup
made by an older twin restores into a newer one.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

import psycopg
from psycopg import sql
from tqdm import tqdm

from twin.errors import BackupError
from twin.store import CORE_SCHEMA, HISTORY_SCHEMA, LAYER_SCHEMA, READER_ROLE, database
from twin.store.rasters import raster_folder
from twin.store.url import database_url, own_cluster, safe_url

SCHEMAS = (CORE_SCHEMA, LAYER_SCHEMA, HISTORY_SCHEMA)
MANIFEST, DUMP, RASTERS = "manifest.json", "database.dump", "rasters"
FORMAT = 1  # of the archive: a newer one is refused by an older twin
# How rows are written as text for their checksums, the same when backing up and when restoring.
TEXT_SETTINGS = ("SET TIME ZONE 'UTC'", "SET extra_float_digits = 1", "SET DateStyle = 'ISO, MDY'",
                 "SET IntervalStyle = 'postgres'", "SET bytea_output = 'hex'")
# A table's checksum: its rows, and the sum of a 64-bit hash of each row's text (so in no order).
CHECKSUM = ("SELECT count(*) || ' ' || coalesce(sum(('x' || substr(pg_catalog.md5(t::text), 1, 16))::bit(64)"
            "::bigint), 0) FROM {} t")


def backup(path: Path, progress: bool | None = None) -> dict:
    """Write the twin's store to ``path`` (a tar); returns its manifest."""
    path = Path(path)
    if path.is_dir():
        raise BackupError(f"{path}: is a folder; give the backup's file name, e.g. {path / 'twin.tar'}")
    if not path.parent.is_dir():
        raise BackupError(f"{path}: its folder {path.parent} does not exist")
    url = database_url()
    steps = tqdm(total=3, desc="backing up the twin", unit=" steps", disable=None if progress is None else not progress)
    with tempfile.TemporaryDirectory(dir=path.parent) as work, psycopg.connect(url) as connection:
        dump = Path(work) / DUMP
        # One snapshot for the checksums and the dump (pg_dump --snapshot): what they describe is the same.
        connection.isolation_level, connection.read_only = psycopg.IsolationLevel.REPEATABLE_READ, True
        for setting in TEXT_SETTINGS:
            connection.execute(setting)
        snapshot = connection.execute("SELECT pg_export_snapshot()").fetchone()[0]
        revision = _revision(connection)
        if revision is None:
            raise BackupError("this database is no twin yet (it has no schema revision); there is nothing to back up")
        tables = {name: connection.execute(sql.SQL(CHECKSUM).format(sql.Identifier(*name.split(".")))).fetchone()[0]
                  for name in _tables(connection)}
        rasters = [dict(zip(("layer", "source", "year", "path"), row)) for row in connection.execute(
            sql.SQL("SELECT layer, source, year, path FROM {} ORDER BY layer, source, year")
            .format(sql.Identifier(CORE_SCHEMA, "rasters")))]
        steps.update()
        _run([_program("pg_dump"), "--format=custom", f"--snapshot={snapshot}", "--no-owner",
              *(f"--schema={schema}" for schema in SCHEMAS), f"--file={dump}", url], "pg_dump")
        connection.rollback()  # the snapshot is needed no longer
        steps.update()
        for number, raster in enumerate(rasters):
            source = Path(raster["path"])
            if not source.is_file():
                raise BackupError(f"{source}: the raster registered for layer '{raster['layer']}' is missing; "
                                  "import it again, then back up")
            raster["member"], raster["sha256"] = f"{RASTERS}/{number:04d}-{source.name}", _sha256(source)
        manifest = {"format": FORMAT, "twin": version("twin"), "revision": revision,
                    "made": datetime.now(timezone.utc).isoformat(timespec="seconds"), "database": safe_url(url),
                    "dump_sha256": _sha256(dump), "tables": tables, "rasters": rasters}
        partial = Path(work) / path.name
        with tarfile.open(partial, "w") as archive:
            text = json.dumps(manifest, indent=1, ensure_ascii=False).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(text), int(datetime.now().timestamp())
            archive.addfile(info, io.BytesIO(text))
            archive.add(dump, DUMP)
            for raster in rasters:
                archive.add(raster["path"], raster["member"])
        os.replace(partial, path)
        steps.update()
    steps.close()
    return manifest


def restore(path: Path, replace: bool = False, progress: bool | None = None) -> dict:
    """Replace the twin's store by the backup at ``path`` (all of it, or nothing), then migrate it to this
    twin's revision; returns the backup's manifest. A twin that holds features is replaced only with
    ``replace``."""
    from twin.store.migrate import migrate
    from twin.store.stats import held

    path = Path(path)
    url = database_url()
    steps = tqdm(total=3, desc="restoring the twin", unit=" steps", disable=None if progress is None else not progress)
    with _opened(path) as (archive, manifest), tempfile.TemporaryDirectory() as work:
        with database.connect() as connection:
            features = held(connection)
        if features and not replace:
            raise BackupError(f"this twin holds {features:,} features; give --replace to replace them by the "
                              f"backup's ({path}, made {manifest['made']})")
        dump = _extract(archive, DUMP, Path(work) / DUMP, manifest["dump_sha256"], path)
        placed = _place_rasters(archive, manifest, path, raster_folder(url))
        steps.update()
        try:
            privileges = [] if _reader_role(url) else ["--no-privileges"]
            (Path(work) / "before.sql").write_text(_before(), encoding="utf-8")
            (Path(work) / "after.sql").write_text(_after(manifest, placed), encoding="utf-8")
            _run(["bash", "-o", "pipefail", "-c", 'work="$1" program="$2"; shift 2; cat "$work/before.sql" && '
                  '"$program" --no-owner "$@" -f - "$work/database.dump" && cat "$work/after.sql"',
                  "restore", work, _program("pg_restore"), *privileges], "the restore",
                 then=[_program("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-f", "-", url])
        except BaseException:
            for partial, _ in placed:
                partial.unlink(missing_ok=True)
            raise
        for partial, target in placed:
            os.replace(partial, target)
        steps.update()
        migrate("head")
        steps.update()
    steps.close()
    return manifest


def _before() -> str:
    """The prologue: twin's schemas dropped (in the restore's transaction, so a failure keeps them)."""
    return "\n".join(["SET client_min_messages = warning;", "CREATE EXTENSION IF NOT EXISTS postgis;",
                      *(f"DROP SCHEMA IF EXISTS {schema} CASCADE;" for schema in SCHEMAS), ""])


def _after(manifest: dict, placed: list[tuple[Path, Path]]) -> str:
    """The epilogue: every table checked against the backup's checksum, the rasters moved, the revision
    stamped. pg_restore's script empties the search path: every name here is qualified."""
    lines = [f"{setting};" for setting in TEXT_SETTINGS]
    for name, expected in manifest["tables"].items():
        query = sql.SQL(CHECKSUM).format(sql.Identifier(*name.split("."))).as_string(None)
        lines.append(f"DO $$ DECLARE got text := ({query}); BEGIN IF got IS DISTINCT FROM {_literal(expected)} "
                     f"THEN RAISE EXCEPTION 'table {name} differs from the backup: rows and checksum %, the backup "
                     f"has {expected}', got; END IF; END $$;")
    for raster, (_, target) in zip(manifest["rasters"], placed):
        lines.append(f"UPDATE {CORE_SCHEMA}.rasters SET path = {_literal(str(target))} "
                     f"WHERE path = {_literal(raster['path'])};")
    lines += ["CREATE TABLE IF NOT EXISTS public.alembic_version (version_num varchar(32) NOT NULL PRIMARY KEY);",
              "DELETE FROM public.alembic_version;",
              f"INSERT INTO public.alembic_version VALUES ({_literal(manifest['revision'])});", ""]
    return "\n".join(lines)


@contextmanager
def _opened(path: Path) -> Iterator[tuple[tarfile.TarFile, dict]]:
    """The backup's archive and manifest, refused with a clear error where it is none."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file; give a backup made by `twin db backup FILE`")
    try:
        archive = tarfile.open(path, "r:")
        member = archive.extractfile(MANIFEST)
        manifest = json.loads(member.read()) if member is not None else None
    except (tarfile.TarError, KeyError, json.JSONDecodeError, EOFError, OSError) as exc:
        raise BackupError(f"{path}: is damaged or not a twin backup ({exc}); nothing was restored") from None
    with archive:
        if not isinstance(manifest, dict) or not {"revision", "tables", "rasters", "dump_sha256"} <= set(manifest):
            raise BackupError(f"{path}: its manifest is not a twin backup's; nothing was restored")
        if manifest.get("format", 0) > FORMAT:
            raise BackupError(f"{path}: was made by twin {manifest.get('twin')}, whose backups twin {version('twin')} "
                              "cannot read; upgrade twin, then restore")
        yield archive, manifest


def _extract(archive: tarfile.TarFile, member: str, target: Path, sha256: str, path: Path) -> Path:
    """One member written to ``target``, refused where it is not what the manifest says."""
    try:
        source = archive.extractfile(member)
        if source is None:
            raise KeyError(member)
        with source, target.open("wb") as out:
            digest = hashlib.sha256()
            for chunk in iter(lambda: source.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
    except (KeyError, tarfile.TarError, EOFError, OSError) as exc:
        target.unlink(missing_ok=True)
        raise BackupError(f"{path}: {member} cannot be read ({exc}): the backup is damaged; nothing was restored") from None
    if digest.hexdigest() != sha256:
        target.unlink(missing_ok=True)
        raise BackupError(f"{path}: {member} is not what the backup recorded (its checksum differs): the backup "
                          "is damaged; nothing was restored")
    return target


def _place_rasters(archive: tarfile.TarFile, manifest: dict, path: Path, folder: Path) -> list[tuple[Path, Path]]:
    """Each raster extracted beside where it will live (a hidden partial file), with that place."""
    placed: list[tuple[Path, Path]] = []
    try:
        for raster in manifest["rasters"]:
            target = folder / raster["layer"] / Path(raster["path"]).name
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.restoring")
            placed.append((partial, target))
            _extract(archive, raster["member"], partial, raster["sha256"], path)
    except BaseException:
        for partial, _ in placed:
            partial.unlink(missing_ok=True)
        raise
    return placed


def _reader_role(url: str) -> bool:
    """Whether the service's read-only role exists on the server (made here where it may be), so that the
    backup's grants to it can be restored."""
    with psycopg.connect(url, autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (READER_ROLE,)).fetchone():
            return True
        try:
            connection.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(READER_ROLE)))
        except psycopg.Error:  # not ours to make: the service then needs TWIN_SERVICE_DATABASE_URL
            return False
        return True


def _revision(connection: psycopg.Connection) -> str | None:
    if not connection.execute("SELECT to_regclass('public.alembic_version') IS NOT NULL").fetchone()[0]:
        return None
    row = connection.execute("SELECT version_num FROM public.alembic_version").fetchone()
    return row[0] if row else None


def _tables(connection: psycopg.Connection) -> list[str]:
    return [f"{schema}.{name}" for schema, name in connection.execute(
        "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY(%s) ORDER BY 1, 2", (list(SCHEMAS),))]


def _program(name: str) -> str:
    """PostgreSQL's client program ``name``, of the newest PostgreSQL installed (it reads older servers)."""
    return str(own_cluster().bin_dir / name)


def _run(command: list[str], what: str, then: list[str] | None = None) -> None:
    """Run ``command`` (its output piped into ``then``), failing with the first line of what went wrong."""
    first = subprocess.Popen(command, stdout=subprocess.PIPE if then else subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    second = subprocess.run(then, stdin=first.stdout, capture_output=True, text=True) if then else None
    if first.stdout is not None:
        first.stdout.close()
    errors = first.stderr.read().decode(errors="replace") if first.stderr else ""
    first.wait()
    failed = [text for code, text in ((first.returncode, errors),
                                      (second.returncode if second else 0, second.stderr if second else ""))
              if code != 0 or "ERROR" in text]
    if failed:
        lines = [line for text in failed for line in text.strip().splitlines() if line.strip()]
        reason = next((line for line in lines if "ERROR" in line), lines[0] if lines else "no message")
        reason = re.sub(r"^(psql:[^:]*:\d+: )?(ERROR|error|FATAL):\s*", "", reason.strip())
        raise BackupError(f"{what} failed: {reason}; the store is as it was")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
