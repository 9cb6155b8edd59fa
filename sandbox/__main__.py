"""``python -m sandbox demo|ui``: the demo job and the Dagster UI over the local sandbox systems."""

from __future__ import annotations

import argparse
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m sandbox`` (``make demo``, ``make ui``)."""
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="orderhub on the local sandbox systems")
    commands = parser.add_subparsers(title="commands", dest="command", required=True)
    demo = commands.add_parser("demo", help="run the main job end to end on the embedded sandbox")
    demo.add_argument(
        "--data-dir", type=Path, help="where the demo keeps its store and sandbox (default: HUB_DATA_DIR)"
    )
    ui = commands.add_parser("ui", help="start the sandbox systems and the Dagster UI on the demo's data")
    ui.add_argument("--data-dir", type=Path, help="the demo's data folder (default: HUB_DATA_DIR)")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    args = parser.parse_args(argv)

    from sandbox.demo import run_demo, run_ui  # after parsing: --help answers without loading Dagster

    if args.command == "demo":
        return run_demo(data_dir=args.data_dir)
    return run_ui(data_dir=args.data_dir, host=args.host, port=args.port)


if __name__ == "__main__":
    raise SystemExit(main())
