"""app bundles

Revision ID: 0006bundles
Revises: 0005trust
Create Date: 2026-11-26 02:47:22.232308
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0006bundles'
down_revision: Union[str, None] = '0005trust'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('app_bundles',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('app_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('manifest_sha256', sa.String(length=64), nullable=False),
    sa.Column('object_key', sa.String(length=512), nullable=False),
    sa.Column('created_at', sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], ),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_id', 'app_id', 'version')
    )
    with op.batch_alter_table('app_bundles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_app_bundles_project_id'), ['project_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('app_bundles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_app_bundles_project_id'))

    op.drop_table('app_bundles')
