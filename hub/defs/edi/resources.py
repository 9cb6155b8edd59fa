"""The hub's own SFTP server, where every X12 partner has its folders (``HUB_SFTP_*``, resolved at run time)."""

import dagster as dg

from hub.defs.resources import sftp_resource


@dg.definitions
def sftp_server() -> dg.Definitions:
    """The ``sftp`` resource the intake, the acks and every partner's inbox sensor use."""
    return dg.Definitions(resources={"sftp": sftp_resource()})
