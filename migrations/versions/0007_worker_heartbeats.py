"""worker_heartbeats: each worker process says it is alive, for /healthz, /metrics and `oncall status`

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

import oncall.db


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'worker_heartbeats',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('host', sa.String(length=255), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('version', sa.String(length=64), nullable=False),
        sa.Column('started_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_worker_heartbeats')),
    )
    with op.batch_alter_table('worker_heartbeats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_worker_heartbeats_last_seen_at'), ['last_seen_at'], unique=False)


def downgrade():
    with op.batch_alter_table('worker_heartbeats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_worker_heartbeats_last_seen_at'))
    op.drop_table('worker_heartbeats')
