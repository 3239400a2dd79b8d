"""swap_requests: asking a teammate to take part of one's shift

Revision ID: 0011s
Revises: 0010h
"""
from alembic import op
import sqlalchemy as sa

import oncall.db


revision = '0011s'
down_revision = '0010h'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('swap_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rotation_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('to_user_id', sa.Integer(), nullable=True),
    sa.Column('start_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('end_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', oncall.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('override_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_swap_requests_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['override_id'], ['overrides.id'], name=op.f('fk_swap_requests_override_id_overrides'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['requester_id'], ['users.id'], name=op.f('fk_swap_requests_requester_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rotation_id'], ['rotations.id'], name=op.f('fk_swap_requests_rotation_id_rotations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_swap_requests_team_id_teams'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['to_user_id'], ['users.id'], name=op.f('fk_swap_requests_to_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_swap_requests'))
    )
    op.create_index('ix_swap_requests_team_state', 'swap_requests', ['team_id', 'state'], unique=False)
    op.create_index('ix_swap_requests_to_user_state', 'swap_requests', ['to_user_id', 'state'], unique=False)


def downgrade():
    op.drop_index('ix_swap_requests_to_user_state', table_name='swap_requests')
    op.drop_index('ix_swap_requests_team_state', table_name='swap_requests')
    op.drop_table('swap_requests')
