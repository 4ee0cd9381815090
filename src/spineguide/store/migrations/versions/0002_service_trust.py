"""Service trust: trusted EHRs, JWT replay cache, shared rate windows, idempotency keys, and the
verified issuer on audit and feedback rows.

Revision ID: 0002_service_trust
Revises: 0001_initial
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002_service_trust"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the new tables and columns."""
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("issuer", sa.String(300)))
    with op.batch_alter_table("cds_feedback") as batch:
        batch.add_column(sa.Column("issuer", sa.String(300)))
    op.create_table(
        "trusted_ehrs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("issuer", sa.String(300), nullable=False, unique=True),
        sa.Column("jku", sa.String(1000)),
        sa.Column("jwks", JSON),
        sa.Column("label", sa.String(200)),
        sa.Column("rate_per_minute", sa.Integer, nullable=False, server_default="120"),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created", TS),
    )
    op.create_table(
        "cds_seen_jti",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("issuer", sa.String(300), nullable=False),
        sa.Column("jti", sa.String(300), nullable=False),
        sa.Column("expires", TS, nullable=False),
        sa.UniqueConstraint("issuer", "jti", name="uq_cds_seen_jti"),
    )
    op.create_index("ix_cds_seen_jti_expires", "cds_seen_jti", ["expires"])
    op.create_table(
        "rate_windows",
        sa.Column("key", sa.String(400), primary_key=True),
        sa.Column("window", sa.Integer, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("expires", TS, nullable=False),
    )
    op.create_index("ix_rate_windows_expires", "rate_windows", ["expires"])
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("location", sa.String(300)),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created", TS),
        sa.UniqueConstraint("user_id", "key", name="uq_idempotency_user_key"),
    )
    op.create_index("ix_idempotency_keys_created", "idempotency_keys", ["created"])


def downgrade() -> None:
    """Drop what upgrade created."""
    op.drop_table("idempotency_keys")
    op.drop_table("rate_windows")
    op.drop_table("cds_seen_jti")
    op.drop_table("trusted_ehrs")
    with op.batch_alter_table("cds_feedback") as batch:
        batch.drop_column("issuer")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("issuer")
