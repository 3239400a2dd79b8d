"""maintenance_windows, heartbeat_monitors, and incidents held by a maintenance window

Revision ID: 0018
Revises: 0017
"""
from alembic import op
import sqlalchemy as sa

import oncall.db


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'maintenance_windows',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=False),
        sa.Column('start_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('end_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_maintenance_windows_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_maintenance_windows_team_id_teams'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_maintenance_windows')),
    )
    op.create_index('ix_maintenance_windows_team_id_end_at', 'maintenance_windows', ['team_id', 'end_at'])
    op.create_table(
        'heartbeat_monitors',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('interval_minutes', sa.Integer(), nullable=False),
        sa.Column('severity', sa.String(length=4), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_ping_at', oncall.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('due_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_heartbeat_monitors_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'],
                                name=op.f('fk_heartbeat_monitors_incident_id_incidents'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_heartbeat_monitors_team_id_teams'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_heartbeat_monitors')),
        sa.UniqueConstraint('secret_hash', name=op.f('uq_heartbeat_monitors_secret_hash')),
    )
    with op.batch_alter_table('heartbeat_monitors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_heartbeat_monitors_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_heartbeat_monitors_team_id'), ['team_id'], unique=False)
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held', sa.Boolean(), server_default=sa.text('false'), nullable=False))
        batch_op.add_column(sa.Column('suppressed_at', oncall.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('maintenance_window_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_incidents_maintenance_window_id'), ['maintenance_window_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_incidents_maintenance_window_id_maintenance_windows'),
                                    'maintenance_windows', ['maintenance_window_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_incidents_maintenance_window_id_maintenance_windows'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_incidents_maintenance_window_id'))
        batch_op.drop_column('maintenance_window_id')
        batch_op.drop_column('suppressed_at')
        batch_op.drop_column('held')
    with op.batch_alter_table('heartbeat_monitors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_heartbeat_monitors_team_id'))
        batch_op.drop_index(batch_op.f('ix_heartbeat_monitors_due_at'))
    op.drop_table('heartbeat_monitors')
    op.drop_index('ix_maintenance_windows_team_id_end_at', table_name='maintenance_windows')
    op.drop_table('maintenance_windows')
