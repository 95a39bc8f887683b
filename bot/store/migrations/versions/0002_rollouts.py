"""Rollouts: each template version's rollout state, its waves, and every transition with its
cause (the event applied, what it changed, an idempotency key).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rollouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("template", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollouts")),
        sa.UniqueConstraint("key", name=op.f("uq_rollouts_key")),
    )
    op.create_index(op.f("ix_rollouts_status"), "rollouts", ["status"], unique=False)
    op.create_index(op.f("ix_rollouts_template"), "rollouts", ["template"], unique=False)

    op.create_table(
        "rollout_waves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rollout_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("consumers", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.Double(), nullable=True),
        sa.Column("bake_until", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["rollout_id"], ["rollouts.id"], name=op.f("fk_rollout_waves_rollout_id_rollouts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollout_waves")),
        sa.UniqueConstraint(
            "rollout_id", "position", name=op.f("uq_rollout_waves_rollout_id_position")
        ),
    )
    op.create_index(
        op.f("ix_rollout_waves_rollout_id"), "rollout_waves", ["rollout_id"], unique=False
    )

    op.create_table(
        "rollout_transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rollout_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("change", sa.Text(), nullable=False),
        sa.Column("cause", sa.String(length=255), nullable=False),
        sa.Column("event_key", sa.String(length=255), nullable=True),
        sa.Column("at", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rollout_id"],
            ["rollouts.id"],
            name=op.f("fk_rollout_transitions_rollout_id_rollouts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollout_transitions")),
        sa.UniqueConstraint(
            "rollout_id", "event_key", name=op.f("uq_rollout_transitions_rollout_id_event_key")
        ),
    )
    op.create_index(
        op.f("ix_rollout_transitions_rollout_id"),
        "rollout_transitions",
        ["rollout_id"],
        unique=False,
    )


def downgrade() -> None:
    for table in ("rollout_transitions", "rollout_waves", "rollouts"):
        op.drop_table(table)
