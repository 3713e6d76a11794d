"""The spatial service: TiPg's OGC API Features and Tiles over the layer tables (twin's analyses join it
on the same FastAPI app), read through a database role that can only read."""

# Made by migration 0004 (one per cluster, shared by the twins on it): it may SELECT the layer tables and
# twin's own tables of each migrated database, and write nothing. The store names it; it is re-exported here.
from twin.store import READER_ROLE  # noqa: F401

# TiPg reads its settings when first imported: set them before any module here imports it.
from twin.service import tipg_env  # noqa: F401
