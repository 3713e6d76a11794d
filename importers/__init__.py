"""Importers: one module per source format, all under one contract (:mod:`importers.base`), listed in
one table (:mod:`importers.formats`) that detection reads without importing any format's module."""

from __future__ import annotations

from importers.formats import detect

__all__ = ["detect"]
