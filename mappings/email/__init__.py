"""Orders customers email: the raw message read (MIME, charsets), ignored when automatic, mapped with provenance.

    from mappings.email import read_email

    result = read_email(raw, profile, sha256)   # raises RejectedDocument when it holds no order
    result.ignored                              # why it is ignored (newsletter, auto-reply...), or None
    result.mapped                               # the MappedOrder the intake stores

Lines come from CSV/XLSX attachments (header words in synonyms.yaml), else from the body's own
lines (quoted history left out); a forwarded message (``message/rfc822``) is read when the
forwarder's own text and files hold none.
"""

from mappings.email._body import body_lines, own_text, parse_line, po_number, ship_to
from mappings.email._csv import read_csv, synonyms
from mappings.email._ignore import ignore_reason, ignore_reason_of_raw, sender_of_raw
from mappings.email._map import EmailOrder, read_email
from mappings.email._mime import Attachment, ParsedEmail, parse_email
from mappings.email._senders import match_sender
from mappings.email._settings import EmailChannelSettings

__all__ = [
    "Attachment", "EmailChannelSettings", "EmailOrder", "ParsedEmail", "body_lines", "ignore_reason",
    "ignore_reason_of_raw", "match_sender", "own_text", "parse_email", "parse_line", "po_number", "read_csv",
    "read_email", "sender_of_raw", "ship_to", "synonyms",
]
