"""Intake, delivery and replay services against a real store, with the SFTP and ERP ends faked."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

from sqlalchemy import select

from canonical.errors import RejectedDocument, RetriableError
from connectors.sftp import FolderListing, RemoteFile
from hub import store as st
from hub.delivery import push_due_orders, send_pending_acks
from hub.intake import poll_inbox, process_x12_receipt, receive_document
from hub.reconciliation import reconcile_erp_orders
from hub.replay import replay_exception
from mappings.profiles import PartnerDirectory
from mappings.x12.samples import SampleLine, build_850

REPO = Path(__file__).resolve().parent.parent
PARTNERS = PartnerDirectory.load(REPO / "mappings" / "partners")
ACME = PARTNERS.get("acme")


def receive(store, data: bytes, name: str = "po.x12", partner_id: str = "acme") -> int:
    return receive_document(store, channel="sftp", partner_id=partner_id, source_name=name, data=data,
                            max_bytes=1_000_000).id


@dataclass
class Pushed:
    sale_order_id: int
    name: str
    created: bool
    changes: tuple[str, ...] = ()
    reason: str = ""

    @property
    def action(self) -> str:
        return "created" if self.created else "unchanged"


@dataclass
class Cancelled:
    action: str
    sale_order_id: int | None = None
    name: str = ""
    reason: str = ""


class FakeErp:
    """Keeps sale orders per (partner, PO); can refuse SKUs or fail like a busy server."""

    def __init__(self, refuse_sku: str | None = None, fail_times: int = 0):
        self.orders: dict[tuple[str, str], int] = {}
        self.cancelled: set[tuple[str, str]] = set()
        self.refuse_sku, self.fail_times = refuse_sku, fail_times

    def push_sale_order(self, order, *, client_order_ref):
        if self.fail_times:
            self.fail_times -= 1
            raise RetriableError("503 from the ERP", retry_after=7)
        if self.refuse_sku and any(line.sku == self.refuse_sku for line in order.lines):
            raise RejectedDocument(f"unknown product SKU {self.refuse_sku}")
        key = (order.partner_id, client_order_ref)
        created = key not in self.orders
        self.orders.setdefault(key, len(self.orders) + 1)
        return Pushed(self.orders[key], f"S{self.orders[key]:05d}", created)

    def cancel_sale_order(self, order, *, client_order_ref):
        key = (order.partner_id, client_order_ref)
        if key not in self.orders:
            return Cancelled("not_in_erp")
        self.cancelled.add(key)
        return Cancelled("cancelled", self.orders[key], f"S{self.orders[key]:05d}")

    def sale_order_refs(self, refs, *, partner_id=None):
        return Counter({ref: int((partner_id, ref) in self.orders) for ref in refs})

    def sale_order_states(self, refs, *, partner_id=None):
        return {ref: (["cancel" if (partner_id, ref) in self.cancelled else "sale"]
                      if (partner_id, ref) in self.orders else []) for ref in refs}


def test_a_test_interchange_is_stored_but_never_queued_for_the_erp(sqlite_store):
    summary = process_x12_receipt(sqlite_store, PARTNERS, receive(sqlite_store, build_850(ACME, test=True)))
    assert summary.outcome == "accepted" and summary.test_orders == 1
    with sqlite_store.transaction() as conn:
        assert conn.execute(select(st.tables.orders.c.is_test)).scalars().all() == [True]
        assert conn.execute(select(st.tables.outbox)).all() == []
    assert reconcile_erp_orders(sqlite_store, FakeErp()).expected == 0


def test_another_senders_interchange_in_a_partners_inbox_is_refused(sqlite_store):
    northwind_file = build_850(PARTNERS.get("northwind"))
    summary = process_x12_receipt(sqlite_store, PARTNERS, receive(sqlite_store, northwind_file))
    assert summary.outcome == "rejected" and summary.orders_created == 0
    with sqlite_store.transaction() as conn:
        (queued,) = st.list_exceptions(conn)
        (ack,) = st.pending_outbound(conn)
    assert queued.kind == "rejected_interchange"
    assert queued.reason == "interchange from northwind (01/123456789) arrived in acme's inbox: refused"
    assert ack.kind == "TA1" and ack.partner_id == "acme"


def test_processing_a_receipt_twice_returns_the_recorded_outcome(sqlite_store):
    receipt_id = receive(sqlite_store, build_850(ACME, purchase_orders=2))
    first = process_x12_receipt(sqlite_store, PARTNERS, receipt_id)
    again = process_x12_receipt(sqlite_store, PARTNERS, receipt_id)
    assert first.orders_created == 2 and len(first.acks_queued) == 1
    assert again.already_processed and again.outcome == "accepted" and again.orders_created == 0
    with sqlite_store.transaction() as conn:
        assert len(st.pending_outbound(conn)) == 1


def test_cancellation_and_replacement_act_on_the_stored_order(sqlite_store):
    original = build_850(ACME, po_number="PO-9", lines=[SampleLine("WID-100", "2", "4.00")], control_number=1)
    replacement = build_850(ACME, po_number="PO-9", purpose="05", control_number=2,
                            lines=[SampleLine("WID-100", "5", "4.00"), SampleLine("NUT-M8", "1", "3.15")])
    cancellation = build_850(ACME, po_number="PO-9", purpose="01", control_number=3)
    process_x12_receipt(sqlite_store, PARTNERS, receive(sqlite_store, original, "1.x12"))
    replaced = process_x12_receipt(sqlite_store, PARTNERS, receive(sqlite_store, replacement, "2.x12"))
    assert replaced.orders_replaced == 1
    with sqlite_store.transaction() as conn:
        order_id = conn.execute(select(st.tables.orders.c.id)).scalar_one()
        assert st.load_order(conn, order_id).total == Decimal("23.15")
    cancelled = process_x12_receipt(sqlite_store, PARTNERS, receive(sqlite_store, cancellation, "3.x12"))
    assert cancelled.orders_cancelled == 1
    with sqlite_store.transaction() as conn:
        assert conn.execute(select(st.tables.orders.c.status)).scalar_one() == "cancelled"
        assert conn.execute(select(st.tables.outbox.c.state)).scalar_one() == st.SKIPPED
        kinds = [e["kind"] for e in st.order_events_of(conn, order_id)]
    assert kinds == ["received", "validated", "replaced", "cancelled"]
    assert push_due_orders(sqlite_store, FakeErp()).attempted == 0, "a cancelled order never reaches the ERP"


def test_a_cancellation_after_delivery_queues_the_delivery_again_to_cancel_in_the_erp(sqlite_store):
    original = build_850(ACME, po_number="PO-9", lines=[SampleLine("WID-100", "2", "4.00")], control_number=1)
    cancellation = build_850(ACME, po_number="PO-9", purpose="01", control_number=2)
    erp = FakeErp()
    process_x12_receipt(sqlite_store, PARTNERS, receive(sqlite_store, original, "1.x12"))
    assert push_due_orders(sqlite_store, erp).pushed == 1

    process_x12_receipt(sqlite_store, PARTNERS, receive(sqlite_store, cancellation, "2.x12"))
    with sqlite_store.transaction() as conn:
        assert conn.execute(select(st.tables.outbox.c.state)).scalar_one() == st.PENDING

    assert push_due_orders(sqlite_store, erp).cancelled == 1
    assert erp.cancelled == {("acme", "PO-9")}
    assert reconcile_erp_orders(sqlite_store, erp).passed


def test_a_cancellation_of_an_unknown_po_is_queued(sqlite_store):
    summary = process_x12_receipt(sqlite_store, PARTNERS,
                                  receive(sqlite_store, build_850(ACME, po_number="PO-404", purpose="01")))
    with sqlite_store.transaction() as conn:
        (queued,) = st.list_exceptions(conn)
    assert summary.orders_cancelled == 0 and queued.kind == "unknown_order" and "PO-404" in queued.reason


def test_erp_push_retries_with_retry_after_then_dead_letters(sqlite_store):
    process_x12_receipt(sqlite_store, PARTNERS, receive(sqlite_store, build_850(ACME)))
    erp = FakeErp(fail_times=10)
    summary = push_due_orders(sqlite_store, erp, max_attempts=2)
    assert summary.retrying == 1
    with sqlite_store.transaction() as conn:
        row = conn.execute(select(st.tables.outbox)).one()
    assert row.state == st.FAILED and row.attempts == 1 and "503" in row.last_error
    assert (row.next_attempt_at.replace(tzinfo=None) - row.updated_at.replace(tzinfo=None)).total_seconds() == 7
    assert push_due_orders(sqlite_store, erp, max_attempts=2).attempted == 0, "not due before Retry-After"
    later = st.utcnow().replace(year=2100)
    assert push_due_orders(sqlite_store, erp, max_attempts=2, now=later).dead == 1
    with sqlite_store.transaction() as conn:
        (queued,) = st.list_exceptions(conn)
    assert queued.kind == "erp_unreachable"

    erp.fail_times = 0
    assert replay_exception(sqlite_store, PARTNERS, queued.id).done
    assert push_due_orders(sqlite_store, erp, now=later).pushed == 1
    with sqlite_store.transaction() as conn:
        assert st.get_exception(conn, queued.id).state == st.REPLAYED
    assert reconcile_erp_orders(sqlite_store, erp).passed


def test_a_rejected_group_replays_after_the_profile_is_fixed(sqlite_store, tmp_path):
    # ACME moved to 005010 before telling us: its profile still only agrees 004010.
    summary = process_x12_receipt(sqlite_store, PARTNERS, receive(sqlite_store, build_850(ACME, version="005010")))
    assert summary.outcome == "rejected" and summary.orders_created == 0
    with sqlite_store.transaction() as conn:
        (queued,) = st.list_exceptions(conn)
    assert queued.kind == "rejected_document" and "005010 is not agreed" in queued.reason

    assert not replay_exception(sqlite_store, PARTNERS, queued.id).done, "nothing fixed yet: still failing"
    fixed = tmp_path / "partners"
    fixed.mkdir()
    for path in (REPO / "mappings" / "partners").glob("*.yaml"):
        both_versions = path.read_text().replace('versions: ["004010"]', 'versions: ["004010", "005010"]')
        (fixed / path.name).write_text(both_versions)
    outcome = replay_exception(sqlite_store, PartnerDirectory.load(fixed), queued.id)
    assert outcome.done, outcome.message
    with sqlite_store.transaction() as conn:
        assert st.list_exceptions(conn) == []
        assert st.get_exception(conn, queued.id).replays == 2
        assert conn.execute(select(st.tables.orders.c.source_ref)).scalars().all() == ["PO-1001"]
        assert len(st.pending_outbound(conn)) == 1, "a replay sends no second ack"
    assert replay_exception(sqlite_store, PARTNERS, queued.id).message == "already replayed"


def test_poll_refuses_oversized_files_into_the_queue_and_goes_on(sqlite_store):
    class Folders:
        files: ClassVar[dict[str, bytes]] = {"big.x12": b"x" * 2000, "ok.x12": build_850(ACME)}

        def scan_folder(self, folder):
            # Written just now (mtime this second): not old enough to be taken at first sight.
            return FolderListing([RemoteFile(n, len(d), int(time.time())) for n, d in self.files.items()], [])

        def read_file(self, folder, name, *, max_bytes=None, expected=None):
            data = self.files[name]
            if max_bytes is not None and len(data) > max_bytes:
                raise RejectedDocument(f"file is over the {max_bytes} byte limit")
            return data

        def move_file(self, folder, name, to_folder, *, expected=None):
            return f"{to_folder}/{name}"

        # The rest of PartnerFolders: polling never calls them.
        def list_files(self, folder):
            raise AssertionError("poll_inbox lists through scan_folder")

        def download_file(self, folder, name, target, *, max_bytes=None, expected=None):
            raise AssertionError("poll_inbox reads small files whole")

    first = poll_inbox(sqlite_store, Folders(), ACME, max_bytes=1500)
    assert first.new_files == [], "first sight: the uploads may not be finished"
    poll = poll_inbox(sqlite_store, Folders(), ACME, max_bytes=1500, cursor=first.cursor)
    assert [f.name for f in poll.new_files] == ["ok.x12"]
    assert set(poll.cursor.taken) == {"big.x12", "ok.x12"}
    with sqlite_store.transaction() as conn:
        (queued,) = st.list_exceptions(conn)
    assert queued.kind == "rejected_file" and queued.document_ref == "big.x12"
    # The next tick with the cursor downloads nothing again.
    assert poll_inbox(sqlite_store, Folders(), ACME, max_bytes=1500, cursor=poll.cursor).new_files == []


def test_acks_are_written_once_even_after_a_crash_between_write_and_record(sqlite_store):
    process_x12_receipt(sqlite_store, PARTNERS, receive(sqlite_store, build_850(ACME)))

    class Outbound:
        def __init__(self):
            self.files: dict[str, bytes] = {}

        def list_files(self, folder):
            return [type("F", (), {"name": name})() for name in self.files]

        def write_file_atomic(self, folder, name, data):
            assert name not in self.files, "never overwrite"
            self.files[name] = data
            return f"{folder}/{name}"

    folders = Outbound()
    with sqlite_store.transaction() as conn:
        (pending,) = st.pending_outbound(conn)
    folders.files[pending.file_name] = pending.content.encode()  # written, then the run died
    assert send_pending_acks(sqlite_store, PARTNERS, folders) == []
    with sqlite_store.transaction() as conn:
        assert st.pending_outbound(conn) == []
    assert list(folders.files) == [pending.file_name]


def test_the_ledger_refuses_a_resend_after_a_restart(store_url):
    """A new process (new engine, nothing in memory) still knows the interchange: TA1 025, no order."""
    data = build_850(ACME, control_number=777)
    first = st.HubStore(store_url).migrate()
    assert process_x12_receipt(first, PARTNERS, receive(first, data, "a.x12")).outcome == "accepted"
    first.dispose()

    restarted = st.HubStore(store_url).migrate()
    resend = data.replace(b"*0000*", b"*0001*", 1) if b"*0000*" in data else data + b"\n"
    summary = process_x12_receipt(restarted, PARTNERS, receive(restarted, resend, "a-resent.x12"))
    assert summary.outcome == "duplicate" and summary.orders_created == 0
    with restarted.transaction() as conn:
        assert conn.execute(select(st.tables.orders)).all().__len__() == 1
        (ta1,) = [d for d in st.pending_outbound(conn) if d.kind == "TA1"]
    assert "*R*025" in ta1.content
    restarted.dispose()


def test_x12_orders_are_queued_for_every_target_of_the_inbox_owners_profile(sqlite_store, monkeypatch):
    import hub.intake._x12

    asked = []

    def two_targets(profile):
        asked.append(profile.id)
        return ("erp", "warehouse")

    monkeypatch.setattr(hub.intake._x12, "delivery_targets", two_targets)
    # Two new POs (stored in bulk), then the cancellation of one (stored on its own).
    process_x12_receipt(sqlite_store, PARTNERS, receive(sqlite_store, build_850(ACME, po_number="T-1"), "1.x12"))
    process_x12_receipt(sqlite_store, PARTNERS, receive(
        sqlite_store, build_850(ACME, po_number="T-2", control_number=2), "2.x12"))
    outbox, orders = st.tables.outbox, st.tables.orders
    with sqlite_store.transaction() as conn:
        rows = conn.execute(select(orders.c.source_ref, outbox.c.target)
                            .join(outbox, outbox.c.order_id == orders.c.id)).all()
    assert sorted((r.source_ref, r.target) for r in rows) == [
        ("T-1", "erp"), ("T-1", "warehouse"), ("T-2", "erp"), ("T-2", "warehouse")]
    assert asked == ["acme", "acme"]

    process_x12_receipt(sqlite_store, PARTNERS, receive(
        sqlite_store, build_850(ACME, po_number="T-1", control_number=3, purpose="01"), "3.x12"))
    with sqlite_store.transaction() as conn:
        states = conn.execute(select(outbox.c.target, outbox.c.state).join(orders, outbox.c.order_id == orders.c.id)
                              .where(orders.c.source_ref == "T-1")).all()
    assert sorted(states) == [("erp", st.SKIPPED), ("warehouse", st.SKIPPED)], "never delivered: skipped at both"
