"""calendar_feeds.last_fetched_at: a person sees which of their calendar links are still in use

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa

import oncall.db


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('calendar_feeds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_fetched_at', oncall.db.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('calendar_feeds', schema=None) as batch_op:
        batch_op.drop_column('last_fetched_at')
