"""oauth_tokens: the rotated QuickBooks Online refresh token

Revision ID: 0012_qbo_tokens
Revises: 0011_inventory
Create Date: 2026-12-04

Intuit rotates the refresh token on every renewal: the latest one is kept here (per provider and account,
the QuickBooks realm id), with a fingerprint of the token the environment seeded it with.
"""

from alembic import op
import sqlalchemy as sa
import hub.store._types


revision = '0012_qbo_tokens'
down_revision = '0011_inventory'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('oauth_tokens',
    sa.Column('provider', sa.String(length=40), nullable=False),
    sa.Column('account', sa.String(length=120), nullable=False),
    sa.Column('refresh_token', sa.Text(), nullable=False),
    sa.Column('seed_sha256', sa.String(length=64), nullable=False),
    sa.Column('expires_at', hub.store._types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('rotated_at', hub.store._types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('provider', 'account', name=op.f('pk_oauth_tokens'))
    )


def downgrade() -> None:
    op.drop_table('oauth_tokens')
