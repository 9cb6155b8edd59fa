"""The mailboxes the partner profiles list, as a component: a sensor per mailbox."""

from __future__ import annotations

import logging
from pathlib import Path

import dagster as dg

from hub.defs.email.sensors import mailbox_sensor
from hub.defs.partners.component import _PARTNERS_DIR  # the same profiles folder the partners component loads
from hub.defs.resources import unset_env_vars
from hub.settings import get_settings
from hub.sources import EMAIL, accounts
from mappings.email import EmailChannelSettings
from mappings.profiles import PartnerDirectory

_log = logging.getLogger(__name__)


class EmailMailboxes(dg.Component, dg.Model, dg.Resolvable):
    """Every ``email_imap`` channel of the profiles: its sensor ``email_inbox_<partner>``.

    The account's asset, job, schedule and resource come from the partners component (``PolledAccount``);
    this adds only what email has and the other polled sources do not: a look at the mailbox every
    ``poll_seconds``.
    """

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        """The sensors, from the profiles as they are now."""
        partners = PartnerDirectory.load(_PARTNERS_DIR.get() or Path(get_settings().partners_dir))
        sensors = []
        for source, profile, settings in accounts(partners):
            if source is EMAIL and isinstance(settings, EmailChannelSettings):
                missing = unset_env_vars(EMAIL.account_resource(settings))
                if missing:
                    _log.warning("sensor email_inbox_%s not started: %s not set", profile.id, ", ".join(missing))
                sensors.append(mailbox_sensor(profile, settings, missing_env=missing))
        return dg.Definitions(sensors=sensors)
