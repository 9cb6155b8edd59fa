"""approvals and the ERP catalogue

Revision ID: 0009_approvals
Revises: 0008_edi855
Create Date: 2026-12-04

Orders that break a validation rule wait in ``approvals`` for a person (audited in
``approval_audit``); the ERP's products, pricelists and customers' credit are kept in
``catalogue_products``, ``catalogue_prices`` and ``customer_credit`` for the rules to read.
"""

from alembic import op
import sqlalchemy as sa
import hub.store._types


revision = '0009_approvals'
down_revision = '0008_edi855'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('catalogue_prices',
    sa.Column('pricelist', sa.String(length=120), nullable=False),
    sa.Column('sku', sa.String(length=80), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('price', hub.store._types.ExactDecimal(precision=28, scale=8), nullable=True),
    sa.Column('synced_at', hub.store._types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('pricelist', 'sku', name=op.f('pk_catalogue_prices'))
    )
    op.create_table('catalogue_products',
    sa.Column('sku', sa.String(length=80), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('list_price', hub.store._types.ExactDecimal(precision=28, scale=8), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('pack_qty', hub.store._types.ExactDecimal(precision=28, scale=8), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('synced_at', hub.store._types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sku', name=op.f('pk_catalogue_products'))
    )
    op.create_table('customer_credit',
    sa.Column('partner_id', sa.String(length=63), nullable=False),
    sa.Column('credit_limit', hub.store._types.ExactDecimal(precision=28, scale=8), nullable=True),
    sa.Column('open_amount', hub.store._types.ExactDecimal(precision=28, scale=8), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('synced_at', hub.store._types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('partner_id', name=op.f('pk_customer_credit'))
    )
    op.create_table('approvals',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.String(length=63), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('source_ref', sa.String(length=80), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('findings', sa.JSON(), nullable=False),
    sa.Column('targets', sa.JSON(), nullable=False),
    sa.Column('created_at', hub.store._types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', hub.store._types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=120), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_approvals_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approvals')),
    sa.UniqueConstraint('order_id', name=op.f('uq_approvals_order_id'))
    )
    op.create_index(op.f('ix_approvals_state_created_at'), 'approvals', ['state', 'created_at'], unique=False)
    op.create_table('approval_audit',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('approval_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('at', hub.store._types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['approval_id'], ['approvals.id'], name=op.f('fk_approval_audit_approval_id_approvals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_audit'))
    )
    op.create_index(op.f('ix_approval_audit_approval_id'), 'approval_audit', ['approval_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_approval_audit_approval_id'), table_name='approval_audit')
    op.drop_table('approval_audit')
    op.drop_index(op.f('ix_approvals_state_created_at'), table_name='approvals')
    op.drop_table('approvals')
    op.drop_table('customer_credit')
    op.drop_table('catalogue_products')
    op.drop_table('catalogue_prices')
