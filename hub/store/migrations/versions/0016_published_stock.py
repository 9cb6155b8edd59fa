"""published stock

Revision ID: 0016_published_stock
Revises: 0015_asn
Create Date: 2026-12-04

``published_stock`` holds, per channel account and SKU, the last quantity published to the channel
and the ATP it was computed from: a re-run sends only the SKUs whose quantity changed, and the check
``published_stock_within_atp`` compares it with ATP now.
"""

from alembic import op
import sqlalchemy as sa
import hub.store._types


revision = '0016_published_stock'
down_revision = '0015_asn'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('published_stock',
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('partner_id', sa.String(length=63), nullable=False),
    sa.Column('sku', sa.String(length=80), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('atp', hub.store._types.ExactDecimal(precision=28, scale=8), nullable=False),
    sa.Column('safety_stock', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('published_at', hub.store._types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('channel', 'partner_id', 'sku', name=op.f('pk_published_stock'))
    )


def downgrade() -> None:
    op.drop_table('published_stock')
