"""handoffs, watch items, handoff reminders and sign-in throttling (issue #5)

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
import oncall.db


revision = '0004'
down_revision = '0003'
branch_labels = None
# No foreign key to incidents: handoffs snapshot incidents as JSON, so this revision needs only 0001.
depends_on = None


def upgrade():
    op.create_table('handoffs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rotation_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('shift_change_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('outgoing_user_id', sa.Integer(), nullable=True),
    sa.Column('incoming_user_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('sections', sa.JSON(), nullable=True),
    sa.Column('since_at', oncall.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', oncall.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.Column('acknowledged_at', oncall.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['rotation_id'], ['rotations.id'], name=op.f('fk_handoffs_rotation_id_rotations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_handoffs_team_id_teams'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['outgoing_user_id'], ['users.id'], name=op.f('fk_handoffs_outgoing_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['incoming_user_id'], ['users.id'], name=op.f('fk_handoffs_incoming_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_handoffs_submitted_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['users.id'], name=op.f('fk_handoffs_acknowledged_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handoffs')),
    sa.UniqueConstraint('rotation_id', 'shift_change_at', name=op.f('uq_handoffs_rotation_id_shift_change_at'))
    )
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handoffs_team_id'), ['team_id'], unique=False)

    op.create_table('watch_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('handoff_id', sa.Integer(), nullable=True),
    sa.Column('created_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', oncall.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_watch_items_team_id_teams'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_watch_items_added_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['handoff_id'], ['handoffs.id'], name=op.f('fk_watch_items_handoff_id_handoffs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_watch_items_closed_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watch_items'))
    )
    with op.batch_alter_table('watch_items', schema=None) as batch_op:
        batch_op.create_index('ix_watch_items_team_closed', ['team_id', 'closed_at'], unique=False)

    op.create_table('handoff_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rotation_id', sa.Integer(), nullable=False),
    sa.Column('shift_change_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', oncall.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('to', sa.String(length=20), nullable=True),
    sa.Column('provider_id', sa.String(length=64), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['rotation_id'], ['rotations.id'], name=op.f('fk_handoff_reminders_rotation_id_rotations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_handoff_reminders_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handoff_reminders')),
    sa.UniqueConstraint('rotation_id', 'shift_change_at', 'kind', name=op.f('uq_handoff_reminders_rotation_id_shift_change_at_kind'))
    )
    with op.batch_alter_table('handoff_reminders', schema=None) as batch_op:
        batch_op.create_index('ix_handoff_reminders_state_next_attempt_at', ['state', 'next_attempt_at'], unique=False)

    op.create_table('login_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('at', oncall.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures'))
    )
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index('ix_login_failures_email_ip_at', ['email', 'ip', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failures_email_ip_at')
    op.drop_table('login_failures')
    with op.batch_alter_table('handoff_reminders', schema=None) as batch_op:
        batch_op.drop_index('ix_handoff_reminders_state_next_attempt_at')
    op.drop_table('handoff_reminders')
    with op.batch_alter_table('watch_items', schema=None) as batch_op:
        batch_op.drop_index('ix_watch_items_team_closed')
    op.drop_table('watch_items')
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handoffs_team_id'))
    op.drop_table('handoffs')
