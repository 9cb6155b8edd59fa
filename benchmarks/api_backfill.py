"""Backfill orders from the sandbox Shopify store under a realistic call limit and report the budget used.

    python benchmarks/api_backfill.py                      # 10,000 orders, 250 per page (40 calls)
    python benchmarks/api_backfill.py --limit 50           # 200 calls: the bucket is the bottleneck
    python benchmarks/api_backfill.py --orders 2000 --limit 10

Budget: a bucket of B calls leaking R per second allows B + R * elapsed calls in ``elapsed``
seconds; "budget used" is requests / that. Target: >= 95 % and no 429 in steady state.
Every order must be fetched exactly once; the run fails otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.shopify import ShopifyClient, ShopifyConfig
from sandbox.shopify_server import SandboxShopify

TOKEN = "shpat_benchmark"


def run_shopify(orders: int, limit: int, bucket: int, leak_rate: float) -> dict[str, float]:
    """One backfill of ``orders`` orders at ``limit`` per page; returns the figures."""
    with SandboxShopify(access_token=TOKEN, bucket_size=bucket, leak_rate=leak_rate) as shop:
        ids = shop.seed_orders(orders, start=dt.datetime(2024, 1, 1, tzinfo=dt.UTC), spacing=dt.timedelta(seconds=3))
        config = ShopifyConfig(shop_domain=shop.shop_domain, access_token=TOKEN, page_limit=limit, bucket_size=bucket,
                               leak_rate=leak_rate, http={"base_url": shop.base_url})
        started = time.monotonic()
        fetched: list[int] = []
        with ShopifyClient(config) as client:
            for page in client.iter_order_pages(dt.datetime(2000, 1, 1, tzinfo=dt.UTC)):
                fetched.extend(order["id"] for order in page.orders)
            elapsed = time.monotonic() - started
            stats = client.stats
        if sorted(fetched) != ids or len(fetched) != len(set(fetched)):
            raise SystemExit(f"backfill lost or doubled orders: {len(fetched)} fetched, {len(set(fetched))} distinct")
        server = shop.stats
    budget = bucket + leak_rate * elapsed
    return {"orders": orders, "limit": limit, "requests": stats.requests, "elapsed": elapsed,
            "budget_used": stats.requests / budget, "responses_429": stats.responses_429,
            "server_429": server["responses_429"], "throttle_waits": stats.throttle_waits,
            "throttle_wait_seconds": stats.throttle_wait_seconds}


def main(argv: list[str] | None = None) -> None:
    """Run the backfill(s) and print one line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--limit", type=int, action="append", help="page size (repeatable); default 250 and 50")
    parser.add_argument("--bucket", type=int, default=40)
    parser.add_argument("--leak-rate", type=float, default=2.0)
    args = parser.parse_args(argv)
    for limit in args.limit or [250, 50]:
        r = run_shopify(args.orders, limit, args.bucket, args.leak_rate)
        print(f"shopify backfill: {r['orders']:,} orders, limit {r['limit']}: {r['requests']} requests in "
              f"{r['elapsed']:.1f}s, budget used {r['budget_used']:.1%} (bucket {args.bucket} + "
              f"{args.leak_rate:g}/s x elapsed), 429s received {r['responses_429']} (server sent {r['server_429']}), "
              f"throttle waits {r['throttle_waits']} ({r['throttle_wait_seconds']:.1f}s)", flush=True)


if __name__ == "__main__":
    main()
