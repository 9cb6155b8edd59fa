"""810 invoices we send, and the partner's 997 for each

Revision ID: 0010_edi810
Revises: 0009_approvals
Create Date: 2026-12-04

One row per posted accounting invoice or credit note a partner is sent an 810 for: the outbound
document that carries it, the invoice number (BIG02), its GS06/ST02 (what the partner's 997 names in
AK102/AK202), the partner's ack SLA, and the 997/999 status once it arrives. Unique on the invoice: a
re-run never sends a second 810 for the same invoice.
"""

from alembic import op
import sqlalchemy as sa
import hub.store._types


revision = '0010_edi810'
down_revision = '0009_approvals'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('invoices_810',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.String(length=63), nullable=False),
    sa.Column('reference', sa.String(length=220), nullable=False),
    sa.Column('outbound_id', sa.Integer(), nullable=False),
    sa.Column('invoice_number', sa.String(length=64), nullable=False),
    sa.Column('group_control', sa.String(length=9), nullable=False),
    sa.Column('set_control', sa.String(length=9), nullable=False),
    sa.Column('ack_due_hours', sa.Integer(), nullable=False),
    sa.Column('created_at', hub.store._types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('fa_status', sa.String(length=1), nullable=True),
    sa.Column('fa_received_at', hub.store._types.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_invoices_810_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['outbound_id'], ['outbound_documents.id'],
                            name=op.f('fk_invoices_810_outbound_id_outbound_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices_810')),
    sa.UniqueConstraint('invoice_id', name=op.f('uq_invoices_810_invoice_id')),
    sa.UniqueConstraint('reference', name=op.f('uq_invoices_810_reference')),
    sa.UniqueConstraint('partner_id', 'group_control', name=op.f('uq_invoices_810_partner_id_group_control'))
    )


def downgrade() -> None:
    op.drop_table('invoices_810')
