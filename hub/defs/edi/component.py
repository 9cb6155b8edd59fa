"""One component per X12-over-SFTP partner: the sensor watching its inbox."""

import logging
from dataclasses import dataclass

import dagster as dg

from hub.defs.edi import jobs
from hub.defs.edi.sensors import DEFAULT_INTERVAL_SECONDS, DEFAULT_MAX_FILES, sftp_inbox_sensor
from hub.defs.resources import missing_sftp_env
from mappings.profiles import PartnerProfile

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class X12PartnerInbox(dg.Component):
    """An X12/SFTP partner's inbox (``sftp_inbox_<partner>``): its finished files become ``edi_inbound_job`` runs.

    Built in Python from the partner's profile (``hub.defs.partners``), so the profile stays the one
    place its settings live.
    """

    profile: PartnerProfile
    interval_seconds: int = DEFAULT_INTERVAL_SECONDS
    max_files: int = DEFAULT_MAX_FILES
    """Most files one run carries (``HUB_INTAKE_BATCH_MAX_FILES``)."""

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        """The partner's inbox sensor; stopped while our SFTP server's settings are missing (every tick would fail)."""
        missing = missing_sftp_env()
        if missing:
            _log.warning("sensor sftp_inbox_%s not started: %s not set", self.profile.id, ", ".join(missing))
        return dg.Definitions(sensors=[sftp_inbox_sensor(self.profile, jobs.edi_inbound_job.name, missing_env=missing,
                                                         interval_seconds=self.interval_seconds,
                                                         max_files=self.max_files)])
