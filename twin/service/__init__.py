"""The spatial service: TiPg's OGC API Features and Tiles over the layer tables (twin's analyses join it
on the same FastAPI app)."""
