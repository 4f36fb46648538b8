"""trust, credit, result cache

Revision ID: 0005trust
Revises: 0002
Create Date: 2026-11-26 02:21:24.249013
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0005trust'
down_revision: Union[str, None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('credit_ledger',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('node_id', sa.String(length=32), nullable=False),
    sa.Column('result_id', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.Double(), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('at', sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(['node_id'], ['nodes.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('result_id', 'reason')
    )
    with op.batch_alter_table('credit_ledger', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_ledger_node_id'), ['node_id'], unique=False)

    with op.batch_alter_table('enrolment_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner', sa.String(length=100), nullable=True))

    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trust_good', sa.Double(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('trust_bad', sa.Double(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('consecutive_valid', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('anomaly_flags', sa.Integer(), nullable=False, server_default='0'))

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('replication_policy', sa.String(length=16), nullable=False, server_default='newral'))

    with op.batch_alter_table('workunits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('params_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('accepted_mode', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('verification', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_workunits_params_key'), ['params_key'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('enrolment_tokens', schema=None) as batch_op:
        batch_op.drop_column('owner')

    with op.batch_alter_table('workunits', schema=None) as batch_op:
        batch_op.drop_column('accepted_mode')
        batch_op.drop_index(batch_op.f('ix_workunits_params_key'))
        batch_op.drop_column('verification')
        batch_op.drop_column('params_key')

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('replication_policy')

    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.drop_column('anomaly_flags')
        batch_op.drop_column('consecutive_valid')
        batch_op.drop_column('trust_bad')
        batch_op.drop_column('trust_good')

    with op.batch_alter_table('credit_ledger', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_ledger_node_id'))

    op.drop_table('credit_ledger')
