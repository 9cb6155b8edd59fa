"""carrier shipments and tracking events

Revision ID: 0006_carrier
Revises: 0005_claims
Create Date: 2026-12-04

``carrier_shipments`` is the carrier target's outbox: one row per (target, our reference) holding the
carrier's shipment id before the label is bought, so a retry after a timeout looks the shipment up
and never buys a second label. ``carrier_events`` remembers applied tracking webhook events by id.
"""

from alembic import op
import sqlalchemy as sa
import hub.store._types


revision = '0006_carrier'
down_revision = '0005_claims'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('carrier_shipments',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('target', sa.String(length=40), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=False),
    sa.Column('partner_id', sa.String(length=63), nullable=False),
    sa.Column('po_number', sa.String(length=80), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('shipment_id', sa.String(length=64), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('rate_id', sa.String(length=64), nullable=True),
    sa.Column('carrier', sa.String(length=40), nullable=True),
    sa.Column('service', sa.String(length=80), nullable=True),
    sa.Column('rate', hub.store._types.ExactDecimal(precision=28, scale=8), nullable=True),
    sa.Column('tracking_code', sa.String(length=80), nullable=True),
    sa.Column('label_url', sa.String(length=1000), nullable=True),
    sa.Column('tracker_id', sa.String(length=64), nullable=True),
    sa.Column('tracking_status', sa.String(length=40), nullable=True),
    sa.Column('tracking_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carrier_shipments')),
    sa.UniqueConstraint('target', 'reference', name=op.f('uq_carrier_shipments_target_reference'))
    )
    op.create_index('ix_carrier_shipments_tracker_id', 'carrier_shipments', ['tracker_id'], unique=False)
    op.create_table('carrier_events',
    sa.Column('event_id', sa.String(length=100), nullable=False),
    sa.Column('tracker_id', sa.String(length=64), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_carrier_events'))
    )


def downgrade() -> None:
    op.drop_table('carrier_events')
    op.drop_index('ix_carrier_shipments_tracker_id', table_name='carrier_shipments')
    op.drop_table('carrier_shipments')
