"""receipt attachments

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

The raw documents a receipt needs besides its own body, in the order they were read: a marketplace
orders page needs the getOrderItems answers of its orders. With them linked to the receipt, a page
can be mapped again from the archive alone (``hub exceptions replay``), without asking the API.
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('receipt_attachments',
    sa.Column('receipt_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('raw_sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['receipt_id'], ['receipts.id'], name=op.f('fk_receipt_attachments_receipt_id_receipts')),
    sa.ForeignKeyConstraint(['raw_sha256'], ['raw_documents.sha256'],
                            name=op.f('fk_receipt_attachments_raw_sha256_raw_documents')),
    sa.PrimaryKeyConstraint('receipt_id', 'seq', name=op.f('pk_receipt_attachments'))
    )


def downgrade() -> None:
    op.drop_table('receipt_attachments')
