"""the daily three-way match: shipment lines it reads, its runs and their findings

Revision ID: 0014_match_runs
Revises: 0013_fulfilment
Create Date: 2026-12-04

``match_shipments`` holds the shipment lines the store-wide match reads (ERP deliveries, ASNs), in the
order line's unit; ``match_runs`` one row per run of the ``three_way_match`` asset (a business day's
partition: counts, summary, invoices it released, where its report files are) and ``match_findings`` that
run's exceptions, so every day's result stays queryable after the next run.
"""

from alembic import op
import sqlalchemy as sa
import hub.store._types


revision = '0014_match_runs'
down_revision = '0013_fulfilment'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('match_runs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('business_day', sa.Date(), nullable=False),
    sa.Column('ran_at', hub.store._types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('po_lines', sa.Integer(), nullable=False),
    sa.Column('matched', sa.Integer(), nullable=False),
    sa.Column('exceptions', sa.Integer(), nullable=False),
    sa.Column('value_at_stake', hub.store._types.ExactDecimal(precision=28, scale=8), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('released', sa.JSON(), nullable=False),
    sa.Column('report_dir', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_runs'))
    )
    op.create_index(op.f('ix_match_runs_business_day'), 'match_runs', ['business_day'], unique=False)
    op.create_table('match_shipments',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('document', sa.String(length=120), nullable=False),
    sa.Column('partner_id', sa.String(length=63), nullable=False),
    sa.Column('po_number', sa.String(length=80), nullable=False),
    sa.Column('line_no', sa.String(length=80), nullable=False),
    sa.Column('sku', sa.String(length=80), nullable=False),
    sa.Column('quantity', hub.store._types.ExactDecimal(precision=28, scale=8), nullable=False),
    sa.Column('ship_date', sa.Date(), nullable=False),
    sa.Column('recorded_at', hub.store._types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_shipments')),
    sa.UniqueConstraint('source', 'document', 'partner_id', 'po_number', 'line_no', name='uq_match_shipments_line')
    )
    op.create_index('ix_match_shipments_po', 'match_shipments', ['partner_id', 'po_number'], unique=False)
    op.create_table('match_findings',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('customer', sa.String(length=63), nullable=True),
    sa.Column('po_number', sa.String(length=200), nullable=True),
    sa.Column('line_no', sa.String(length=80), nullable=True),
    sa.Column('sku', sa.String(length=80), nullable=True),
    sa.Column('invoice_number', sa.String(length=200), nullable=True),
    sa.Column('variance_pct', hub.store._types.ExactDecimal(precision=28, scale=8), nullable=True),
    sa.Column('value_at_stake', hub.store._types.ExactDecimal(precision=28, scale=8), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['match_runs.id'], name=op.f('fk_match_findings_run_id_match_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_findings'))
    )
    op.create_index(op.f('ix_match_findings_run_id'), 'match_findings', ['run_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_match_findings_run_id'), table_name='match_findings')
    op.drop_table('match_findings')
    op.drop_index('ix_match_shipments_po', table_name='match_shipments')
    op.drop_table('match_shipments')
    op.drop_index(op.f('ix_match_runs_business_day'), table_name='match_runs')
    op.drop_table('match_runs')
