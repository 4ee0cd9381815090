"""Initial schema: users, tokens, sessions, patients, assessments, scores, audit, feedback.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create every table."""
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(80), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200)),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created", TS),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created", TS),
        sa.Column("expires", TS, nullable=False),
        sa.Column("revoked", sa.Boolean, nullable=False),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("session_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created", TS),
        sa.Column("expires", TS, nullable=False),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_table(
        "patients",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("clinician_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("external_ref", sa.String(200)),
        sa.Column("birth_year", sa.Integer),
        sa.Column("sex", sa.String(10)),
        sa.Column("created", TS),
    )
    op.create_index("ix_patients_clinician_id", "patients", ["clinician_id"])
    op.create_table(
        "assessments",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "patient_id",
            sa.String(36),
            sa.ForeignKey("patients.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("clinician_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("input_json", JSON, nullable=False),
        sa.Column("output_json", JSON, nullable=False),
        sa.Column("kb_version", sa.String(80), nullable=False),
        sa.Column("urgency", sa.String(20), nullable=False),
        sa.Column("leading_diagnosis", sa.String(80)),
        sa.Column("created", TS),
    )
    op.create_index("ix_assessments_patient_created", "assessments", ["patient_id", "created"])
    op.create_table(
        "outcome_scores",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "patient_id",
            sa.String(36),
            sa.ForeignKey("patients.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("clinician_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("instrument", sa.String(20), nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("band", sa.String(80)),
        sa.Column("input_json", JSON, nullable=False),
        sa.Column("result_json", JSON, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.Column("created", TS),
    )
    op.create_index(
        "ix_outcome_scores_patient_recorded", "outcome_scores", ["patient_id", "recorded_at"]
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TS),
        sa.Column("user_id", sa.Integer),
        sa.Column("username", sa.String(80)),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("patient_id", sa.String(200)),
        sa.Column("resource_id", sa.String(200)),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("client", sa.String(100)),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_patient_id", "audit_log", ["patient_id"])
    op.create_table(
        "cds_feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("service_id", sa.String(100), nullable=False),
        sa.Column("card_uuid", sa.String(100), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("outcome_timestamp", sa.String(40)),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("received", TS),
    )
    op.create_index("ix_cds_feedback_card_uuid", "cds_feedback", ["card_uuid"])


def downgrade() -> None:
    """Drop every table."""
    for table in (
        "cds_feedback",
        "audit_log",
        "outcome_scores",
        "assessments",
        "patients",
        "sessions",
        "api_tokens",
        "users",
    ):
        op.drop_table(table)
