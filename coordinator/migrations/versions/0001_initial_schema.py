"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 01:54:22.882660
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0001'
down_revision: Union[str, None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('admins',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_table('apps',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', sa.Double(), nullable=False),
    sa.Column('kind', sa.String(length=48), nullable=False),
    sa.Column('node_id', sa.String(length=32), nullable=True),
    sa.Column('project_id', sa.BigInteger(), nullable=True),
    sa.Column('workunit_id', sa.BigInteger(), nullable=True),
    sa.Column('result_id', sa.BigInteger(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_kind'), ['kind'], unique=False)

    op.create_table('nodes',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('arch', sa.String(length=32), nullable=False),
    sa.Column('cores', sa.Integer(), nullable=False),
    sa.Column('memory_bytes', sa.BigInteger(), nullable=False),
    sa.Column('disk_free_bytes', sa.BigInteger(), nullable=False),
    sa.Column('client_version', sa.String(length=32), nullable=False),
    sa.Column('benchmark', sa.Double(), nullable=False),
    sa.Column('created_at', sa.Double(), nullable=False),
    sa.Column('last_seen_at', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('app_versions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('app_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('bundle_sha256', sa.String(length=64), nullable=True),
    sa.Column('signature', sa.Text(), nullable=True),
    sa.Column('created_at', sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('app_id', 'version', 'platform')
    )
    op.create_table('enrolment_tokens',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.Double(), nullable=False),
    sa.Column('expires_at', sa.Double(), nullable=False),
    sa.Column('created_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('used_at', sa.Double(), nullable=True),
    sa.Column('node_id', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['admins.id'], ),
    sa.ForeignKeyConstraint(['node_id'], ['nodes.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_table('projects',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('app_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('workunits',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('app_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('cost', sa.Double(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('min_quorum', sa.Integer(), nullable=False),
    sa.Column('target_results', sa.Integer(), nullable=False),
    sa.Column('max_error_results', sa.Integer(), nullable=False),
    sa.Column('max_total_results', sa.Integer(), nullable=False),
    sa.Column('delay_bound', sa.Double(), nullable=False),
    sa.Column('min_memory_bytes', sa.BigInteger(), nullable=False),
    sa.Column('min_disk_bytes', sa.BigInteger(), nullable=False),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('result_count', sa.Integer(), nullable=False),
    sa.Column('canonical_result_id', sa.BigInteger(), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.Column('failure_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.Double(), nullable=False),
    sa.Column('finished_at', sa.Double(), nullable=True),
    sa.ForeignKeyConstraint(['app_version_id'], ['app_versions.id'], ),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('workunits', schema=None) as batch_op:
        batch_op.create_index('ix_workunits_project_state', ['project_id', 'state'], unique=False)

    op.create_table('findings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('workunit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('result_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('value', sa.String(length=400), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ),
    sa.ForeignKeyConstraint(['workunit_id'], ['workunits.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_id', 'kind', 'value')
    )
    op.create_table('results',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('workunit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('node_id', sa.String(length=32), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('verdict', sa.String(length=16), nullable=True),
    sa.Column('leased_at', sa.Double(), nullable=True),
    sa.Column('deadline_at', sa.Double(), nullable=True),
    sa.Column('reported_at', sa.Double(), nullable=True),
    sa.Column('output_key', sa.String(length=512), nullable=True),
    sa.Column('output_sha256', sa.String(length=64), nullable=True),
    sa.Column('output_size', sa.BigInteger(), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.Column('cpu_seconds', sa.Double(), nullable=True),
    sa.Column('wall_seconds', sa.Double(), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('created_at', sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(['node_id'], ['nodes.id'], ),
    sa.ForeignKeyConstraint(['workunit_id'], ['workunits.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.create_index('ix_results_leased_deadline', ['deadline_at'], unique=False, postgresql_where=sa.text("state = 'leased'"), sqlite_where=sa.text("state = 'leased'"))
        batch_op.create_index('ix_results_node_state', ['node_id', 'state'], unique=False)
        batch_op.create_index('ix_results_unsent', ['id'], unique=False, postgresql_where=sa.text("state = 'unsent'"), sqlite_where=sa.text("state = 'unsent'"))
        batch_op.create_index('ix_results_workunit_node', ['workunit_id', 'node_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.drop_index('ix_results_workunit_node')
        batch_op.drop_index('ix_results_unsent', postgresql_where=sa.text("state = 'unsent'"), sqlite_where=sa.text("state = 'unsent'"))
        batch_op.drop_index('ix_results_node_state')
        batch_op.drop_index('ix_results_leased_deadline', postgresql_where=sa.text("state = 'leased'"), sqlite_where=sa.text("state = 'leased'"))

    op.drop_table('results')
    op.drop_table('findings')
    with op.batch_alter_table('workunits', schema=None) as batch_op:
        batch_op.drop_index('ix_workunits_project_state')

    op.drop_table('workunits')
    op.drop_table('projects')
    op.drop_table('enrolment_tokens')
    op.drop_table('app_versions')
    op.drop_table('nodes')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_kind'))

    op.drop_table('events')
    op.drop_table('apps')
    op.drop_table('admins')
