"""A profile's account as its connector's settings: secrets read from the environment variables it names.

Connectors know only their system's wire format and settings; this is where a partner profile meets them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import SecretStr

from canonical.errors import ConfigurationError
from connectors.amazon import LWA_TOKEN_URL, AmazonConfig
from connectors.shopify import ShopifyConfig
from mappings.profiles import AmazonProfile, ShopifyProfile


def shopify_config(
    profile: ShopifyProfile, *, env: Mapping[str, str] | None = None, **overrides: object
) -> ShopifyConfig:
    """Settings for a partner profile's store, secrets read from the environment variables it names."""
    env = os.environ if env is None else env
    token = (env.get(profile.access_token_env) or "").strip()
    if not token:
        raise ConfigurationError(f"environment variable {profile.access_token_env} (Shopify access token) is not set")
    base_url = (env.get(profile.base_url_env) or "").strip() or None if profile.base_url_env else None
    values: dict[str, object] = {"shop_domain": profile.shop_domain, "api_version": profile.api_version,
                                 "access_token": token, "base_url": base_url}
    values.update(overrides)
    return ShopifyConfig.model_validate(values)


def amazon_config(
    profile: AmazonProfile,
    *,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    base_url: str | None = None,
    token_url: str | None = None,
    **overrides: object,
) -> AmazonConfig:
    """The config of a partner profile's account, with secrets (and sandbox URLs) resolved by the caller."""
    return AmazonConfig(
        http={"base_url": base_url or profile.region_base_url},
        token_url=token_url or LWA_TOKEN_URL,
        client_id=client_id,
        client_secret=SecretStr(client_secret),
        refresh_token=SecretStr(refresh_token),
        marketplace_ids=tuple(profile.marketplace_ids),
        **{"restricted_data": tuple(profile.restricted_data), **overrides},
    )
