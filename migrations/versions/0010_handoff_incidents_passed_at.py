"""handoffs.incidents_passed_at: when the outgoing on-call's incidents passed to the incoming one (at the
shift change, even when the handoff was acknowledged earlier)

Revision ID: 0010h
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

import oncall.db


revision = '0010h'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('incidents_passed_at', oncall.db.UTCDateTime(timezone=True), nullable=True))
    # Handoffs acknowledged before this revision passed their incidents when acknowledged.
    op.execute("UPDATE handoffs SET incidents_passed_at = acknowledged_at WHERE state = 'acknowledged'")


def downgrade():
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.drop_column('incidents_passed_at')
