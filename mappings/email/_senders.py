"""Which customer sent an email: the profiles' email channels list their addresses and domains."""

from __future__ import annotations

from mappings.email._settings import EmailChannelSettings
from mappings.profiles import PartnerDirectory, PartnerProfile


def match_sender(address: str, partners: PartnerDirectory) -> PartnerProfile | None:
    """The profile whose email channel lists ``address`` (an exact address beats a domain), or None.

    Two profiles claiming the same address or domain is ambiguous: None, so a person decides.
    """
    address = address.strip().lower()
    domain = address.rpartition("@")[2]
    by_address, by_domain = [], []
    for profile in partners:
        channel = profile.channel("email_imap")
        if not isinstance(channel, EmailChannelSettings):
            continue
        if address in channel.sender_addresses:
            by_address.append(profile)
        elif domain in channel.sender_domains:
            by_domain.append(profile)
    for found in (by_address, by_domain):
        if found:
            return found[0] if len(found) == 1 else None
    return None
