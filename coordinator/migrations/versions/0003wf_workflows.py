"""workflows: DAG tasks and edges, workunits.workflow_task_id, projects.share

Revision ID: 0003wf
Revises: 0002
Create Date: 2026-11-26 03:00:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0003wf'
down_revision: Union[str, None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('workflows',
    sa.Column('id', Id, nullable=False),
    sa.Column('project_id', Id, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('max_tasks', sa.Integer(), nullable=False),
    sa.Column('max_spawn', sa.Integer(), nullable=False),
    sa.Column('tasks_total', sa.Integer(), nullable=False),
    sa.Column('tasks_complete', sa.Integer(), nullable=False),
    sa.Column('failure_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.Double(), nullable=False),
    sa.Column('finished_at', sa.Double(), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('workflows', schema=None) as batch_op:
        batch_op.create_index('ix_workflows_project_state', ['project_id', 'state'], unique=False)

    op.create_table('workflow_tasks',
    sa.Column('id', Id, nullable=False),
    sa.Column('workflow_id', Id, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('app', sa.String(length=64), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('inputs', sa.JSON(), nullable=False),
    sa.Column('replication', sa.JSON(), nullable=False),
    sa.Column('cost', sa.Double(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('complete', sa.Boolean(), nullable=False),
    sa.Column('parent_id', sa.BigInteger(), nullable=True),
    sa.Column('waiting_on', sa.Integer(), nullable=False),
    sa.Column('open_children', sa.Integer(), nullable=False),
    sa.Column('workunit_id', Id, nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.Column('output_key', sa.String(length=512), nullable=True),
    sa.Column('output_sha256', sa.String(length=64), nullable=True),
    sa.Column('output_size', sa.BigInteger(), nullable=True),
    sa.Column('failure_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.Double(), nullable=False),
    sa.Column('queued_at', sa.Double(), nullable=True),
    sa.Column('finished_at', sa.Double(), nullable=True),
    sa.ForeignKeyConstraint(['workflow_id'], ['workflows.id'], ),
    sa.ForeignKeyConstraint(['workunit_id'], ['workunits.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workflow_id', 'name')
    )
    with op.batch_alter_table('workflow_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_workflow_tasks_parent', ['parent_id'], unique=False)
        batch_op.create_index('ix_workflow_tasks_workflow_state', ['workflow_id', 'state'], unique=False)

    op.create_table('workflow_edges',
    sa.Column('task_id', Id, nullable=False),
    sa.Column('depends_on_id', Id, nullable=False),
    sa.ForeignKeyConstraint(['depends_on_id'], ['workflow_tasks.id'], ),
    sa.ForeignKeyConstraint(['task_id'], ['workflow_tasks.id'], ),
    sa.PrimaryKeyConstraint('task_id', 'depends_on_id')
    )
    with op.batch_alter_table('workflow_edges', schema=None) as batch_op:
        batch_op.create_index('ix_workflow_edges_depends_on', ['depends_on_id'], unique=False)

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('share', sa.Double(), nullable=False, server_default='1'))

    with op.batch_alter_table('workunits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('workflow_task_id', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('workunits', schema=None) as batch_op:
        batch_op.drop_column('workflow_task_id')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('share')
    with op.batch_alter_table('workflow_edges', schema=None) as batch_op:
        batch_op.drop_index('ix_workflow_edges_depends_on')
    op.drop_table('workflow_edges')
    with op.batch_alter_table('workflow_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_workflow_tasks_workflow_state')
        batch_op.drop_index('ix_workflow_tasks_parent')
    op.drop_table('workflow_tasks')
    with op.batch_alter_table('workflows', schema=None) as batch_op:
        batch_op.drop_index('ix_workflows_project_state')
    op.drop_table('workflows')
