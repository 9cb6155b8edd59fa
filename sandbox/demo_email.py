"""The demo's email part: a customer's three emails to the sandbox mailbox, read by the mailbox's sensor and
sync job; the one priced off the ERP's list waits in ``hub approvals``.

The messages are fixed bytes (Message-ID and Date included), so a second demo run delivers the same
mail to a new mailbox and the hub finds each one a duplicate by content: nothing is created twice.
"""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime

import dagster as dg

from hub import store as st
from hub.settings import resolve_database_url
from sandbox.environment import SandboxEnvironment

_DATE = dt.datetime(2026, 12, 3, 9, 30, tzinfo=dt.UTC)
_QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _message(subject: str, body: str, *, sender: str, message_id: str, headers: dict[str, str] | None = None,
             csv: str | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "orders@orderhub.test", subject
    msg["Date"], msg["Message-ID"] = format_datetime(_DATE), message_id
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if csv is not None:
        msg.add_attachment(csv.encode("cp1252"), maintype="text", subtype="csv", filename="order.csv")
    return msg.as_bytes()


DEMO_EMAILS: list[tuple[str, bytes]] = [
    ("PO CH-1001, a CSV attachment at list prices", _message(
        "Purchase order CH-1001", "Hello,\nour order is attached.\n\nRegards,\nDana Reyes\nCorner Hardware Co.\n",
        sender="Dana Reyes <dana@cornerhardware.test>", message_id="<ch-1001@cornerhardware.test>",
        csv="Item;Qty;Unit price\r\nBOLT-M8;10;8,40\r\nNUT-M8;20;3,15\r\n")),
    ("PO CH-1002, body lines, a gadget 22% under the ERP's list price", _message(
        "PO CH-1002", "Hi,\nplease ship:\n\n12 x GAD-310 @ 15.50\n4 x TENT-2P @ 149.00\n\nShip to:\nCorner Hardware"
        " Store 2\n40 Harbor Rd\nPortland, ME 04101\n\nThanks, Dana\n",
        sender="Dana Reyes <dana@cornerhardware.test>", message_id="<ch-1002@cornerhardware.test>")),
    ("their newsletter", _message(
        "December deals", "Our best prices of the year...\n", sender="news@cornerhardware.test",
        message_id="<deals-2026-12@cornerhardware.test>", headers={"List-Id": "<deals.cornerhardware.test>",
                                                                   "Precedence": "bulk"})),
]


def run_email_demo(say, defs: dg.Definitions, instance: dg.DagsterInstance, sandbox: SandboxEnvironment,
                   hub_command: str) -> None:
    """Send the demo's emails, let the mailbox's sensor ask for its sync run, and say what was held."""
    mail, profile = sandbox.mail, sandbox.mail.profile
    if profile is None or mail.settings is None:
        return
    say(f"\n== orders by email: {len(DEMO_EMAILS)} messages to {profile.name}'s mailbox "
        f"({mail.kind} on 127.0.0.1:{mail.port})")
    for label, raw in DEMO_EMAILS:
        mail.deliver(raw)
        say(f"   sent: {label}")
    sensor = defs.resolve_sensor_def(f"email_inbox_{profile.id}")
    resources = {key: (defs.resources or {})[key] for key in sensor.required_resource_keys}
    result = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=defs, resources=resources,
                                                          sensor_name=sensor.name))
    for request in result.run_requests or []:
        job = defs.resolve_job_def(request.job_name or sensor.job_name or "")
        run = job.execute_in_process(instance=instance, raise_on_error=False, run_config=_QUIET,
                                     tags={**request.tags, "dagster/sensor_name": sensor.name})
        meta = {}
        for event in run.get_asset_materialization_events():
            if event.asset_key is not None and event.asset_key.to_user_string().startswith("email_orders"):
                meta = {k: v.value for k, v in event.materialization.metadata.items()}
        say(f"   {sensor.name}: run {job.name} -> {'success' if run.success else 'FAILED'}; orders new "
            f"{meta.get('orders_new', 0)}, unchanged {meta.get('orders_unchanged', 0)}")
    say("   mailbox: " + ", ".join(f"{folder} {mail.count(folder)}" for folder in
                                   ("INBOX", mail.settings.processed_folder, mail.settings.rejected_folder))
        + "  (read mail is moved, never deleted)")
    store = st.HubStore(resolve_database_url())
    with store.transaction() as conn:
        held = [a for a in st.list_approvals(conn) if a.partner_id == profile.id]
    for approval in held:
        rules = "; ".join(f"{f['rule']} (line {f['line']}: expected {f['expected']}, found {f['found']})"
                          if f.get("line") else f"{f['rule']} ({f['found']})" for f in approval.findings)
        say(f"   held for approval: #{approval.id} PO {approval.source_ref}: {rules}")
    if held:
        say(f"   {hub_command} approvals list    # what waits for a person; then approvals show / approve / reject")
