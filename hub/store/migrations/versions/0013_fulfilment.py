"""channel fulfilments

Revision ID: 0013_fulfilment
Revises: 0012_qbo_tokens
Create Date: 2026-12-04

``channel_fulfilments`` is the outbox of fulfilments sent back to the channels: one row per part
(a Shopify location, a marketplace package) under our own reference, written before the call, so a
retry after a timeout looks the channel up first and never fulfils twice.
"""

from alembic import op
import sqlalchemy as sa
import hub.store._types


revision = '0013_fulfilment'
down_revision = '0012_qbo_tokens'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('channel_fulfilments',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('partner_id', sa.String(length=63), nullable=False),
    sa.Column('order_ref', sa.String(length=80), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=False),
    sa.Column('part', sa.String(length=120), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('tracking_number', sa.String(length=80), nullable=False),
    sa.Column('request', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('channel_record', sa.String(length=120), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', hub.store._types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', hub.store._types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shipment_id'], ['carrier_shipments.id'],
                            name=op.f('fk_channel_fulfilments_shipment_id_carrier_shipments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_fulfilments')),
    sa.UniqueConstraint('channel', 'reference', name=op.f('uq_channel_fulfilments_channel_reference'))
    )
    op.create_index('ix_channel_fulfilments_order', 'channel_fulfilments', ['channel', 'partner_id', 'order_ref'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_channel_fulfilments_order', table_name='channel_fulfilments')
    op.drop_table('channel_fulfilments')
