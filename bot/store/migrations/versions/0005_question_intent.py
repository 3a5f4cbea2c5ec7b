"""The question log records the NLU's intent, so the reports can tell small talk from questions.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default, no CHECK: SQLite adds it in place and existing rows stay valid with
    # NULL ("not recorded"), which the reports count as questions, as they were before.
    op.add_column("questions", sa.Column("intent", sa.String(64), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+), as in 0004: no constraint or index refers to the column.
    op.drop_column("questions", "intent")
