"""855 purchase order acknowledgments we send, and the partner's 997 for each

Revision ID: 0008_edi855
Revises: 0007_invoices
Create Date: 2026-12-04

One row per order revision (PO version) a partner is sent an 855 for: the outbound document that
carries it, its GS06/ST02 (what the partner's 997 names in AK102/AK202), the partner's ack SLA,
and the 997/999 status once it arrives. Unique on (order, revision): a re-run never sends a second
855 for the same PO version.
"""

from alembic import op
import sqlalchemy as sa


revision = '0008_edi855'
down_revision = '0007_invoices'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('po_acknowledgments',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.String(length=63), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=False),
    sa.Column('outbound_id', sa.Integer(), nullable=False),
    sa.Column('ack_type', sa.String(length=2), nullable=False),
    sa.Column('group_control', sa.String(length=9), nullable=False),
    sa.Column('set_control', sa.String(length=9), nullable=False),
    sa.Column('ack_due_hours', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fa_status', sa.String(length=1), nullable=True),
    sa.Column('fa_received_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_po_acknowledgments_order_id_orders')),
    sa.ForeignKeyConstraint(['outbound_id'], ['outbound_documents.id'],
                            name=op.f('fk_po_acknowledgments_outbound_id_outbound_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_po_acknowledgments')),
    sa.UniqueConstraint('order_id', 'revision', name=op.f('uq_po_acknowledgments_order_id_revision')),
    sa.UniqueConstraint('partner_id', 'group_control', name=op.f('uq_po_acknowledgments_partner_id_group_control'))
    )


def downgrade() -> None:
    op.drop_table('po_acknowledgments')
