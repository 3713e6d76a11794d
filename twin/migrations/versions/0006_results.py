"""The analyses' results cache: an answer (``results``) and what it found (``findings``, geometries in the
twin's CRS), keyed by the analysis, its parameters and the revision of the data it read (the last import
of each layer). An import, or undoing one, forgets the results that read its layer (a trigger on the
import log: no importer has to remember to).

The read-only role the service connects as may write these two tables alone: they hold what can always
be computed again, never the city's data.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from psycopg import sql
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from twin.migrations.statements import execute
from twin.store import CORE_SCHEMA, READER_ROLE, core_table

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

NAMES = {"results": core_table("results"), "findings": core_table("findings"),
         "sequence": core_table("results_id_seq"), "imports": core_table("imports"),
         "forget": core_table("forget_results"), "role": sql.Identifier(READER_ROLE),
         "role_name": sql.Literal(READER_ROLE)}


def upgrade() -> None:
    op.create_table(
        "results",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("key", sa.Text, nullable=False, unique=True,
                  comment="a hash of the analysis, its parameters, the data's revision and the analyses' code"),
        sa.Column("analysis", sa.Text, nullable=False),
        sa.Column("parameters", JSONB, nullable=False, comment="as the answer gives them"),
        sa.Column("summary", JSONB, nullable=False),
        sa.Column("layers", ARRAY(sa.Text), nullable=False, comment="the layers the analysis reads"),
        sa.Column("revision", JSONB, nullable=False, comment="layer -> the id of its last import"),
        sa.Column("found", sa.Integer, nullable=False, comment="how many findings"),
        sa.Column("made_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        schema=CORE_SCHEMA, comment="the analyses' answers, kept until the data they read changes")
    op.create_index("results_layers_idx", "results", ["layers"], schema=CORE_SCHEMA, postgresql_using="gin")
    op.create_table(
        "findings",
        sa.Column("result_id", sa.BigInteger, sa.ForeignKey(f"{CORE_SCHEMA}.results.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("ordinal", sa.Integer, primary_key=True, comment="the answer's order"),
        # any kind of geometry, 2D or 3D, in the twin's CRS (None: a finding without a place)
        sa.Column("geom", Geometry(geometry_type=None, spatial_index=False), nullable=True),
        sa.Column("properties", JSONB, nullable=False),
        schema=CORE_SCHEMA, comment="what each cached answer found, in the twin's CRS")
    execute("""
CREATE FUNCTION {forget}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM twin.results WHERE layers @> ARRAY[CASE WHEN TG_OP = 'DELETE' THEN OLD.layer ELSE NEW.layer END];
    RETURN NULL;
END $$""", **NAMES)
    execute("CREATE TRIGGER forget_results AFTER INSERT OR DELETE ON {imports} FOR EACH ROW EXECUTE FUNCTION {forget}()",
            **NAMES)
    # A user who may not grant (see revision 0004) leaves the role be: the service then answers uncached.
    execute("""
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = {role_name}) THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON {results}, {findings} TO {role};
        GRANT USAGE ON SEQUENCE {sequence} TO {role};
    END IF;
EXCEPTION WHEN insufficient_privilege THEN NULL;
END $$""", **NAMES)


def downgrade() -> None:
    execute("DROP TRIGGER forget_results ON {imports}", **NAMES)
    execute("DROP FUNCTION {forget}()", **NAMES)
    op.drop_table("findings", schema=CORE_SCHEMA)
    op.drop_table("results", schema=CORE_SCHEMA)
