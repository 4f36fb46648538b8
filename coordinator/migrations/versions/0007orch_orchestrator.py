"""orchestrator

Revision ID: 0007orch
Revises: 0006bundles
Create Date: 2026-11-26 02:52:25.814061
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0007orch'
down_revision: Union[str, None] = '0006bundles'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('orchestrator_recommendations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.Double(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('node_id', sa.String(length=32), nullable=True),
    sa.Column('project_id', sa.BigInteger(), nullable=True),
    sa.Column('workunit_id', sa.BigInteger(), nullable=True),
    sa.Column('result_id', sa.BigInteger(), nullable=True),
    sa.Column('summary', sa.String(length=400), nullable=False),
    sa.Column('predicted_benefit', sa.Double(), nullable=False),
    sa.Column('prediction', sa.JSON(), nullable=False),
    sa.Column('decided_at', sa.Double(), nullable=True),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('orchestrator_recommendations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orchestrator_recommendations_status'), ['status'], unique=False)

    op.create_table('orchestrator_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('partial_actions', sa.JSON(), nullable=False),
    sa.Column('changed_at', sa.Double(), nullable=False),
    sa.Column('changed_by', sa.String(length=100), nullable=False),
    sa.Column('models', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('orchestrator_settings')
    with op.batch_alter_table('orchestrator_recommendations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orchestrator_recommendations_status'))

    op.drop_table('orchestrator_recommendations')
