"""inspection_weight_profile: edited checklist weight profiles with their provenance

Revision ID: 0201_inspection_weight_profiles
Revises: 0200_inspections
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0201_inspection_weight_profiles"
down_revision: str | Sequence[str] | None = "0200_inspections"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inspection_weight_profile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checklist_id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=32), nullable=False),
        sa.Column("in_province", sa.Boolean(), nullable=True),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("traffic", sa.String(length=16), nullable=False),
        sa.Column("weights", sa.JSON(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["checklist_id"],
            ["inspection_checklist.id"],
            name=op.f("fk_inspection_weight_profile_checklist_id_inspection_checklist"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
            name=op.f("fk_inspection_weight_profile_created_by_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_weight_profile")),
    )
    with op.batch_alter_table("inspection_weight_profile", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inspection_weight_profile_active"), ["active"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_inspection_weight_profile_checklist_id"), ["checklist_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("inspection_weight_profile", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_weight_profile_checklist_id"))
        batch_op.drop_index(batch_op.f("ix_inspection_weight_profile_active"))

    op.drop_table("inspection_weight_profile")
