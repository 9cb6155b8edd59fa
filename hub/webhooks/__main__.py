"""Serve the webhook app: ``python -m hub.webhooks --port 8082`` (store and partners from the hub settings)."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from hub.settings import get_settings, resolve_database_url
from hub.store import HubStore
from hub.webhooks._shopify import DEFAULT_MAX_BYTES, create_webhook_app
from mappings.profiles import PartnerDirectory


def main(argv: list[str] | None = None) -> None:
    """Run uvicorn in the foreground."""
    parser = argparse.ArgumentParser(description="orderhub webhook receiver")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES)
    args = parser.parse_args(argv)
    # uvicorn configures only its own loggers: without this the receiver's own lines (refusals, checks) are lost.
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    settings = get_settings()
    partners = PartnerDirectory.load(settings.partners_dir)
    app = create_webhook_app(lambda: HubStore(resolve_database_url()).migrate(), partners,
                             max_bytes=args.max_bytes)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", access_log=False)


if __name__ == "__main__":
    main()
