"""invoices and their audit trail

Revision ID: 0007_invoices
Revises: 0006_carrier
Create Date: 2026-12-04

Invoices and credit notes the hub sends to an accounting target, held ones included (``invoices``), and
every change of their state with who, when and why (``invoice_events``, insert-only by convention).
"""

from alembic import op
import sqlalchemy as sa

import hub.store._types


revision = '0007_invoices'
down_revision = '0006_carrier'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'invoices',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('target', sa.String(length=63), nullable=False),
        sa.Column('partner_id', sa.String(length=63), nullable=False),
        sa.Column('po_number', sa.String(length=80), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=True),
        sa.Column('reference', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('lines', sa.JSON(), nullable=False),
        sa.Column('amount', hub.store._types.ExactDecimal(precision=28, scale=8), nullable=False),
        sa.Column('refund_of', sa.String(length=64), nullable=True),
        sa.Column('findings', sa.JSON(), nullable=False),
        sa.Column('record', sa.String(length=64), nullable=True),
        sa.Column('record_id', sa.String(length=64), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_invoices_order_id_orders')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
        sa.UniqueConstraint('target', 'reference', name=op.f('uq_invoices_target_reference')),
    )
    op.create_index('ix_invoices_state', 'invoices', ['state'])
    op.create_index('ix_invoices_order', 'invoices', ['target', 'partner_id', 'po_number'])
    op.create_table(
        'invoice_events',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('invoice_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=120), nullable=False),
        sa.Column('action', sa.String(length=30), nullable=False),
        sa.Column('from_state', sa.String(length=20), nullable=True),
        sa.Column('to_state', sa.String(length=20), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_invoice_events_invoice_id_invoices')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_events')),
    )
    op.create_index(op.f('ix_invoice_events_invoice_id'), 'invoice_events', ['invoice_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_invoice_events_invoice_id'), table_name='invoice_events')
    op.drop_table('invoice_events')
    op.drop_index('ix_invoices_order', table_name='invoices')
    op.drop_index('ix_invoices_state', table_name='invoices')
    op.drop_table('invoices')
