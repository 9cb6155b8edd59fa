"""Alerts to a Slack channel through slack_sdk's WebClient (``chat.postMessage``, a bot token)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hub.alerts._alert import Alert
from hub.alerts._channel import AlertDeliveryError, scrub

if TYPE_CHECKING:  # slack_sdk is imported when a Slack channel is made, not by every run worker loading the hub
    from slack_sdk import WebClient


@dataclass(frozen=True)
class SlackChannel:
    """Posts each alert as one message (title in bold, then its lines and links) to one channel."""

    client: WebClient = field(repr=False)
    channel: str
    name: str = "slack"

    @classmethod
    def from_token(
        cls, token: str, channel: str, *, timeout: float = 10.0, base_url: str | None = None
    ) -> SlackChannel:
        """A channel posting with ``token`` (``base_url`` is for a local stand-in of Slack's Web API)."""
        from slack_sdk import WebClient

        return cls(WebClient(token=token, base_url=base_url or WebClient.BASE_URL, timeout=int(timeout)), channel)

    def send(self, alert: Alert) -> None:
        """Post ``alert``, or raise ``AlertDeliveryError`` with Slack's error code (``channel_not_found``...)."""
        from slack_sdk.errors import SlackApiError, SlackClientError

        text = f"*{alert.subject()}*\n{alert.text()}"
        try:
            self.client.chat_postMessage(channel=self.channel, text=text, unfurl_links=False)
        except SlackApiError as exc:  # Slack answered ok=false (or a non-2xx): its error code says why
            code = exc.response.get("error") if isinstance(exc.response.data, dict) else None
            raise AlertDeliveryError(f"Slack refused: {code or exc.response.status_code}") from None
        except (SlackClientError, OSError) as exc:
            raise AlertDeliveryError(scrub(f"{type(exc).__name__}: {exc}", self.client.token)) from None
