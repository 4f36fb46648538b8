"""the validator's queue: results awaiting a solo validation

Revision ID: 0010validator
Revises: 0009objects
Create Date: 2026-11-27 11:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0010validator'
down_revision: Union[str, None] = '0009objects'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('results') as batch:
        batch.add_column(sa.Column('awaiting_validator', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_index('ix_results_awaiting_validator', 'results', ['id'], unique=False,
                    postgresql_where=sa.text('awaiting_validator'), sqlite_where=sa.text('awaiting_validator'))


def downgrade() -> None:
    op.drop_index('ix_results_awaiting_validator', table_name='results',
                  postgresql_where=sa.text('awaiting_validator'), sqlite_where=sa.text('awaiting_validator'))
    with op.batch_alter_table('results') as batch:
        batch.drop_column('awaiting_validator')
