"""feed_event_stamps: per-event SEQUENCE and LAST-MODIFIED of calendar feeds

Revision ID: 0016
Revises: 0015
"""
from alembic import op
import sqlalchemy as sa

import oncall.db


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'feed_event_stamps',
        sa.Column('uid_hash', sa.String(length=32), nullable=False),
        sa.Column('fingerprint', sa.String(length=32), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('modified_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('end_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('uid_hash', name=op.f('pk_feed_event_stamps')),
    )
    with op.batch_alter_table('feed_event_stamps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feed_event_stamps_end_at'), ['end_at'], unique=False)


def downgrade():
    with op.batch_alter_table('feed_event_stamps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feed_event_stamps_end_at'))
    op.drop_table('feed_event_stamps')
