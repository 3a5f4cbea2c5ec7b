"""Agent presence, idempotent citizen messages, message authors, the unclaimed-wait notice.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns only: SQLite adds them in place, existing rows stay valid.
    op.add_column("users", sa.Column("last_seen_at", sa.DateTime(), nullable=True))
    op.add_column("messages", sa.Column("client_id", sa.String(64), nullable=True))
    op.add_column("messages", sa.Column("author", sa.String(200), nullable=True))
    op.add_column("handoffs", sa.Column("overdue_notified_at", sa.DateTime(), nullable=True))
    # NULLs are distinct on both backends, so messages without a client id never collide.
    op.create_index(
        "uq_messages_conversation_id_client_id",
        "messages",
        ["conversation_id", "client_id"],
        unique=True,
    )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): copying `handoffs` in batch mode would lose the WHERE of
    # its partial unique index.
    op.drop_index("uq_messages_conversation_id_client_id", table_name="messages")
    op.drop_column("handoffs", "overdue_notified_at")
    op.drop_column("messages", "author")
    op.drop_column("messages", "client_id")
    op.drop_column("users", "last_seen_at")
