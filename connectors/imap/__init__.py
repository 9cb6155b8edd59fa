"""IMAP connector: read new messages of one mailbox by UID, raw, and move them to Processed or Rejected.

    from connectors.imap import ImapConfig, ImapMailbox

    with ImapMailbox(config) as box:
        state = box.state()                      # UIDVALIDITY, UIDNEXT
        for uid in box.uids_after(last_uid):
            raw = box.fetch_raw(uid)             # BODY.PEEK[]: exactly as stored, not marked seen
            ...
            box.move(uid, config.processed_folder)

Transport: implicit TLS (993) or STARTTLS (143) with certificate checks; unencrypted only to a
loopback address (tests, the sandbox). Login: password, or XOAUTH2 with an access token from an
OAuth 2.0 refresh-token grant (``xoauth2_token_source``), refreshed once when the server refuses it.
"""

from connectors.imap._client import ImapError, ImapMailbox, MailboxState
from connectors.imap._config import ImapConfig, OAuth2Config, is_loopback
from connectors.imap._oauth import xoauth2_token_source

__all__ = ["ImapConfig", "ImapError", "ImapMailbox", "MailboxState", "OAuth2Config", "is_loopback",
           "xoauth2_token_source"]
