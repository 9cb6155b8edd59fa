"""Everything Dagster, one folder per system; no business logic lives here.

``edi/`` X12 over SFTP (intake and ack assets, their job, the inbox sensor per partner, the SFTP
server), ``channels/`` the API channels (per store or seller account: sync asset, job, schedule,
resource; Shopify's webhook queue), ``erp/`` the push to every target, ``operations/`` the
exception queue, ``partners/`` the partner profiles as components (``defs.yaml``).

Dagster loads this folder with ``dg.load_from_defs_folder`` (``hub.definitions``); nothing in it
reads the environment or the partner profiles at import.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from hub.defs.partners.component import partners_dir_for_loading


def build_definitions(partners_dir: Path | None = None) -> dg.Definitions:
    """The hub's Definitions as Dagster loads them from this folder, with the profiles of ``partners_dir``.

    ``partners_dir`` defaults to ``HUB_PARTNERS_DIR``. A profile file that cannot be loaded leaves its
    partner out, is logged by the loader, and is listed in the definitions' metadata
    (``partner_profile_problems``).

    ``dg.load_from_defs_folder`` finds the project by the ``[tool.dg]`` of the ``pyproject.toml`` above
    this package: the code location runs from the source tree (``make ui``; the Docker image's code
    server imports ``hub`` from its working directory, the copied tree).
    """
    with partners_dir_for_loading(partners_dir):
        return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
