"""claims on receipts and deliveries

Revision ID: 0005_claims
Revises: 0004
Create Date: 2026-12-03

A receipt is claimed by compare-and-set before it is processed (``claim_token``, renewed at each
batch commit in ``claimed_at``) and remembers how many of its interchanges are committed, so one
processor wins on SQLite and PostgreSQL alike and a run killed mid-file is resumed where it
stopped. An in-flight delivery remembers the run that claimed it (``claimed_by``), so it is
reclaimed as soon as that run is known to be dead. Plain ALTER TABLE, as in 0002.
"""

from alembic import op
import sqlalchemy as sa


revision = '0005_claims'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('receipts', sa.Column('claim_token', sa.String(length=120), nullable=True))
    op.add_column('receipts', sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('receipts', sa.Column('interchanges_done', sa.Integer(), server_default=sa.text('0'),
                                        nullable=False))
    op.add_column('outbox', sa.Column('claimed_by', sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        batch.drop_column('claimed_by')
    with op.batch_alter_table('receipts') as batch:
        batch.drop_column('interchanges_done')
        batch.drop_column('claimed_at')
        batch.drop_column('claim_token')
