"""Settings of one EasyPost account: where the API is, which key, and whether it buys real labels."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, model_validator

from connectors._http._config import HttpAccountConfig, Secret

API_VERSION = "v2"
"""EasyPost's REST API version every path is under (``/v2/...``), the current and only one it documents."""
DEFAULT_BASE_URL = "https://api.easypost.com"
TEST_KEY_PREFIX = "EZTK"
PRODUCTION_KEY_PREFIX = "EZAK"


class EasyPostConfig(HttpAccountConfig):
    """An EasyPost account; the API key is the HTTP Basic user name and never appears in reprs or logs.

    ``mode`` says which kind of key this must be: ``test`` keys (``EZTK...``) buy labels that cost
    nothing and never ship, ``production`` keys (``EZAK...``) buy real postage. A key of the other
    kind is a configuration error, so a test setup can never buy real labels by a pasted key.
    Writes (create, buy) are never retried by the client: the carrier target looks first.
    """

    api_key: Secret = Field(description="An EasyPost API key: `EZTK...` (test) or `EZAK...` (production).")
    mode: Literal["test", "production"] = "test"

    @classmethod
    def http_defaults(cls, values: Mapping[str, Any], http: Mapping[str, Any]) -> dict[str, Any]:
        """EasyPost's own API root unless another (the sandbox) is given."""
        return {"base_url": DEFAULT_BASE_URL}

    @model_validator(mode="after")
    def _key_matches_mode(self) -> EasyPostConfig:
        key = self.api_key.get_secret_value().strip()
        expected = TEST_KEY_PREFIX if self.mode == "test" else PRODUCTION_KEY_PREFIX
        if not key.startswith(expected):
            # The key itself is never echoed: only which kind was expected.
            raise ValueError(f"mode {self.mode!r} needs an API key starting with {expected}")
        return self

    @property
    def is_test(self) -> bool:
        """Whether labels bought with this account are test labels."""
        return self.mode == "test"
