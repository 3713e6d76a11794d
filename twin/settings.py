"""Settings, all from the environment with the ``TWIN_`` prefix (or a ``.env`` file beside the project).

| variable | default | meaning |
|---|---|---|
| TWIN_DATABASE_URL | (unset) | an existing PostGIS server; unset means the project's own cluster |
| TWIN_SERVICE_DATABASE_URL | (unset) | the URL the OGC API reads with; unset: the twin's database as the read-only role `twin_reader` |
| TWIN_HOME | `<project>/.twin` | where the own cluster, logs and caches live |
| TWIN_PG_PORT | 55432 | first port tried for the own cluster (the next free one is taken if busy) |
| TWIN_PG_BIN | newest `/usr/lib/postgresql/*/bin` | PostgreSQL server programs |
| TWIN_CRS | (unset) | the twin's CRS where `twin init --crs` did not give one, fixed when the database is first migrated; unset: the first import chooses it |
| TWIN_LAYERS_DIR | `<project>/layers` | the layer catalog |
| TWIN_VIEWER_SESSIONS | 8 | browsers `twin serve` shows the 3D city to at once (a viewer process each, about 0.6-0.9 GB) |
| TWIN_AUTH_PROXY_HEADER | (unset) | the header by which a reverse proxy on this machine names the user it has authenticated (e.g. `X-Remote-User`); honoured only from loopback |
| TWIN_AUTH_LOOPBACK | true | whether a request straight from this machine (loopback, no proxy's forwarding headers) needs no credentials |
| TWIN_LANGUAGE | (unset) | the language of the viewer and the API, `en` or `zh-CN`; unset: each browser's (navigator.languages, Accept-Language), English where it asks for neither |
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from twin.errors import SettingsError

PACKAGE_DIR = Path(__file__).resolve().parent


def _project_dir() -> Path | None:
    """The checkout this package runs from, if it runs from one (editable install or source tree)."""
    root = PACKAGE_DIR.parent
    return root if (root / "pyproject.toml").is_file() and (root / "layers").is_dir() else None


def _default_home() -> Path:
    project = _project_dir()
    return project / ".twin" if project else Path.home() / ".twin"


def _default_layers_dir() -> Path:
    project = _project_dir()
    return project / "layers" if project else PACKAGE_DIR / "_layers"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TWIN_", env_file=".env", extra="ignore")

    database_url: str | None = None
    service_database_url: str | None = None
    home: Path = _default_home()
    pg_port: int = 55432
    pg_bin: Path | None = None
    crs: str | None = None
    layers_dir: Path = _default_layers_dir()
    viewer_sessions: int = Field(default=8, ge=1)
    language: Literal["en", "zh-CN"] | None = None  # twin.i18n.LANGUAGES
    auth_proxy_header: str | None = None
    auth_loopback: bool = True

    @field_validator("database_url", "service_database_url", "crs", "language", "auth_proxy_header", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("pg_port")
    @classmethod
    def _port_in_range(cls, value: int) -> int:
        if not 1024 <= value <= 65535:
            raise ValueError("must be a port between 1024 and 65535")
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once."""
    try:
        return Settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        first = exc.errors()[0] if hasattr(exc, "errors") else {"loc": ("?",), "msg": str(exc)}
        name = "TWIN_" + str(first["loc"][0]).upper()
        raise SettingsError(f"{name}: {first['msg']}; fix or unset it") from None
