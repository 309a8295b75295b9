"""network_kpi_value.se: the standard error of a store's KPI value

Revision ID: 0401_network_kpi_se
Revises: 0400_network
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0401_network_kpi_se"
down_revision: str | Sequence[str] | None = "0400_network"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("network_kpi_value") as batch:
        batch.add_column(sa.Column("se", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("network_kpi_value") as batch:
        batch.drop_column("se")
