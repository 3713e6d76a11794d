"""The read-only role the OGC API connects as: it can read the layer tables and twin's own tables, and
write nothing (the API is read-only by construction, not by care).

A role belongs to the whole cluster, so twins sharing a server share it: it is made by the first twin
migrated there and granted reading on each. A user who may not create roles (on a server twin does not
own) gets the twin migrated without it; the service then needs TWIN_SERVICE_DATABASE_URL.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

from twin.store import CORE_SCHEMA, LAYER_SCHEMA, READER_ROLE

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCHEMAS = f"{LAYER_SCHEMA}, {CORE_SCHEMA}"


def upgrade() -> None:
    op.execute(f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{READER_ROLE}') THEN
        BEGIN
            CREATE ROLE {READER_ROLE} LOGIN;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN NULL;  -- made meanwhile by another twin
            WHEN insufficient_privilege THEN RETURN;  -- not ours to make: see TWIN_SERVICE_DATABASE_URL
        END;
    END IF;
    GRANT USAGE ON SCHEMA {SCHEMAS} TO {READER_ROLE};
    GRANT SELECT ON ALL TABLES IN SCHEMA {SCHEMAS} TO {READER_ROLE};
    -- tables made later by this owner (layers added to the catalog) are readable too
    ALTER DEFAULT PRIVILEGES IN SCHEMA {SCHEMAS} GRANT SELECT ON TABLES TO {READER_ROLE};
END $$""")


def downgrade() -> None:
    op.execute(f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{READER_ROLE}') THEN
        RETURN;
    END IF;
    ALTER DEFAULT PRIVILEGES IN SCHEMA {SCHEMAS} REVOKE SELECT ON TABLES FROM {READER_ROLE};
    REVOKE ALL ON ALL TABLES IN SCHEMA {SCHEMAS} FROM {READER_ROLE};
    REVOKE ALL ON SCHEMA {SCHEMAS} FROM {READER_ROLE};
    BEGIN
        DROP ROLE {READER_ROLE};
    EXCEPTION
        WHEN dependent_objects_still_exist THEN NULL;  -- other twins on this server still use it
    END;
END $$""")
