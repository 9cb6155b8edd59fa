"""X12 intake: read interchanges, map 850s to canonical orders, build the 997/TA1 answers.

Pipeline (one module each, so each can deepen on its own)::

    _tokenizer   bytes -> segments, delimiters re-read from every ISA
    _envelope    ISA/GS/ST..SE/GE/IEA structure and control-number checks
    _validation  segment/element syntax compiled from the pyx12-format maps in maps/ (_maps, _compiled)
    _850         850 -> canonical.model.Order, per-partner details from the partner profile
    _acks        TA1 and 997 text in our own envelope
    _855         the 855 we send (``outbound`` is its public front, with ``_outbound_check``)
    _855_fa      a received 997/999 read for the 855 it answers
    _810         the 810 invoice we send (checked by ``_outbound_check`` too)
    _process     the orchestration behind :func:`process_interchange_file`
"""

from mappings.x12._process import LocalControlNumbers, process_interchange_file
from mappings.x12._results import DocumentResult, InterchangeResult, OutboundAck, Problem, X12FileResult
from mappings.x12._tokenizer import Delimiters, NotX12, Segment, iter_segments

__all__ = [
    "Delimiters",
    "DocumentResult",
    "InterchangeResult",
    "LocalControlNumbers",
    "NotX12",
    "OutboundAck",
    "Problem",
    "Segment",
    "X12FileResult",
    "iter_segments",
    "process_interchange_file",
]
