"""incident lifecycle: incident_roles, status_updates and their update_reminders, postmortems and action_items

Revision ID: 0020
Revises: 0019
"""
from alembic import op
import sqlalchemy as sa

import oncall.db


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'incident_roles',
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('commander_id', sa.Integer(), nullable=True),
        sa.Column('tech_lead_id', sa.Integer(), nullable=True),
        sa.Column('comms_lead_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_roles_incident_id_incidents'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['commander_id'], ['users.id'], name=op.f('fk_incident_roles_commander_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['tech_lead_id'], ['users.id'], name=op.f('fk_incident_roles_tech_lead_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['comms_lead_id'], ['users.id'], name=op.f('fk_incident_roles_comms_lead_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('incident_id', name=op.f('pk_incident_roles')),
    )
    op.create_table(
        'status_updates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('via', sa.String(length=16), nullable=True),
        sa.Column('created_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_status_updates_incident_id_incidents'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_status_updates_user_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_status_updates')),
    )
    with op.batch_alter_table('status_updates', schema=None) as batch_op:
        batch_op.create_index('ix_status_updates_incident_id_created_at', ['incident_id', 'created_at'], unique=False)
    op.create_table(
        'update_reminders',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('slot_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('reminded_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'],
                                name=op.f('fk_update_reminders_incident_id_incidents'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_update_reminders_user_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_update_reminders')),
        sa.UniqueConstraint('incident_id', 'slot_at', name=op.f('uq_update_reminders_incident_id_slot_at')),
    )
    op.create_table(
        'postmortems',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=500), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('impact', sa.Text(), nullable=False),
        sa.Column('timeline', sa.Text(), nullable=False),
        sa.Column('root_cause', sa.Text(), nullable=False),
        sa.Column('went_well', sa.Text(), nullable=False),
        sa.Column('went_poorly', sa.Text(), nullable=False),
        sa.Column('lessons', sa.Text(), nullable=False),
        sa.Column('created_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.Column('published_at', oncall.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_postmortems_incident_id_incidents'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_postmortems_updated_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_postmortems')),
        sa.UniqueConstraint('incident_id', name=op.f('uq_postmortems_incident_id')),
    )
    op.create_table(
        'action_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('postmortem_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('text', sa.String(length=500), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=True),
        sa.Column('due_on', sa.Date(), nullable=True),
        sa.Column('created_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('done_at', oncall.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('done_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['done_by_id'], ['users.id'], name=op.f('fk_action_items_done_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_action_items_owner_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['postmortem_id'], ['postmortems.id'],
                                name=op.f('fk_action_items_postmortem_id_postmortems'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_action_items')),
    )
    with op.batch_alter_table('action_items', schema=None) as batch_op:
        batch_op.create_index('ix_action_items_owner_id_done_at', ['owner_id', 'done_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_action_items_postmortem_id'), ['postmortem_id'], unique=False)


def downgrade():
    with op.batch_alter_table('action_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_items_postmortem_id'))
        batch_op.drop_index('ix_action_items_owner_id_done_at')
    op.drop_table('action_items')
    op.drop_table('postmortems')
    op.drop_table('update_reminders')
    with op.batch_alter_table('status_updates', schema=None) as batch_op:
        batch_op.drop_index('ix_status_updates_incident_id_created_at')
    op.drop_table('status_updates')
    op.drop_table('incident_roles')
