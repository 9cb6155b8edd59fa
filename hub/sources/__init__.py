"""Sources of orders, one module per kind of channel, and the one registry the whole hub reads.

Built in: ``x12_sftp`` (X12 files on our SFTP server), ``shopify`` (stores), ``amazon``
(marketplace seller accounts), ``email_imap`` (IMAP mailboxes customers email orders to). Another
source registers itself with :func:`register_source` (see docs/adding-a-source.md); nothing else in
the hub needs editing.
"""

from hub.sources._protocol import CannotMapAgain, FolderSource, MapArchived, PolledSource, QueuedSource, Source
from hub.sources._registry import (
    account_profile,
    accounts,
    get_source,
    register_source,
    source_named,
    source_of_channel,
    sources,
)
from hub.sources.amazon import AMAZON, map_amazon_page
from hub.sources.email import EMAIL
from hub.sources.shopify import SHOPIFY, WEBHOOK_CHANNEL
from hub.sources.x12_sftp import X12_SFTP

for _builtin in (X12_SFTP, SHOPIFY, AMAZON, EMAIL):
    register_source(_builtin)

__all__ = [
    "AMAZON", "EMAIL", "SHOPIFY", "WEBHOOK_CHANNEL", "X12_SFTP",
    "CannotMapAgain", "FolderSource", "MapArchived", "PolledSource", "QueuedSource", "Source",
    "account_profile", "accounts", "get_source", "map_amazon_page", "register_source", "source_named",
    "source_of_channel", "sources",
]
