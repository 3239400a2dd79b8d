"""Handoff reminders go through the paging outbox: notifications may be messages without an incident (their
text in `body`); handoff_reminders point at their outbox row instead of sending themselves.

Reminders still waiting to be sent at upgrade time become outbox rows, so none is lost.

Revision ID: 0008
Revises: 0007
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

import oncall.db


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.alter_column('incident_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('body', sa.Text(), nullable=True))
    with op.batch_alter_table('handoff_reminders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notification_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_handoff_reminders_notification_id_notifications'),
                                    'notifications', ['notification_id'], ['id'], ondelete='SET NULL')

    bind = op.get_bind()
    reminders = sa.table('handoff_reminders', sa.column('id', sa.Integer), sa.column('user_id', sa.Integer),
                         sa.column('body', sa.Text), sa.column('state', sa.String), sa.column('to', sa.String),
                         sa.column('attempts', sa.Integer), sa.column('notification_id', sa.Integer),
                         sa.column('next_attempt_at', oncall.db.UTCDateTime()),
                         sa.column('created_at', oncall.db.UTCDateTime()))
    notifications = sa.table('notifications', sa.column('id', sa.Integer), sa.column('incident_id', sa.Integer),
                             sa.column('step', sa.Integer), sa.column('round', sa.Integer),
                             sa.column('user_id', sa.Integer), sa.column('channel', sa.String),
                             sa.column('state', sa.String), sa.column('attempts', sa.Integer),
                             sa.column('next_attempt_at', oncall.db.UTCDateTime()),
                             sa.column('created_at', oncall.db.UTCDateTime()), sa.column('to', sa.String),
                             sa.column('body', sa.Text), sa.column('digest', sa.Boolean),
                             sa.column('fell_back', sa.Boolean))
    waiting = bind.execute(sa.select(reminders).where(reminders.c.state.in_(('pending', 'sending')),
                                                      reminders.c.user_id.is_not(None))).all()
    now = datetime.now(timezone.utc)
    for row in waiting:
        notification_id = bind.execute(notifications.insert().values(
            incident_id=None, step=0, round=0, user_id=row.user_id, channel='sms', state='pending', attempts=0,
            next_attempt_at=now, created_at=row.created_at or now, to=row.to, body=row.body, digest=False,
            fell_back=False).returning(notifications.c.id)).scalar_one()
        bind.execute(reminders.update().where(reminders.c.id == row.id)
                     .values(state='queued', notification_id=notification_id))

    with op.batch_alter_table('handoff_reminders', schema=None) as batch_op:
        batch_op.drop_index('ix_handoff_reminders_state_next_attempt_at')
        for column in ('attempts', 'next_attempt_at', 'sent_at', 'to', 'provider_id'):
            batch_op.drop_column(column)


def downgrade():
    with op.batch_alter_table('handoff_reminders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('next_attempt_at', oncall.db.UTCDateTime(timezone=True), nullable=False,
                                      server_default=sa.func.current_timestamp()))
        batch_op.add_column(sa.Column('sent_at', oncall.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('to', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('provider_id', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_handoff_reminders_state_next_attempt_at', ['state', 'next_attempt_at'], unique=False)
        batch_op.drop_constraint(batch_op.f('fk_handoff_reminders_notification_id_notifications'), type_='foreignkey')
        batch_op.drop_column('notification_id')
    op.execute("DELETE FROM notifications WHERE incident_id IS NULL")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('body')
        batch_op.alter_column('incident_id', existing_type=sa.Integer(), nullable=False)
