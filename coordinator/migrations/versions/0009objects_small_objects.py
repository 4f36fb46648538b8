"""small objects kept in the database

Revision ID: 0009objects
Revises: 0008trusted
Create Date: 2026-11-26 09:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0009objects'
down_revision: Union[str, None] = '0008trusted'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'small_objects',
        sa.Column('key', sa.String(length=512), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )


def downgrade() -> None:
    op.drop_table('small_objects')
