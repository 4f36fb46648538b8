"""trusted-only workunits

Revision ID: 0008trusted
Revises: 0006bundles
Create Date: 2026-11-26 03:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0008trusted'
down_revision: Union[str, None] = '0006bundles'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('workunits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trusted_only', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('workunits', schema=None) as batch_op:
        batch_op.drop_column('trusted_only')
