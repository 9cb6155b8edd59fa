"""Order validation and approval: rules as data, a pure engine, the gate before delivery, the decisions.

``_engine`` is pure (canonical order, rules, context in; findings out). ``_gate`` reads the
catalogue and credit from the store and holds orders that break a rule; ``_decisions`` approves
or rejects them; ``_replies`` answers the channel. No Dagster imports here.
"""

from hub.validation._decisions import ApprovalNotFound, Decision, approve, reject
from hub.validation._engine import Context, Credit, Finding, Product, Rule, evaluate
from hub.validation._gate import (
    RULES_ENV,
    ApprovalGate,
    GatedTargets,
    admit,
    admit_new_version,
    gated,
    global_rules,
    needs_approval,
    rules_for,
)
from hub.validation._replies import Rejection, RejectionSender, register_rejection_sender, send_rejection
from hub.validation._sync import CatalogueSync, sync_catalogue

__all__ = [
    "RULES_ENV",
    "ApprovalGate",
    "ApprovalNotFound",
    "CatalogueSync",
    "Context",
    "Credit",
    "Decision",
    "Finding",
    "GatedTargets",
    "Product",
    "Rejection",
    "RejectionSender",
    "Rule",
    "admit",
    "admit_new_version",
    "approve",
    "evaluate",
    "gated",
    "global_rules",
    "needs_approval",
    "register_rejection_sender",
    "reject",
    "rules_for",
    "send_rejection",
    "sync_catalogue",
]
