"""coverage_checks and coverage_warnings: the worker warns a team's admins once of each new coverage gap

Revision ID: 0017
Revises: 0016
"""
from alembic import op
import sqlalchemy as sa

import oncall.db


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'coverage_checks',
        sa.Column('rotation_id', sa.Integer(), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('checked_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['rotation_id'], ['rotations.id'], name=op.f('fk_coverage_checks_rotation_id_rotations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('rotation_id', name=op.f('pk_coverage_checks')),
    )
    op.create_table(
        'coverage_warnings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rotation_id', sa.Integer(), nullable=False),
        sa.Column('start_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('end_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('warned_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['rotation_id'], ['rotations.id'],
                                name=op.f('fk_coverage_warnings_rotation_id_rotations'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_coverage_warnings')),
        sa.UniqueConstraint('rotation_id', 'start_at', name=op.f('uq_coverage_warnings_rotation_id_start_at')),
    )
    with op.batch_alter_table('coverage_warnings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coverage_warnings_end_at'), ['end_at'], unique=False)


def downgrade():
    with op.batch_alter_table('coverage_warnings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coverage_warnings_end_at'))
    op.drop_table('coverage_warnings')
    op.drop_table('coverage_checks')
