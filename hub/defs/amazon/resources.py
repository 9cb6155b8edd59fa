"""A marketplace seller account's API resource: its secrets come from the environment variables its profile names."""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from pydantic import SecretStr

from connectors.amazon import AmazonClient, AmazonConfig
from mappings.profiles import AmazonProfile


class AmazonSellerResource(dg.ConfigurableResource):
    """One marketplace seller account (SP-API style Orders API, LWA tokens)."""

    marketplace_ids: list[str]
    base_url: str
    token_url: str = ""
    client_id: str
    client_secret: str
    refresh_token: str
    # getOrders data elements fetched with a Restricted Data Token (the profile's restricted_data).
    restricted_data: list[str] = []  # noqa: RUF012 - a Dagster config field; pydantic copies the default

    @contextmanager
    def client(self) -> Iterator[AmazonClient]:
        """A client with per-operation rate limits and a cached access token (and RDT, when configured)."""
        config_kwargs = {"token_url": self.token_url} if self.token_url else {}
        config = AmazonConfig(http={"base_url": self.base_url}, client_id=self.client_id,
                              client_secret=SecretStr(self.client_secret), refresh_token=SecretStr(self.refresh_token),
                              marketplace_ids=tuple(self.marketplace_ids),
                              restricted_data=tuple(self.restricted_data), **config_kwargs)
        client = AmazonClient(config)
        try:
            yield client
        finally:
            client.close()


def amazon_resource(seller: AmazonProfile) -> AmazonSellerResource:
    """The resource for a profile's seller account, wired to the environment variables the profile names."""
    return AmazonSellerResource(
        marketplace_ids=list(seller.marketplace_ids),
        base_url=dg.EnvVar(seller.base_url_env) if seller.base_url_env else seller.region_base_url,
        token_url=dg.EnvVar(seller.token_url_env) if seller.token_url_env else "",
        client_id=dg.EnvVar(seller.lwa_client_id_env),
        client_secret=dg.EnvVar(seller.lwa_client_secret_env),
        refresh_token=dg.EnvVar(seller.refresh_token_env),
        restricted_data=list(seller.restricted_data),
    )
