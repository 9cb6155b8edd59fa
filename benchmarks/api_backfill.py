"""Backfill orders from the sandbox Shopify store under the GraphQL cost limit and report the budget used.

    python benchmarks/api_backfill.py                      # 2,000 orders, 4 per query (the default page)
    python benchmarks/api_backfill.py --limit 2 --limit 4
    python benchmarks/api_backfill.py --orders 500 --restore-rate 1000   # a Plus plan

The sandbox charges each query its requested cost up front and refunds the difference to the
actual cost (Shopify's GraphQL Admin API rule); a query runs only when its requested cost is
available. Budget: a bucket of B points restoring R per second gives B + R * elapsed points over
``elapsed`` seconds; "budget used" is the points charged (actual cost) / that. Target: no THROTTLED
answer in steady state, budget used >= 90 %. Every order must be fetched exactly once; the run fails otherwise.
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


def run_shopify(orders: int, limit: int, bucket: float, restore_rate: float) -> dict[str, float]:
    """One backfill of ``orders`` orders at ``limit`` per query; returns the figures."""
    with SandboxShopify(access_token=TOKEN, bucket_size=bucket, restore_rate=restore_rate) as shop:
        ids = shop.seed_orders(orders, start=dt.datetime(2024, 1, 1, tzinfo=dt.UTC), spacing=dt.timedelta(seconds=3))
        config = ShopifyConfig(shop_domain=shop.shop_domain, access_token=TOKEN, page_limit=limit, bucket_size=bucket,
                               restore_rate=restore_rate, http={"base_url": shop.base_url})
        started = time.monotonic()
        fetched: list[int] = []
        with ShopifyClient(config) as client:
            for page in client.iter_order_pages(dt.datetime(2000, 1, 1, tzinfo=dt.UTC)):
                fetched.extend(int(order["legacyResourceId"]) for order in page.orders)
            elapsed = time.monotonic() - started
            stats = client.stats
        if sorted(fetched) != ids or len(fetched) != len(set(fetched)):
            raise SystemExit(f"backfill lost or doubled orders: {len(fetched)} fetched, {len(set(fetched))} distinct")
        server = shop.stats
    budget = bucket + restore_rate * elapsed
    return {"orders": orders, "limit": limit, "requests": stats.requests, "elapsed": elapsed,
            "budget_used": server["points_used"] / budget,
            "throttled": stats.responses_429, "server_throttled": server["responses_429"],
            "throttle_waits": stats.throttle_waits, "throttle_wait_seconds": stats.throttle_wait_seconds}


def main(argv: list[str] | None = None) -> None:
    """Run the backfill(s) and print one line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2_000)
    parser.add_argument("--limit", type=int, action="append", help="orders per query (repeatable); default 4")
    parser.add_argument("--bucket", type=float, default=2000, help="cost bucket in points (standard plans: 2,000)")
    parser.add_argument("--restore-rate", type=float, default=100, help="points per second (standard plans: 100)")
    args = parser.parse_args(argv)
    for limit in args.limit or [4]:
        r = run_shopify(args.orders, limit, args.bucket, args.restore_rate)
        print(f"shopify backfill: {r['orders']:,} orders, {r['limit']} per query: {r['requests']} requests in "
              f"{r['elapsed']:.1f}s, budget used {r['budget_used']:.1%} (bucket {args.bucket:g} + "
              f"{args.restore_rate:g}/s x elapsed), THROTTLED received {r['throttled']} "
              f"(server sent {r['server_throttled']}), throttle waits {r['throttle_waits']} "
              f"({r['throttle_wait_seconds']:.1f}s)", flush=True)


if __name__ == "__main__":
    main()
