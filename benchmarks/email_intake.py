"""Email intake end to end: 1,000 emails with a CSV attachment each, through a real Dovecot into the store.

    .venv/bin/python benchmarks/email_intake.py [--emails 1000] [--lines 20] [--database-url URL]

* a throwaway Dovecot (``tests/fixtures/dovecot.running_dovecot``, the email tests' server) on
  127.0.0.1; ``--emails`` messages appended with IMAP APPEND, each a short body and a
  ``;``-separated CSV of ``--lines`` lines with decimal commas in windows-1252 (a distinct PO each);
* one sync (``hub.intake.sync_orders`` with the email source, as ``email_<partner>_sync`` runs it):
  per message UID FETCH of the size and the raw bytes, the exactly-once ledger, archive and
  receipt, MIME and CSV read, the order stored and queued for the ERP, the move to Processed;
* then a second sync of the now empty mailbox, and the counts checked (every PO once).

Prints messages per second and milliseconds per message. The ERP push is the ERP's own benchmark
(``latency.py``); this stops at the outbox. Compare ratios between machines rather than absolute
numbers.
"""

from __future__ import annotations

import argparse
import imaplib
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# isort: split
from sqlalchemy import func, select

from connectors.imap import ImapConfig, ImapMailbox
from hub import store as st
from hub.intake import sync_orders
from hub.settings import sqlite_url
from hub.sources import EMAIL
from hub.sources.email import MailboxSession
from mappings.profiles import PartnerDirectory
from tests.email_messages import message
from tests.fixtures.dovecot import PASSWORD, running_dovecot

PROFILE = """\
id: bench_mail
name: Bench Retail
channels:
  - kind: email_imap
    host: 127.0.0.1
    port: {port}
    security: plain
    username: {user}
    password_env: HUB_BENCH_IMAP_PASSWORD
    sender_domains: [acme-retail.test]
"""


def csv_attachment(po: int, lines: int) -> bytes:
    """A German-style order sheet: ``;``, decimal commas, windows-1252."""
    rows = ["Artikelnummer;Bezeichnung;Menge;Einzelpreis"]
    rows += [f"WID-{n:03d};Schraube Größe {n};{n % 7 + 1};{n % 50},{po % 100:02d}" for n in range(1, lines + 1)]
    return "\r\n".join(rows).encode("windows-1252")


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--emails", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    args = parser.parse_args()
    with running_dovecot() as server, tempfile.TemporaryDirectory() as tmp:
        user = server.new_mailbox()
        started = time.perf_counter()
        session = imaplib.IMAP4(server.host, server.port)
        session.login(user, PASSWORD)
        size = 0
        for n in range(args.emails):
            raw = message("Bestellung anbei.\n", subject=f"PO {100000 + n}", message_id=f"<po{n}@acme-retail.test>",
                          attachments=((f"bestellung-{n}.csv", csv_attachment(n, args.lines), "text/csv"),))
            size += len(raw)
            session.append("INBOX", "", None, raw)
        session.logout()
        appended = time.perf_counter() - started

        folder = Path(tmp) / "partners"
        folder.mkdir()
        (folder / "bench_mail.yaml").write_text(PROFILE.format(port=server.port, user=user))
        profile = PartnerDirectory.load(folder).get("bench_mail")
        store = st.HubStore(args.database_url or sqlite_url(Path(tmp) / "hub.sqlite3")).migrate()
        config = ImapConfig(host=server.host, port=server.port, security="plain", username=user, password=PASSWORD)

        def sync():
            begin = time.perf_counter()
            with ImapMailbox(config) as box:
                result = sync_orders(store, EMAIL, MailboxSession(box, store, f"{user}@{server.host}"), profile)
            return result, time.perf_counter() - begin

        first, seconds = sync()
        again, idle = sync()
        with store.transaction() as conn:
            orders = conn.execute(select(func.count()).select_from(st.tables.orders)).scalar_one()
            lines = conn.execute(select(func.count()).select_from(st.tables.order_lines)).scalar_one()
        store.dispose()
        assert first.summary.orders_new == args.emails == orders, (first.summary, orders)
        assert lines == args.emails * args.lines and again.summary.pages == 0
        assert server.count(user, "Processed") == args.emails and server.count(user, "INBOX") == 0
    print(f"{args.emails} emails x {args.lines} CSV lines ({size / 1e6:.1f} MB) appended in {appended:.1f} s")
    print(f"sync: {seconds:.1f} s = {args.emails / seconds:.0f} emails/s, {1000 * seconds / args.emails:.1f} ms "
          f"per email (fetch, ledger, archive, parse, store, move); {orders} orders, {lines} lines")
    print(f"second sync of the empty mailbox: {idle * 1000:.0f} ms")


if __name__ == "__main__":
    main()
