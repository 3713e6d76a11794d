"""The one hierarchy of errors twin raises on purpose.

Every error here carries a one-line message that names the file, row or parameter at fault and says
what to do; the CLI prints it as ``twin: <message>`` and exits non-zero. Anything else escaping is a bug.
"""

from __future__ import annotations

from collections.abc import Callable

from twin import i18n


class TwinError(Exception):
    """Base of every error twin raises on purpose."""

    exit_code: int = 1


class SettingsError(TwinError):
    """A ``TWIN_`` setting has a value twin cannot use."""


class CatalogError(TwinError):
    """A layer file in the catalog is malformed, or a layer id is unknown."""


class StoreError(TwinError):
    """The PostGIS store cannot be reached, started or migrated."""


class AccessRefused(StoreError):
    """The database server answered but refused the connection: an unknown role, a wrong password, no
    such database. ``reason``: the server's own words."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class ClusterError(StoreError):
    """The project's own PostgreSQL cluster under ``.twin/`` cannot be set up or started."""


class BackupError(StoreError):
    """A backup cannot be made, or a file cannot be restored: not a twin backup, damaged, or refused by
    the database (the store is then as it was)."""


class SchemaError(StoreError):
    """The database schema does not match what this twin expects (CRS, revision, layer tables)."""


class SourceError(TwinError):
    """A source file cannot be imported: unknown or wrong format, truncated, empty, no geometry, mixed
    geometry types, unknown CRS, wrong encoding. The message starts with the file's path."""


class RowRejected(SourceError):
    """A row failed validation in a ``--strict`` import; the message names the file and the row."""


class ParameterError(TwinError):
    """A parameter of an analysis is malformed, out of range or names nothing; the message starts with
    the parameter's name (the service answers it as a 400). ``told``, where given, words the message in
    any of twin's languages (:meth:`told`, :meth:`of`); the ``str`` is the English."""

    def __init__(self, message: str, told: Callable[[str], str] | None = None) -> None:
        super().__init__(message)
        self._told = told

    @classmethod
    def of(cls, parameter: str, key: str, **params: object) -> ParameterError:
        """The error for ``parameter``, worded by message ``key`` of the messages' ``parameters`` section."""
        def told(language: str) -> str:
            return f"{parameter}: {i18n.text(f'parameters.{key}', language, **params)}"

        return cls(told(i18n.DEFAULT), told)

    def told(self, language: str) -> str:
        """The message in ``language`` (one made without ``told`` is English only)."""
        return self._told(language) if self._told is not None else str(self)
