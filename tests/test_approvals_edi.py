"""Rejecting an EDI partner's held order answers it with an 855 RJ (every line IR), end to end: the X12 intake
holds the 850, a person rejects it, the 855 is queued at once, validated by our maps and written to the
partner's outbound folder on the sandbox SFTP server; once per PO version, never claimed when not sent."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.erp import OdooConfig, OdooJson2Client
from connectors.sftp import SftpClient, SftpConfig
from hub import store as st
from hub.delivery import send_pending_acks
from hub.delivery._acks855 import queue_po_acknowledgments
from hub.intake import process_x12_receipt, receive_document
from hub.store._po_acks import po_acks_of
from hub.validation import reject, sync_catalogue
from mappings.profiles import PartnerDirectory, X12SftpChannel
from mappings.x12.outbound import outbound_problems
from mappings.x12.samples import SampleLine, build_850
from sandbox.sftp_server import SandboxSftpServer
from tests.fixtures.erp import ERP_API_KEY
from tests.fixtures.partners import PARTNERS

T0 = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)


def acme(send_855: bool) -> PartnerDirectory:
    profile = PARTNERS.get("acme")
    channel = profile.channel("x12_sftp")
    assert isinstance(channel, X12SftpChannel)
    return PartnerDirectory([profile.with_channel(channel.model_copy(update={"send_855": send_855}))])


@pytest.fixture
def held(store, erp):
    """Two ACME 850s received: one clean, one with a product the ERP does not have (held for approval)."""
    config = OdooConfig(database=erp.database, api_key=ERP_API_KEY, http={"base_url": erp.base_url})
    with OdooJson2Client(config) as client:
        sync_catalogue(store, client, partner_ids=["acme"], now=T0)
    partners = acme(send_855=True)
    clean = SampleLine("WID-100", "2", "4.50")
    for control, (po, lines) in enumerate((("PO-OK-1", [clean]), ("PO-BAD-1", [clean, SampleLine("NOPE-1", "3", "7")])),
                                          start=1):
        data = build_850(partners.get("acme"), po_number=po, control_number=control, lines=lines)
        receipt = receive_document(store, channel="sftp", partner_id="acme", source_name=f"{po}.x12", data=data,
                                   max_bytes=1_000_000)
        process_x12_receipt(store, partners, receipt.id, now=T0)
    with store.transaction() as conn:
        (approval,) = st.list_approvals(conn)
    assert approval.source_ref == "PO-BAD-1"
    return approval


def test_a_rejected_edi_order_gets_an_855_rj_in_the_partners_outbound_folder(store, held, tmp_path):
    partners = acme(send_855=True)
    decision = reject(store, held.id, by="sam", note="not our product", now=T0, partners=partners)
    assert decision.done
    assert decision.reply == ("queued: 855 855/acme/PO-BAD-1/r1 (BAK02 RJ, every line IR) for acme's outbound "
                              "folder, written by the next edi_po_acknowledgments run")
    assert decision.approval.reply == decision.reply, "what became of the rejection is recorded"
    assert queue_po_acknowledgments(store, partners, now=T0).queued == [], "once per PO version; the clean "\
        "order waits for its ERP delivery"

    root = tmp_path / "sftp"
    (root / "acme" / "outbound").mkdir(parents=True)
    with SandboxSftpServer(root, username="hub", password="pw") as server:
        server.write_known_hosts(tmp_path / "known_hosts")
        config = SftpConfig(host=server.host, port=server.port, username="hub", password="pw",
                            known_hosts_path=tmp_path / "known_hosts")
        with SftpClient(config) as client:
            written = send_pending_acks(store, partners, client, partner_id="acme", now=T0)
    files = sorted(p.name for p in (root / "acme" / "outbound").iterdir())
    the_855 = [name for name in files if name.startswith("855_")]
    assert len(the_855) == 1 and any(path.endswith(the_855[0]) for path in written)
    text = (root / "acme" / "outbound" / the_855[0]).read_text()
    assert outbound_problems(text) == [], "valid against our 855 map"
    segments = [s.strip() for s in text.split("~") if s.strip()]
    assert next(s for s in segments if s.startswith("BAK")).split("*")[1:4] == ["00", "RJ", "PO-BAD-1"]
    acks = [s.split("*")[1] for s in segments if s.startswith("ACK*")]
    assert acks == ["IR", "IR"], "every line rejected"
    with store.transaction() as conn:
        (po_ack,) = po_acks_of(conn, partner_id="acme")
    assert (po_ack.ack_type, po_ack.reference) == ("RJ", "855/acme/PO-BAD-1/r1")


def test_a_partner_that_takes_no_855_is_told_nothing_and_the_reply_says_so(store, held):
    decision = reject(store, held.id, by="sam", note="not our product", now=T0, partners=acme(send_855=False))
    assert decision.reply == ("not sent: acme's profile does not ask for 855s (send_855); tell the partner another "
                              "way")
    with store.transaction() as conn:
        assert st.pending_outbound(conn) == [] or all(d.kind != "855" for d in st.pending_outbound(conn))
