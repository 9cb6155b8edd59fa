"""``hub backfill shopify``: orders updated since a date, read through a Shopify bulk query and stored like the sync's.

The command parses options and reports; the work is ``hub.sources._shopify_bulk.backfill_orders``.
"""

from __future__ import annotations

import datetime as dt
import sys

import click

from hub.cli._common import open_store

_store = open_store

EPILOG = """\b
Examples:
  hub backfill shopify --partner acme-shop --since 2026-01-01
  hub backfill shopify --partner acme-shop --since 2026-11-01T00:00:00+01:00 --max-bytes 2000000000

\b
Starts a bulk query (GraphQL Admin API, the profile's pinned version, 2026-10 by
default) for every order updated since --since (a date is midnight UTC), polls
it until done, streams the JSONL file to a temporary file (at most --max-bytes,
default HUB_MAX_DOCUMENT_BYTES), archives it raw, then stores each order exactly
as the sync does. Orders already stored in that version change nothing: running
it again, or over what the sync read, doubles nothing. The sync's cursor stays.
Exit 1 if the operation failed (errorCode shown), another bulk query runs on the
shop, the file is over the limit, or orders were rejected (see hub exceptions)."""


def _moment(ctx: click.Context, param: click.Parameter, value: str) -> dt.datetime:
    """--since as an aware moment: a date is its midnight UTC, a time without offset is UTC."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is no date (YYYY-MM-DD) or ISO 8601 time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


@click.group("backfill", context_settings={"help_option_names": ["-h", "--help"]})
def backfill_command() -> None:
    """Read a channel's past orders in bulk (after an outage, or for a new partner)."""


@backfill_command.command("shopify", epilog=EPILOG)
@click.option("--partner", "partner_id", required=True, help="the partner profile with the shopify channel")
@click.option("--since", required=True, callback=_moment, help="orders updated at or after this date / time")
@click.option("--max-bytes", type=click.IntRange(min=1), default=None, help="largest JSONL file accepted")
def backfill_shopify(partner_id: str, since: dt.datetime, max_bytes: int | None) -> int:
    """Orders of a Shopify store updated since a date, through a bulk operation."""
    from canonical.errors import HubError
    from connectors.shopify import ShopifyClient
    from hub.settings import get_settings
    from hub.sources._shopify_bulk import backfill_orders
    from mappings.connections import shopify_config
    from mappings.profiles import PartnerDirectory

    settings = get_settings()
    partners = PartnerDirectory.load(settings.partners_dir)
    profile = partners.get(partner_id) if partner_id in {p.id for p in partners} else None
    if profile is None or profile.shopify is None:
        known = ", ".join(sorted(p.id for p in partners if p.shopify is not None))
        raise click.BadParameter(f"{partner_id!r} is not a partner with a shopify channel (known: {known})",
                                 param_hint="--partner")
    try:
        with ShopifyClient(shopify_config(profile.shopify)) as client:
            result = backfill_orders(_store(), client, profile, since=since,
                                     max_bytes=max_bytes or settings.max_document_bytes)
    except HubError as error:
        # The hub's messages name the operation, its status and errorCode; never an order's data.
        print(f"hub backfill shopify: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(result.describe())
    return 1 if result.summary.exceptions else 0
