"""ack SLA for every X12 document we send

Revision ID: 0017_ack_sla
Revises: 0016_published_stock
Create Date: 2026-12-04

The partner's 997/999 is awaited within its ``ack_sla_hours`` for the 856 and the 846 too, as for the
855 and the 810: ``asn_notices`` gets the SLA it was sent under (rows sent before: the profile default,
24 h), and ``inventory_846s`` records each 846 we queue (its GS06, SLA and the partner's 997), so a
997 is matched by key and an unanswered 846 opens ``ack_overdue``.
"""

from alembic import op
import sqlalchemy as sa
import hub.store._types


revision = '0017_ack_sla'
down_revision = '0016_published_stock'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('asn_notices', sa.Column('ack_due_hours', sa.Integer(), server_default='24', nullable=False))
    op.create_table('inventory_846s',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('partner_id', sa.String(length=63), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=False),
    sa.Column('outbound_id', sa.Integer(), nullable=False),
    sa.Column('group_control', sa.String(length=9), nullable=False),
    sa.Column('ack_due_hours', sa.Integer(), nullable=False),
    sa.Column('created_at', hub.store._types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('fa_status', sa.String(length=1), nullable=True),
    sa.Column('fa_received_at', hub.store._types.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['outbound_id'], ['outbound_documents.id'],
                            name=op.f('fk_inventory_846s_outbound_id_outbound_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_846s')),
    sa.UniqueConstraint('partner_id', 'group_control', name=op.f('uq_inventory_846s_partner_id_group_control')),
    sa.UniqueConstraint('reference', name=op.f('uq_inventory_846s_reference'))
    )
    _record_earlier_846s()


def _record_earlier_846s() -> None:
    """846s queued before this revision get their row, so a late 997 is still matched (not an unknown set).

    Not awaited (``fa_received_at`` set to when it was queued, no status of its own): nobody tracked
    them, and opening ``ack_overdue`` for every old 846 at upgrade would only be noise.
    """
    docs = sa.table('outbound_documents', sa.column('id', sa.Integer()), sa.column('partner_id', sa.String()),
                    sa.column('kind', sa.String()), sa.column('control_number', sa.String()),
                    sa.column('content', sa.Text()), sa.column('created_at', hub.store._types.UtcDateTime()))
    rows, seen = [], set()
    for doc in op.get_bind().execute(sa.select(docs).where(docs.c.kind == '846').order_by(docs.c.id)):
        group = next((line.rstrip('~').split('*')[6] for line in doc.content.splitlines()
                      if line.startswith('GS*') and line.count('*') >= 6), None)
        if group is None or (doc.partner_id, group) in seen:
            continue
        seen.add((doc.partner_id, group))
        rows.append({'partner_id': doc.partner_id, 'reference': f'846/{doc.partner_id}/{int(doc.control_number)}',
                     'outbound_id': doc.id, 'group_control': group, 'ack_due_hours': 24,
                     'created_at': doc.created_at, 'fa_received_at': doc.created_at})
    if rows:
        target = sa.table('inventory_846s', *(sa.column(name) for name in rows[0]))
        op.bulk_insert(target, rows)


def downgrade() -> None:
    op.drop_table('inventory_846s')
    with op.batch_alter_table('asn_notices') as batch:
        batch.drop_column('ack_due_hours')
