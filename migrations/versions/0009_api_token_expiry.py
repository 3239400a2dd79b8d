"""api_tokens.expires_at and last_used_at: tokens can expire, and show when they were last used

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

import oncall.db


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', oncall.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_used_at', oncall.db.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('expires_at')
