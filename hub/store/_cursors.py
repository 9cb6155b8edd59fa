"""Sync cursors: how far an API channel account has been read."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, select, update

from hub.store._tables import sync_cursors


def get_cursor(conn: Connection, partner_id: str, channel: str) -> str | None:
    """The stored position (e.g. an ISO timestamp), or None before the first sync."""
    return conn.execute(
        select(sync_cursors.c.position).where(
            (sync_cursors.c.partner_id == partner_id) & (sync_cursors.c.channel == channel)
        )
    ).scalar_one_or_none()


def set_cursor(conn: Connection, partner_id: str, channel: str, position: str, *, now: dt.datetime) -> None:
    """Store the new position (in the same transaction as what was read up to it)."""
    key = (sync_cursors.c.partner_id == partner_id) & (sync_cursors.c.channel == channel)
    if conn.execute(update(sync_cursors).where(key).values(position=position, updated_at=now)).rowcount == 0:
        conn.execute(sync_cursors.insert().values(partner_id=partner_id, channel=channel, position=position,
                                                  updated_at=now))
