"""X12 documents we send beyond the acks: the 855 builder and the check every outbound document passes."""

from mappings.x12._855 import (
    Acknowledgment,
    Envelope855,
    LineDecision,
    LineStatus,
    bak02,
    build_855,
    file_name_855,
)
from mappings.x12._acks import AckAddress
from mappings.x12._outbound_check import check_outbound, outbound_problems

__all__ = [
    "AckAddress",
    "Acknowledgment",
    "Envelope855",
    "LineDecision",
    "LineStatus",
    "bak02",
    "build_855",
    "check_outbound",
    "file_name_855",
    "outbound_problems",
]
