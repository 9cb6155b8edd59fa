"""Dagster definitions for email mailboxes: each mailbox's resource, and a sensor per mailbox asking for its sync
(the sync asset, job and backstop schedule come from ``channels/``, like every polled source's)."""
