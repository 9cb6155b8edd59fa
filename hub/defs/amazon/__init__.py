"""Dagster definitions for marketplace seller accounts (SP-API): each account's API resource."""
