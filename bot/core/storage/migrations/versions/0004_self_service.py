"""self-service: binding challenges and events, profile changes, channel opt-outs

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-23 12:01:33.485093
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.core.storage.models

revision: str = '0004'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = bot.core.storage.models.UTCDateTime


def upgrade() -> None:
    op.create_table('profile_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('changed_at', UTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_profile_changes_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_profile_changes'))
    )
    with op.batch_alter_table('profile_changes', schema=None) as batch_op:
        batch_op.create_index('ix_profile_changes_member_field', ['member_id', 'field', 'changed_at'], unique=False)

    op.create_table('binding_challenges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identity_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('phone_index', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('expires_at', UTC(timezone=True), nullable=True),
    sa.Column('verified_at', UTC(timezone=True), nullable=True),
    sa.Column('created_at', UTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['identity_id'], ['channel_identities.id'], name=op.f('fk_binding_challenges_identity_id_channel_identities')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_binding_challenges_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_binding_challenges'))
    )
    with op.batch_alter_table('binding_challenges', schema=None) as batch_op:
        batch_op.create_index('ix_binding_challenges_identity_created', ['identity_id', 'created_at'], unique=False)
        batch_op.create_index('ix_binding_challenges_phone_created', ['phone_index', 'created_at'], unique=False)

    op.create_table('binding_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('identity_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('occurred_at', UTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['identity_id'], ['channel_identities.id'], name=op.f('fk_binding_events_identity_id_channel_identities')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_binding_events_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_binding_events'))
    )
    with op.batch_alter_table('binding_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_binding_events_identity_id'), ['identity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_binding_events_member_id'), ['member_id'], unique=False)

    op.create_table('channel_opt_outs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identity_id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=16), nullable=False),
    sa.Column('created_at', UTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['identity_id'], ['channel_identities.id'], name=op.f('fk_channel_opt_outs_identity_id_channel_identities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_opt_outs')),
    sa.UniqueConstraint('identity_id', 'topic', name=op.f('uq_channel_opt_outs_identity_id'))
    )


def downgrade() -> None:
    op.drop_table('channel_opt_outs')
    with op.batch_alter_table('binding_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_binding_events_member_id'))
        batch_op.drop_index(batch_op.f('ix_binding_events_identity_id'))
    op.drop_table('binding_events')
    with op.batch_alter_table('binding_challenges', schema=None) as batch_op:
        batch_op.drop_index('ix_binding_challenges_phone_created')
        batch_op.drop_index('ix_binding_challenges_identity_created')
    op.drop_table('binding_challenges')
    with op.batch_alter_table('profile_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_profile_changes_member_field')
    op.drop_table('profile_changes')
