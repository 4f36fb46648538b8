"""node reputation

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 02:18:19.798064
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0002'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('trust_score', sa.Double(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('trust_level', sa.String(length=16), nullable=False, server_default='probation'))
        batch_op.add_column(sa.Column('valid_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('invalid_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('error_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('timeout_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('credit', sa.Double(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('status_reason', sa.Text(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.drop_column('status_reason')
        batch_op.drop_column('credit')
        batch_op.drop_column('timeout_count')
        batch_op.drop_column('error_count')
        batch_op.drop_column('invalid_count')
        batch_op.drop_column('valid_count')
        batch_op.drop_column('trust_level')
        batch_op.drop_column('trust_score')
        batch_op.drop_column('owner')

