"""The ``hub`` command line: schema, offline mapping, X12 validation and the exception queue.

The demo and the UI over the sandbox systems are ``python -m sandbox demo|ui`` (``make demo``, ``make ui``):
the sandboxes are not part of the shipped package.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hub.settings import get_settings, resolve_database_url


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``hub`` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    return args.run(args) or 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hub", description="orderhub: the order integration hub")
    commands = parser.add_subparsers(title="commands")

    schema = commands.add_parser("schema", help="print the canonical order's JSON Schema")
    schema.set_defaults(run=_schema)

    mapping = commands.add_parser("map", help="map saved documents (X12 files, Shopify or marketplace API bodies) "
                                              "to canonical JSON offline; writes nothing")
    mapping.add_argument("--source", choices=_source_names(), required=True)
    mapping.add_argument("--partner", help="partner profile to map with (API sources; default: the only one)")
    mapping.add_argument("--indent", type=int, default=None, help="pretty-print with this indent")
    mapping.add_argument("files", nargs="+", type=Path)
    mapping.set_defaults(run=_map)

    edi = commands.add_parser("edi", help="X12 tools for onboarding partners")
    edi_actions = edi.add_subparsers(title="actions")
    edi_validate = edi_actions.add_parser(
        "validate", help="check a partner's X12 files: every problem located, the acks we would send (writes nothing)"
    )
    edi_validate.add_argument("files", nargs="+", type=Path)
    edi_validate.add_argument("--partners", type=Path, help="partner profiles folder (default: HUB_PARTNERS_DIR)")
    edi_validate.set_defaults(run=_edi_validate)

    exceptions = commands.add_parser("exceptions", help="the exception queue")
    actions = exceptions.add_subparsers(title="actions")
    listing = actions.add_parser("list", help="list exceptions (open ones by default)")
    listing.add_argument("--state", default="open", help="open, replayed, resolved or all")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=_exceptions_list)
    show = actions.add_parser("show", help="one exception in full")
    show.add_argument("id", type=int)
    show.set_defaults(run=_exceptions_show)
    resolve = actions.add_parser("resolve", help="close open exceptions handled by hand, with a note saying how")
    resolve.add_argument("ids", nargs="+", type=int)
    resolve.add_argument("--note", required=True, help="how it was handled, e.g. 'agreed with the buyer: resend'")
    resolve.set_defaults(run=_exceptions_resolve)
    replay = actions.add_parser("replay", help="replay exceptions after a fix")
    replay.add_argument("ids", type=int, nargs="+")
    replay.set_defaults(run=_exceptions_replay)
    return parser


def _schema(_args: argparse.Namespace) -> int:
    from canonical.model import dumps_schema

    print(dumps_schema())
    return 0


def _source_names() -> list[str]:
    from hub.sources import sources

    return [source.name for source in sources()]


def _map(args: argparse.Namespace) -> int:
    from canonical.errors import ConfigurationError
    from hub.sources import source_named
    from mappings.profiles import PartnerDirectory

    settings = get_settings()
    # A profile file that cannot be loaded is reported (logged, naming the file and field) and left
    # out; the other partners map as usual.
    partners = PartnerDirectory.load(settings.partners_dir)
    files: list[tuple[str, bytes]] = []
    status = 0
    for path in args.files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            print(f"hub map: cannot read {path}: {exc.strerror}", file=sys.stderr)
            status = 1
            continue
        if len(data) > settings.max_document_bytes:
            print(json.dumps({"file": str(path), "outcome": "rejected", "reason": "file is over the size limit",
                              "documents": [], "acks": []}, indent=args.indent))
            status = 1
            continue
        files.append((str(path), data))
    try:
        results = source_named(args.source).map_files(files, partners, args.partner)
    except ConfigurationError as exc:
        raise SystemExit(f"hub map: {exc}") from None
    for result in results:
        print(json.dumps(result, indent=args.indent, default=str))
    return status


def _edi_validate(args: argparse.Namespace) -> int:
    from hub.edi_validate import validate_files
    from mappings.profiles import PartnerDirectory

    partners = PartnerDirectory.load(args.partners or get_settings().partners_dir)
    return validate_files(args.files, partners)


def _store():
    from hub.store import HubStore

    return HubStore(resolve_database_url())


def _exceptions_list(args: argparse.Namespace) -> int:
    from hub import store as st

    if args.state != "all" and args.state not in set(st.ExceptionState):
        print(f"hub exceptions list: --state is one of {', '.join(st.ExceptionState)} or all", file=sys.stderr)
        return 2
    with _store().transaction() as conn:
        rows = st.list_exceptions(conn, state=None if args.state == "all" else st.ExceptionState(args.state))
        files = st.exception_files(conn, rows)
    if args.json:
        print(json.dumps([{**r.__dict__, "file": files[r.id]} for r in rows], default=str, indent=2))
        return 0
    if not rows:
        print(f"no {args.state} exceptions")
        return 0
    print(f"{'id':>5}  {'state':9} {'partner':10} {'kind':28} {'file / document':40} reason")
    for r in rows:
        where = " ".join(filter(None, [files[r.id], r.document_ref]))
        print(f"{r.id:>5}  {r.state:9} {r.partner_id or '-':10} {r.kind:28} {where[:40]:40} {r.reason[:100]}")
    return 0


def _exceptions_show(args: argparse.Namespace) -> int:
    from hub import store as st

    with _store().transaction() as conn:
        row = st.get_exception(conn, args.id)
        if row is None:
            print(f"no exception {args.id}", file=sys.stderr)
            return 1
        files = st.exception_files(conn, [row])
    for key, value in {**row.__dict__, "file": files[row.id]}.items():
        print(f"{key:>13}: {value}")
    if row.state == st.OPEN:
        print(f"\nFix the cause (partner profile, mapping, ERP catalog), then: hub exceptions replay {row.id}")
    return 0


def _exceptions_replay(args: argparse.Namespace) -> int:
    from hub.replay import replay_exception
    from mappings.profiles import PartnerDirectory

    store = _store()
    partners = PartnerDirectory.load(get_settings().partners_dir)
    failed = 0
    for exception_id in args.ids:
        outcome = replay_exception(store, partners, exception_id)
        failed += not outcome.done
        print(f"exception {exception_id}: {outcome.message}")
    return 1 if failed else 0


def _exceptions_resolve(args: argparse.Namespace) -> int:
    from hub import store as st

    note = args.note.strip()
    if not note:
        print("say how it was handled: --note TEXT", file=sys.stderr)
        return 2
    failed = 0
    with _store().transaction() as conn:
        for exception_id in args.ids:
            row = st.get_exception(conn, exception_id)
            if row is None or row.state != st.OPEN:
                failed += 1
                print(f"exception {exception_id}: " + ("not found" if row is None else f"already {row.state}"))
                continue
            st.close_exception(conn, exception_id, state=st.RESOLVED, now=st.utcnow(), note=note)
            print(f"exception {exception_id}: resolved")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
