"""slack app: identities, link codes, reminders

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 14:24:25.863946
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slack_link_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["learners.id"],
            name=op.f("fk_slack_link_codes_learner_id_learners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_link_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_slack_link_codes_code_hash")),
    )
    with op.batch_alter_table("slack_link_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_slack_link_codes_learner_id"), ["learner_id"], unique=False
        )

    op.create_table(
        "slack_reminder_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("due_count", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["learners.id"],
            name=op.f("fk_slack_reminder_sends_learner_id_learners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_reminder_sends")),
        sa.UniqueConstraint(
            "learner_id", "local_date", name="uq_slack_reminder_sends_learner_date"
        ),
    )
    op.create_table(
        "slack_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("owns_learner", sa.Boolean(), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_slack_identities_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["learners.id"],
            name=op.f("fk_slack_identities_learner_id_learners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_identities")),
        sa.UniqueConstraint("team_id", "user_id", name="uq_slack_identities_team_user"),
    )
    with op.batch_alter_table("slack_identities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_slack_identities_learner_id"), ["learner_id"], unique=False
        )

    op.create_table(
        "slack_reminders",
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("local_time", sa.String(length=5), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["slack_identities.id"],
            name=op.f("fk_slack_reminders_identity_id_slack_identities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["learners.id"],
            name=op.f("fk_slack_reminders_learner_id_learners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("learner_id", name=op.f("pk_slack_reminders")),
    )
    with op.batch_alter_table("slack_reminders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_slack_reminders_identity_id"), ["identity_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("slack_reminders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slack_reminders_identity_id"))

    op.drop_table("slack_reminders")
    with op.batch_alter_table("slack_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slack_identities_learner_id"))

    op.drop_table("slack_identities")
    op.drop_table("slack_reminder_sends")
    with op.batch_alter_table("slack_link_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slack_link_codes_learner_id"))

    op.drop_table("slack_link_codes")
