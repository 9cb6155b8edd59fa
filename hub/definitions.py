"""The Dagster code location: ``dagster dev -m hub.definitions``, ``dg check defs``.

Nothing is read at import: the partner profiles and the ``HUB_*`` settings are read when Dagster
calls ``defs`` (each time it loads or reloads the code location).
"""

import dagster as dg

from hub.defs import build_definitions


@dg.definitions
def defs() -> dg.Definitions:
    """The folder ``hub/defs/`` (``dg.load_from_defs_folder``), with the profiles of ``HUB_PARTNERS_DIR``."""
    return build_definitions()
