"""incidents, escalation policies, integrations and the notification outbox (issue #4)

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
import oncall.db


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_OPEN_WITH_KEY = "dedup_key IS NOT NULL AND status != 'resolved'"


def upgrade():
    op.create_table('escalation_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('severity', sa.String(length=4), nullable=False),
    sa.Column('repeat', sa.Integer(), nullable=False),
    sa.Column('steps', sa.JSON(), nullable=False),
    sa.Column('updated_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_escalation_policies_team_id_teams'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_escalation_policies_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation_policies')),
    sa.UniqueConstraint('team_id', 'severity', name=op.f('uq_escalation_policies_team_id_severity'))
    )
    with op.batch_alter_table('escalation_policies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalation_policies_team_id'), ['team_id'], unique=False)

    op.create_table('integrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('last_used_at', oncall.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_integrations_team_id_teams'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_integrations_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integrations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_integrations_token_hash'))
    )
    with op.batch_alter_table('integrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_integrations_team_id'), ['team_id'], unique=False)

    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('severity', sa.String(length=4), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('dashboard_url', sa.String(length=2000), nullable=True),
    sa.Column('runbook_url', sa.String(length=2000), nullable=True),
    sa.Column('chat_channel', sa.String(length=200), nullable=True),
    sa.Column('dedup_key', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('integration_id', sa.Integer(), nullable=True),
    sa.Column('alert', sa.JSON(), nullable=True),
    sa.Column('trigger_count', sa.Integer(), nullable=False),
    sa.Column('last_triggered_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('acknowledged_at', oncall.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.Column('acknowledged_via', sa.String(length=16), nullable=True),
    sa.Column('resolved_at', oncall.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolved_via', sa.String(length=16), nullable=True),
    sa.Column('policy', sa.JSON(), nullable=False),
    sa.Column('next_step', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('next_step_at', oncall.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('exhausted_at', oncall.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_incidents_team_id_teams'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'], name=op.f('fk_incidents_integration_id_integrations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_incidents_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['users.id'], name=op.f('fk_incidents_acknowledged_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_incidents_resolved_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    sa.UniqueConstraint('code', name=op.f('uq_incidents_code'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incidents_team_id'), ['team_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_next_step_at'), ['next_step_at'], unique=False)
        batch_op.create_index('ix_incidents_team_id_dedup_key', ['team_id', 'dedup_key'], unique=False)
        batch_op.create_index('ix_incidents_status_created_at', ['status', 'created_at'], unique=False)
        batch_op.create_index('uq_incidents_open_dedup_key', ['team_id', 'dedup_key'], unique=True,
                              sqlite_where=sa.text(_OPEN_WITH_KEY), postgresql_where=sa.text(_OPEN_WITH_KEY))

    op.create_table('timeline_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('at', oncall.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('via', sa.String(length=16), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_timeline_events_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_timeline_events_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timeline_events'))
    )
    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.create_index('ix_timeline_events_incident_id_at', ['incident_id', 'at'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', oncall.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('to', sa.String(length=20), nullable=True),
    sa.Column('provider_id', sa.String(length=64), nullable=True),
    sa.Column('digest', sa.Boolean(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('fallback_of_id', sa.Integer(), nullable=True),
    sa.Column('fell_back', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_notifications_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['fallback_of_id'], ['notifications.id'], name=op.f('fk_notifications_fallback_of_id_notifications'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('incident_id', 'step', 'round', 'user_id', 'channel', name=op.f('uq_notifications_incident_id_step_round_user_id_channel'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_state_next_attempt_at', ['state', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_notifications_user_id_incident_id', ['user_id', 'incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_provider_id'), ['provider_id'], unique=False)

    op.create_table('sms_windows',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('last_sent_at', oncall.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sms_windows_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_sms_windows'))
    )


def downgrade():
    op.drop_table('sms_windows')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_provider_id'))
        batch_op.drop_index('ix_notifications_user_id_incident_id')
        batch_op.drop_index('ix_notifications_state_next_attempt_at')
    op.drop_table('notifications')
    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.drop_index('ix_timeline_events_incident_id_at')
    op.drop_table('timeline_events')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('uq_incidents_open_dedup_key')
        batch_op.drop_index('ix_incidents_status_created_at')
        batch_op.drop_index('ix_incidents_team_id_dedup_key')
        batch_op.drop_index(batch_op.f('ix_incidents_next_step_at'))
        batch_op.drop_index(batch_op.f('ix_incidents_team_id'))
    op.drop_table('incidents')
    with op.batch_alter_table('integrations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_integrations_team_id'))
    op.drop_table('integrations')
    with op.batch_alter_table('escalation_policies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_escalation_policies_team_id'))
    op.drop_table('escalation_policies')
