"""users.phone_verified, phone_verifications and notifications.purpose: only verified numbers are paged

Numbers already stored were entered by administrators (the API, the CLI, the demo) and have been paged until
now, so they stay verified; a number a person enters from now on is verified by a code sent to it.

Revision ID: 0012
Revises: 0011s
"""
from alembic import op
import sqlalchemy as sa

import oncall.db


revision = '0012'
down_revision = '0011s'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_verified', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(sa.text("UPDATE users SET phone_verified = :yes WHERE phone IS NOT NULL")
               .bindparams(sa.bindparam("yes", True, type_=sa.Boolean())))
    op.create_table(
        'phone_verifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('verified_at', oncall.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_phone_verifications_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_phone_verifications')),
    )
    with op.batch_alter_table('phone_verifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_phone_verifications_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('purpose')
    with op.batch_alter_table('phone_verifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_phone_verifications_user_id'))
    op.drop_table('phone_verifications')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('phone_verified')
