"""What ``twin db status`` reports: where the database is, whether it answers, and its schema."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect, text

from twin.errors import StoreError
from twin.store import CORE_SCHEMA, LAYER_SCHEMA, city, database
from twin.store.url import database_url, is_external, own_cluster, safe_url
from twin.store.migrate import current_revision, head_revision


def database_status() -> dict[str, Any]:
    info: dict[str, Any] = {"mode": "external (TWIN_DATABASE_URL)" if is_external() else "own cluster"}
    if not is_external():
        state = own_cluster().status()
        info.update(data_dir=str(state.data_dir), initialised=state.initialised, running=state.running)
        if not state.running:
            info["reachable"] = False
            return info
    url = database_url()
    info["url"] = safe_url(url)
    try:
        with database.connect(url) as connection:
            info["reachable"] = True
            info["postgis"] = connection.execute(text("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")).scalar()
            info["revision"] = current_revision(connection)
            info["head"] = head_revision()
            inspector = inspect(connection)
            if inspector.has_table("meta", schema=CORE_SCHEMA):
                known = city.read(database.psycopg_of(connection))
                info["city"] = known.title
                info["crs"] = known.crs_label if known.crs else "none yet (the first import chooses it)"
                if known.extent:
                    info["extent"] = " ".join(f"{value:,.0f}" for value in known.extent)
            info["layer_tables"] = len(inspector.get_table_names(schema=LAYER_SCHEMA))
    except StoreError as exc:
        info["reachable"] = False
        info["error"] = str(exc)
    return info

