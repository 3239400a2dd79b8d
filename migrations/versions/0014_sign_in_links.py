"""sign_in_links: one-time links with which a new person sets their password (made by an admin, copied to them)

Revision ID: 0014
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa

import oncall.db


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sign_in_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', oncall.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('used_at', oncall.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_sign_in_links_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sign_in_links_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_sign_in_links_token_hash')),
    )
    with op.batch_alter_table('sign_in_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_links_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('sign_in_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_links_user_id'))
    op.drop_table('sign_in_links')
