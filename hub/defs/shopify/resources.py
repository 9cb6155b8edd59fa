"""A Shopify store's API resource: its secrets come from the environment variables its profile names."""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from pydantic import SecretStr

from connectors.shopify import ShopifyClient, ShopifyConfig
from mappings.profiles import ShopifyProfile


class ShopifyStoreResource(dg.ConfigurableResource):
    """One Shopify store's GraphQL Admin API access (version from the profile, 2026-10 by default)."""

    shop_domain: str
    api_version: str
    access_token: str
    base_url: str = ""

    @contextmanager
    def client(self) -> Iterator[ShopifyClient]:
        """A GraphQL Admin API client pacing itself on the store's query-cost bucket."""
        config = ShopifyConfig(shop_domain=self.shop_domain, api_version=self.api_version,
                               access_token=SecretStr(self.access_token),
                               http={"base_url": self.base_url} if self.base_url else {})
        client = ShopifyClient(config)
        try:
            yield client
        finally:
            client.close()


def shopify_resource(shop: ShopifyProfile) -> ShopifyStoreResource:
    """The resource for a profile's store, wired to the environment variables the profile names."""
    return ShopifyStoreResource(
        shop_domain=shop.shop_domain, api_version=shop.api_version, access_token=dg.EnvVar(shop.access_token_env),
        base_url=dg.EnvVar(shop.base_url_env) if shop.base_url_env else "",
    )
