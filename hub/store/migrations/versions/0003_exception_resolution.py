"""exception resolution note

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

An exception handled by hand (``hub exceptions resolve``) keeps a note of how and why, for the
next person who reads the queue. Plain ALTER TABLE, as in 0002.
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('exceptions', sa.Column('resolution', sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column('exceptions', 'resolution')
