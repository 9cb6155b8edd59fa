"""856 ship notices we send

Revision ID: 0015_asn
Revises: 0014_match_runs
Create Date: 2026-12-04

One row per ERP delivery (done stock.picking) a partner is sent an 856 for: the order, the
outbound document that carries it, its GS06/ST02, the SSCC-18 of every carton, whether the order
had shipped in full with it, and the partner's 997/999 for it. Unique on (partner, picking): a
re-run never sends a second 856 for the same delivery.
"""

from alembic import op
import sqlalchemy as sa
import hub.store._types


revision = '0015_asn'
down_revision = '0014_match_runs'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('asn_notices',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('partner_id', sa.String(length=63), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('picking_id', sa.Integer(), nullable=False),
    sa.Column('picking_name', sa.String(length=80), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=False),
    sa.Column('outbound_id', sa.Integer(), nullable=False),
    sa.Column('group_control', sa.String(length=9), nullable=False),
    sa.Column('set_control', sa.String(length=9), nullable=False),
    sa.Column('ssccs', sa.JSON(), nullable=False),
    sa.Column('complete', sa.Boolean(), nullable=False),
    sa.Column('created_at', hub.store._types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('fa_status', sa.String(length=1), nullable=True),
    sa.Column('fa_received_at', hub.store._types.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_asn_notices_order_id_orders')),
    sa.ForeignKeyConstraint(['outbound_id'], ['outbound_documents.id'],
                            name=op.f('fk_asn_notices_outbound_id_outbound_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asn_notices')),
    sa.UniqueConstraint('partner_id', 'group_control', name=op.f('uq_asn_notices_partner_id_group_control')),
    sa.UniqueConstraint('partner_id', 'picking_id', name=op.f('uq_asn_notices_partner_id_picking_id'))
    )
    op.create_index('ix_asn_notices_order_id', 'asn_notices', ['order_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_asn_notices_order_id', table_name='asn_notices')
    op.drop_table('asn_notices')
