"""The question log behind the insight reports: each guide search and what became of it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Frozen copies of the allowed values (see 0001).


def upgrade() -> None:
    op.create_table(
        "questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("municipality", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("top_slug", sa.String(200), nullable=True),
        sa.Column("top_score", sa.Float(), nullable=True),
        sa.Column("guesses", sa.JSON(), nullable=False),
        sa.Column("answered_slug", sa.String(200), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("outcome_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "decision IN ('answer', 'clarify', 'fallback')", name=op.f("ck_questions_decision")
        ),
        sa.CheckConstraint(
            "outcome IN ('helpful', 'not_helpful', 'none_of_them', 'handoff', 'callback')",
            name=op.f("ck_questions_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_questions_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questions")),
    )
    op.create_index(op.f("ix_questions_created_at"), "questions", ["created_at"])
    op.create_index(op.f("ix_questions_conversation_id"), "questions", ["conversation_id"])


def downgrade() -> None:
    op.drop_table("questions")
