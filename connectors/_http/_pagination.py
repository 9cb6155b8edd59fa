"""Pagination strategies: where the first page is, and where the next one is given the last answer."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx


@dataclass(frozen=True)
class PageRequest:
    """One page's request: a path relative to the base URL (or an absolute URL on the same host) and its query."""

    path: str
    params: Mapping[str, Any] | None = field(default=None)


class Paginator(Protocol):
    """Says how to ask for the first page and for the page after a given answer."""

    def first(self, path: str, params: Mapping[str, Any] | None) -> PageRequest:
        """The first page's request."""

    def next(self, response: httpx.Response, previous: PageRequest) -> PageRequest | None:
        """The next page's request, or None after the last page."""


class LinkHeaderPaginator:
    """RFC 8288 ``Link: <https://.../orders.json?limit=250&page_info=abc>; rel="next"`` (Shopify's cursors).

    The next URL is followed exactly as given: it already carries the cursor and the only query
    parameters the server allows with it (Shopify: ``limit`` and ``fields``).
    """

    def __init__(self, rel: str = "next") -> None:
        self.rel = rel

    def first(self, path: str, params: Mapping[str, Any] | None) -> PageRequest:
        """The caller's own request."""
        return PageRequest(path, params)

    def next(self, response: httpx.Response, previous: PageRequest) -> PageRequest | None:
        """The URL of the link with our ``rel``, if the answer has one."""
        for value in response.headers.get_list("link"):
            for url, rels in parse_link_header(value):
                if self.rel in rels:
                    return PageRequest(url, None)
        return None


def parse_link_header(value: str) -> list[tuple[str, set[str]]]:
    """The (URL, rel values) pairs of one ``Link`` header value; commas inside ``<...>`` are kept."""
    links = []
    for link in _LINK.finditer(value):
        rels: set[str] = set()
        for param in _LINK_PARAM.finditer(link.group(2)):
            if param.group(1).lower() == "rel":
                raw = param.group(3) if param.group(3) is not None else param.group(2)
                rels.update(raw.lower().split())
        links.append((link.group(1).strip(), rels))
    return links


# A link is <URL> followed by its ;-parameters up to the next "<"; parameter values may be quoted.
_LINK = re.compile(r"<([^>]*)>([^<]*)")
_LINK_PARAM = re.compile(r';\s*([A-Za-z*]+)\s*=\s*("([^"]*)"|[^;,\s]*)')


class NextTokenPaginator:
    """A token in the JSON body sent back as a query parameter (SP-API ``payload.NextToken`` -> ``NextToken``).

    ``keep_params`` keeps the first request's other parameters on later pages (SP-API wants the
    ``MarketplaceIds`` again); ``replace_params`` sends only the token.
    """

    def __init__(self, token_path: str | Sequence[str], param: str, *, keep_params: bool = True) -> None:
        self.token_path = tuple(token_path.split(".")) if isinstance(token_path, str) else tuple(token_path)
        self.param = param
        self.keep_params = keep_params

    def first(self, path: str, params: Mapping[str, Any] | None) -> PageRequest:
        """The caller's own request."""
        return PageRequest(path, params)

    def next(self, response: httpx.Response, previous: PageRequest) -> PageRequest | None:
        """The same path with the token from the body, or None when the body has no token."""
        try:
            node: Any = json.loads(response.content)
        except ValueError:
            return None
        for key in self.token_path:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        if not isinstance(node, str) or not node:
            return None
        params = dict(previous.params or {}) if self.keep_params else {}
        params[self.param] = node
        return PageRequest(previous.path, params)
