"""Web entries: form input the web app keeps for a browser, shared by every worker (encrypted).

Revision ID: 0003_web_entries
Revises: 0002_service_trust
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_web_entries"
down_revision = "0002_service_trust"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the web_entries table."""
    op.create_table(
        "web_entries",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("browser", sa.String(64), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("created", TS),
        sa.Column("expires", TS, nullable=False),
    )
    op.create_index("ix_web_entries_created", "web_entries", ["created"])
    op.create_index("ix_web_entries_expires", "web_entries", ["expires"])


def downgrade() -> None:
    """Drop the web_entries table."""
    op.drop_table("web_entries")
