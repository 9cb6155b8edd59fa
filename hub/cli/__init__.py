"""The ``hub`` command line (click): schema, offline mapping, X12 validation, ingest and the exception queue.

The demo and the UI over the sandbox systems are ``python -m sandbox demo|ui`` (``make demo``, ``make ui``):
the sandboxes are not part of the shipped package.

Click rather than Typer: click is already installed with Dagster (same pinned version, nothing new to
resolve), and the commands here are plain options and file lists where Typer's type-hint layer adds a
dependency without removing code.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from canonical import __version__
from hub.settings import get_settings, resolve_database_url

EXIT_CODES = """\b
Exit codes:
  0    done (edi validate: every file and set accepted, warnings allowed;
       map: every file read, the outcomes are in the output)
  1    findings or failures: edi validate found a file or set not accepted;
       a file unreadable; an exception not found or still failing; a partner
       profile that cannot be used; the output pipe closed early
  2    usage error: unknown command or option, a missing argument, a value
       not among the choices
  130  interrupted (Ctrl-C)
Output to a closed pipe (hub ... | head) ends the command quietly."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hub`` command: its exit status (see EXIT_CODES)."""
    try:
        try:
            result = cli.main(args=list(argv) if argv is not None else None, prog_name="hub", standalone_mode=False)
        except click.exceptions.Exit as done:  # --help, --version
            return done.exit_code
        except click.ClickException as error:  # UsageError is exit 2, a ClickException 1
            error.show()
            return error.exit_code
        except click.exceptions.Abort:
            return 130
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
        sys.stdout.flush()  # a closed pipe shows here, inside the handler, not at interpreter exit
    except BrokenPipeError:
        _quiet_closed_pipe()
        return 1
    return int(result or 0)


def _quiet_closed_pipe() -> None:
    """What CPython's docs recommend on SIGPIPE: point stdout at devnull so the exit flush cannot fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout replaced by something without a descriptor (tests)
        pass


class _LazyChoice(click.Choice):
    """Choices read when the command line is parsed, not at import: the registries they come from are heavy
    (a streamed ``hub map`` of a big X12 file never imports the store or the connectors) and a test may
    register a source late."""

    def __init__(self) -> None:
        super().__init__([])

    @property  # type: ignore[override]
    def choices(self) -> Sequence[str]:
        return self.load()

    @choices.setter
    def choices(self, _value: Sequence[str]) -> None:
        pass

    def load(self) -> list[str]:
        """The allowed values."""
        raise NotImplementedError


class _SourceChoice(_LazyChoice):
    """The registered sources; ``x12`` (always registered, ``hub.sources.x12_sftp``) without loading them."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """``x12`` as is; any other name checked against the registry."""
        from hub.cli._map import X12_SOURCE

        return value if value == X12_SOURCE else super().convert(value, param, ctx)

    def load(self) -> list[str]:
        """The names of the registered sources."""
        from hub.sources import sources

        return [source.name for source in sources()]


class _StateChoice(_LazyChoice):
    """An exception state or ``all``; an unknown one names the allowed values."""

    def load(self) -> list[str]:
        """The store's exception states, then ``all``."""
        from hub.store import ExceptionState

        return [*map(str, ExceptionState), "all"]

    def get_invalid_choice_message(self, value: Any, ctx: click.Context | None) -> str:
        """Says which values exist (the message is part of the documented behaviour)."""
        *states, last = self.choices
        return f"{value!r}: --state is one of {', '.join(map(str, states))} or {last}"


_HELP = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=_HELP, epilog=EXIT_CODES)
@click.version_option(__version__, "--version", "-V", prog_name="hub", message="%(prog)s %(version)s")
def cli() -> None:
    """orderhub: the order integration hub.

    Run it as .venv/bin/hub, or after `source .venv/bin/activate` as hub.
    """


@cli.command(epilog="\b\nExample:\n  hub schema > order.schema.json")
def schema() -> int:
    """Print the canonical order's JSON Schema."""
    from canonical.model import dumps_schema

    print(dumps_schema())
    return 0


@cli.command("map", epilog="""\b
Examples:
  hub map --source x12 sandbox/samples/acme_po_4500012345.x12
  hub map --source x12 --jsonl big.x12 > orders.jsonl
  hub map --source shopify --partner trailhead orders_page.json

\b
Output: one JSON object per file (file, outcome, reason, documents, acks).
X12 files over 512 KiB, or a pipe, or any with --jsonl, stream as JSON Lines:
one {"record": "document", ...} line per transaction set as it is read
(its order in canonical JSON), then one {"record": "file", ...} line.""")
@click.option("--source", "source_name", type=_SourceChoice(), required=True, help="the source the files came from")
@click.option("--partner", help="partner profile to map with (API sources; default: the only one)")
@click.option("--indent", type=int, default=None, help="pretty-print with this indent (not with JSON Lines)")
@click.option("--jsonl", is_flag=True, help="X12: stream JSON Lines, one transaction set per line")
@click.option("--progress/--no-progress", default=None, help="progress on stderr (default: when stderr is a terminal)")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def map_command(source_name: str, partner: str | None, indent: int | None, jsonl: bool, progress: bool | None,
                files: tuple[Path, ...]) -> int:
    """Map saved documents (X12 files, Shopify or marketplace API bodies) to canonical JSON offline; writes nothing."""
    from hub.cli._map import map_files

    return map_files(source_name, list(files), partner=partner, indent=indent, jsonl=jsonl,
                     progress=_progress_wanted(progress))


@cli.group(context_settings=_HELP)
def edi() -> None:
    """X12 tools for onboarding partners."""


@edi.command("validate", epilog="""\b
Examples:
  hub edi validate their-first-file.x12
  hub edi validate --json *.x12 | jq 'select(.record == "file")'

\b
--json prints JSON Lines: per interchange, as it is read, a record
  {"record": "interchange", "file", "control_number", "sender", "partner_id",
   "test", "version", "outcome", "reason", "problems", "sets", "acks"}
(sets: {"ref", "transaction_set", "outcome", "problems", "order"}; problems:
{"severity", "message", "location", "segment_id", "segment_position",
"element_position", "code", "acknowledged", "trigger", "value"}, value being
the offending element as received), then per file
  {"record": "file", "file", "outcome", "reason", "accepted"}.
Exit 1 when any file or transaction set is not accepted.""")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--partners", "partners_dir", type=click.Path(path_type=Path),
              help="partner profiles folder (default: HUB_PARTNERS_DIR)")
@click.option("--json", "as_json", is_flag=True, help="machine-readable report (JSON Lines, documented below)")
@click.option("--progress/--no-progress", default=None, help="progress on stderr (default: when stderr is a terminal)")
def edi_validate(files: tuple[Path, ...], partners_dir: Path | None, as_json: bool, progress: bool | None) -> int:
    """Check a partner's X12 files: every problem located, the acks we would send (writes nothing)."""
    from hub.edi_validate import validate_files
    from mappings.profiles import PartnerDirectory

    partners = PartnerDirectory.load(partners_dir or get_settings().partners_dir)
    return validate_files(list(files), partners, as_json=as_json, progress=_progress_wanted(progress))


def _progress_wanted(flag: bool | None) -> bool:
    return sys.stderr.isatty() if flag is None else flag


def _store():
    from hub.store import HubStore

    return HubStore(resolve_database_url())


@cli.command("ingest", epilog="""\b
Examples:
  hub ingest --partner acme backfill/*.x12
  HUB_DATABASE_URL=postgresql+psycopg://hub@db/hub hub ingest --partner harbor po.edi

\b
Each file: archived and receipted as the SFTP sensor does, then processed by the
intake run's code (orders stored, acks queued, exceptions opened). Running it again
on the same file creates nothing twice. Exit 1 if any file was rejected in whole
or in part (or could not be read).""")
@click.option("--partner", "partner_id", required=True, help="the partner the files came from (its profile id)")
@click.option("--progress/--no-progress", default=None, help="progress on stderr (default: when stderr is a terminal)")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def ingest(partner_id: str, progress: bool | None, files: tuple[Path, ...]) -> int:
    """Ingest local X12 files as if dropped in the partner's SFTP inbox (backfills)."""
    from hub.cli._ingest import ingest_files
    from mappings.profiles import PartnerDirectory

    settings = get_settings()
    partners = PartnerDirectory.load(settings.partners_dir)
    profile = partners.get(partner_id) if partner_id in {p.id for p in partners} else None
    if profile is None or profile.x12 is None:
        known = ", ".join(sorted(p.id for p in partners if p.x12 is not None))
        raise click.BadParameter(f"{partner_id!r} is not a partner with an X12 profile (known: {known})",
                                 param_hint="--partner")
    return ingest_files(_store(), partners, partner_id, list(files), max_bytes=settings.max_document_bytes,
                        progress=_progress_wanted(progress))


@cli.group(context_settings=_HELP)
def exceptions() -> None:
    """The exception queue: what intake or delivery could not finish, waiting for a person."""


@exceptions.command("list", epilog="""\b
Examples:
  hub exceptions list
  hub exceptions list --state all --json""")
@click.option("--state", type=_StateChoice(), default="open", show_default=True, help="which exceptions")
@click.option("--json", "as_json", is_flag=True, help="print them as a JSON array")
def exceptions_list(state: str, as_json: bool) -> int:
    """List exceptions (open ones by default)."""
    from hub import store as st

    with _store().transaction() as conn:
        rows = st.list_exceptions(conn, state=None if state == "all" else st.ExceptionState(state))
        files = st.exception_files(conn, rows)
    if as_json:
        print(json.dumps([{**r.__dict__, "file": files[r.id]} for r in rows], default=str, indent=2))
        return 0
    if not rows:
        print(f"no {state} exceptions")
        return 0
    print(f"{'id':>5}  {'state':9} {'partner':10} {'kind':28} {'file / document':40} reason")
    for r in rows:
        where = " ".join(filter(None, [files[r.id], r.document_ref]))
        print(f"{r.id:>5}  {r.state:9} {r.partner_id or '-':10} {r.kind:28} {where[:40]:40} {r.reason[:100]}")
    return 0


@exceptions.command("show", epilog="\b\nExample:\n  hub exceptions show 12")
@click.argument("exception_id", metavar="ID", type=int)
def exceptions_show(exception_id: int) -> int:
    """One exception in full."""
    from hub import store as st

    with _store().transaction() as conn:
        row = st.get_exception(conn, exception_id)
        if row is None:
            print(f"no exception {exception_id}", file=sys.stderr)
            return 1
        files = st.exception_files(conn, [row])
    for key, value in {**row.__dict__, "file": files[row.id]}.items():
        print(f"{key:>13}: {value}")
    if row.state == st.OPEN:
        print(f"\nFix the cause (partner profile, mapping, ERP catalog), then: hub exceptions replay {row.id}")
    return 0


@exceptions.command("resolve", epilog="""\b
Example:
  hub exceptions resolve 12 13 --note 'agreed with the buyer: they resend as PO 4500012399'""")
@click.argument("ids", metavar="ID...", nargs=-1, required=True, type=int)
@click.option("--note", required=True, help="how it was handled, e.g. 'agreed with the buyer: resend'")
def exceptions_resolve(ids: tuple[int, ...], note: str) -> int:
    """Close open exceptions handled by hand, with a note saying how."""
    from hub import store as st

    note = note.strip()
    if not note:
        raise click.BadParameter("say how it was handled: --note TEXT", param_hint="--note")
    failed = 0
    with _store().transaction() as conn:
        for exception_id in ids:
            row = st.get_exception(conn, exception_id)
            if row is None or row.state != st.OPEN:
                failed += 1
                print(f"exception {exception_id}: " + ("not found" if row is None else f"already {row.state}"))
                continue
            st.close_exception(conn, exception_id, state=st.RESOLVED, now=st.utcnow(), note=note)
            print(f"exception {exception_id}: resolved")
    return 1 if failed else 0


@exceptions.command("replay", epilog="\b\nExample (after fixing the partner profile):\n  hub exceptions replay 12")
@click.argument("ids", metavar="ID...", nargs=-1, required=True, type=int)
def exceptions_replay(ids: tuple[int, ...]) -> int:
    """Replay exceptions after a fix (reprocess the archived file, or queue the ERP delivery again)."""
    from hub.replay import replay_exception
    from mappings.profiles import PartnerDirectory

    store = _store()
    partners = PartnerDirectory.load(get_settings().partners_dir)
    failed = 0
    for exception_id in ids:
        outcome = replay_exception(store, partners, exception_id)
        failed += not outcome.done
        print(f"exception {exception_id}: {outcome.message}")
    return 1 if failed else 0


from hub.cli._match import match_command  # noqa: E402  (its own module: hub match, docs/three-way-match.md)

cli.add_command(match_command)

from hub.cli._holds import holds  # noqa: E402  (hub holds: invoices held by the match, docs/three-way-match.md)

cli.add_command(holds)

from hub.cli._approvals import approvals_command  # noqa: E402  (hub approvals, docs/operations.md)

cli.add_command(approvals_command)

from hub.cli._backfill import backfill_command  # noqa: E402  (hub backfill shopify, docs/operations.md)

cli.add_command(backfill_command)

if __name__ == "__main__":
    sys.exit(main())
