"""inventory: warehouses, stock levels with ATP, allocations

Revision ID: 0011_inventory
Revises: 0010_edi810
Create Date: 2026-12-04

The ERP's warehouses (``stock_warehouses``) and per-SKU per-warehouse quantities with the ATP computed
at the last sync (``stock_levels``); the hub's allocation of each order line to a warehouse, once per
line (``stock_allocations``, unique on order and line). See docs/inventory.md.
"""

from alembic import op
import sqlalchemy as sa
import hub.store._types


revision = '0011_inventory'
down_revision = '0010_edi810'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stock_warehouses',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('erp_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('country', sa.String(length=3), nullable=True),
    sa.Column('region', sa.String(length=40), nullable=True),
    sa.Column('synced_at', hub.store._types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_stock_warehouses'))
    )
    op.create_table('stock_levels',
    sa.Column('sku', sa.String(length=80), nullable=False),
    sa.Column('warehouse', sa.String(length=40), nullable=False),
    sa.Column('on_hand', hub.store._types.ExactDecimal(precision=28, scale=8), nullable=False),
    sa.Column('free_qty', hub.store._types.ExactDecimal(precision=28, scale=8), nullable=False),
    sa.Column('incoming', hub.store._types.ExactDecimal(precision=28, scale=8), nullable=False),
    sa.Column('virtual_available', hub.store._types.ExactDecimal(precision=28, scale=8), nullable=False),
    sa.Column('allocated', hub.store._types.ExactDecimal(precision=28, scale=8), nullable=False),
    sa.Column('atp', hub.store._types.ExactDecimal(precision=28, scale=8), nullable=False),
    sa.Column('next_receipt', sa.Date(), nullable=True),
    sa.Column('horizon_days', sa.Integer(), nullable=False),
    sa.Column('synced_at', hub.store._types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sku', 'warehouse', name=op.f('pk_stock_levels'))
    )
    op.create_table('stock_allocations',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.String(length=80), nullable=False),
    sa.Column('sku', sa.String(length=80), nullable=True),
    sa.Column('warehouse', sa.String(length=40), nullable=True),
    sa.Column('ordered', hub.store._types.ExactDecimal(precision=28, scale=8), nullable=False),
    sa.Column('allocated', hub.store._types.ExactDecimal(precision=28, scale=8), nullable=False),
    sa.Column('policy', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('ship_date', sa.Date(), nullable=True),
    sa.Column('created_at', hub.store._types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('released_at', hub.store._types.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_stock_allocations_order_id_orders'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_allocations')),
    sa.UniqueConstraint('order_id', 'line_no', name=op.f('uq_stock_allocations_order_id_line_no'))
    )
    op.create_index('ix_stock_allocations_sku_warehouse', 'stock_allocations', ['sku', 'warehouse'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_stock_allocations_sku_warehouse', table_name='stock_allocations')
    op.drop_table('stock_allocations')
    op.drop_table('stock_levels')
    op.drop_table('stock_warehouses')
