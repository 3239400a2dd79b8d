"""rotations.archived_at: an archived rotation pages nobody and leaves the lists, its history kept

Revision ID: 0015
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa

import oncall.db


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rotations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived_at', oncall.db.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('rotations', schema=None) as batch_op:
        batch_op.drop_column('archived_at')
