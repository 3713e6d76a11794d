"""The read-only role the OGC API connects as: it can read the layer tables and twin's own tables, and
write nothing (the API is read-only by construction, not by care).

A role belongs to the whole cluster, so twins sharing a server share it: it is made by the first twin
migrated there and granted reading on each. A user who may not create roles (on a server twin does not
own) gets the twin migrated without it; the service then needs TWIN_SERVICE_DATABASE_URL.

Revision ID: 0004
Revises: 0003
"""

from psycopg import sql

from twin.migrations.statements import execute
from twin.store import CORE_SCHEMA, LAYER_SCHEMA, READER_ROLE

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The schemas the role reads, the role's name as a value and as a name.
NAMES = {"schemas": sql.SQL(", ").join(map(sql.Identifier, (LAYER_SCHEMA, CORE_SCHEMA))),
         "role_name": sql.Literal(READER_ROLE), "role": sql.Identifier(READER_ROLE)}


def upgrade() -> None:
    execute("""
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {role_name}) THEN
        BEGIN
            CREATE ROLE {role} LOGIN;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN NULL;  -- made meanwhile by another twin
            WHEN insufficient_privilege THEN RETURN;  -- not ours to make: see TWIN_SERVICE_DATABASE_URL
        END;
    END IF;
    GRANT USAGE ON SCHEMA {schemas} TO {role};
    GRANT SELECT ON ALL TABLES IN SCHEMA {schemas} TO {role};
    -- tables made later by this owner (layers added to the catalog) are readable too
    ALTER DEFAULT PRIVILEGES IN SCHEMA {schemas} GRANT SELECT ON TABLES TO {role};
END $$""", **NAMES)


def downgrade() -> None:
    execute("""
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {role_name}) THEN
        RETURN;
    END IF;
    ALTER DEFAULT PRIVILEGES IN SCHEMA {schemas} REVOKE SELECT ON TABLES FROM {role};
    REVOKE ALL ON ALL TABLES IN SCHEMA {schemas} FROM {role};
    REVOKE ALL ON SCHEMA {schemas} FROM {role};
    BEGIN
        DROP ROLE {role};
    EXCEPTION
        WHEN dependent_objects_still_exist THEN NULL;  -- other twins on this server still use it
    END;
END $$""", **NAMES)
