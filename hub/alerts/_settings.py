"""Alert settings of one deployment, from ``HUB_ALERT_*`` (and ``HUB_UI_URL``); no channel set: logged only."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub.alerts._channel import AlertChannel
from hub.alerts._slack import SlackChannel
from hub.alerts._smtp import SmtpChannel, SmtpSecurity
from hub.alerts._webhook import WebhookChannel

SLACK_API_URL = "https://slack.com/api/"


class AlertConfig(BaseModel):
    """Where alerts go and when they are due. A channel is on when its first setting (host, URL, token) is set.

    ``hub.defs.alerts`` builds it from the ``EnvVar``s Dagster resolves; ``AlertSettings`` reads it from the
    environment (the CLI, a script, the sensors' interval at load time).
    """

    # validate_by_name: built from field names (ui_url), read from the environment by alias (HUB_UI_URL).
    # hide_input_in_errors: a validation error would otherwise quote every input, secrets included.
    model_config = ConfigDict(extra="ignore", validate_by_name=True, hide_input_in_errors=True)

    deployment: str = Field(default="", description="Name put before every title, e.g. `prod`.")
    ui_url: str = Field(default="http://127.0.0.1:3000", validation_alias="HUB_UI_URL",
                        description="Base URL of the Dagster UI, for links to runs.")

    smtp_host: str = ""
    smtp_port: int = 587
    smtp_tls: SmtpSecurity = SmtpSecurity.STARTTLS
    smtp_from: str = ""
    smtp_to: str = Field(default="", description="Recipients, comma-separated.")
    smtp_username: str = ""
    smtp_password: SecretStr | None = None
    smtp_timeout: float = 10.0
    smtp_ca_file: str = Field(default="", description="CA bundle to trust instead of the system's.")

    webhook_url: SecretStr | None = Field(default=None, description="May carry a token: treated as a secret.")
    webhook_secret: SecretStr | None = Field(default=None, description="HMAC-SHA256 key of the signature header.")
    webhook_timeout: float = 10.0
    webhook_max_retries: int = Field(default=3, ge=0, le=10)

    slack_token: SecretStr | None = None
    slack_channel: str = ""
    slack_timeout: float = 10.0
    slack_base_url: str = SLACK_API_URL

    ack_overdue_minutes: int = Field(default=60, gt=0, description="A 997/TA1 pending or failed this long alerts.")
    max_items: int = Field(default=20, gt=0, description="Items listed in one alert before `and N more`.")
    sensor_interval_seconds: int = Field(default=60, ge=10, description="How often the alert sensors look.")

    @model_validator(mode="after")
    def _complete(self) -> AlertConfig:
        if self.smtp_host and not (self.smtp_from and self.recipients()):
            raise ValueError("HUB_ALERT_SMTP_HOST is set: HUB_ALERT_SMTP_FROM and HUB_ALERT_SMTP_TO are needed too")
        if _secret(self.slack_token) and not self.slack_channel:
            raise ValueError("HUB_ALERT_SLACK_TOKEN is set: HUB_ALERT_SLACK_CHANNEL is needed too")
        return self

    def recipients(self) -> tuple[str, ...]:
        """The email recipients, in order."""
        return tuple(part.strip() for part in self.smtp_to.split(",") if part.strip())

    def run_url(self, run_id: str) -> str:
        """The run's page in the Dagster UI."""
        return f"{self.ui_url.rstrip('/')}/runs/{run_id}"


class AlertSettings(BaseSettings, AlertConfig):
    """``AlertConfig`` read from ``HUB_ALERT_*`` and ``HUB_UI_URL``."""

    model_config = SettingsConfigDict(env_prefix="HUB_ALERT_", extra="ignore", validate_by_name=True,
                                      hide_input_in_errors=True)


def build_channels(settings: AlertConfig) -> list[AlertChannel]:
    """The channels ``settings`` configure, in a fixed order: email, webhook, Slack (empty: logged only)."""
    channels: list[AlertChannel] = []
    if settings.smtp_host:
        channels.append(SmtpChannel(
            host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_from,
            recipients=settings.recipients(), security=settings.smtp_tls, username=settings.smtp_username or None,
            password=_secret(settings.smtp_password), timeout=settings.smtp_timeout,
            ca_file=settings.smtp_ca_file or None,
        ))
    url = _secret(settings.webhook_url)
    if url:
        channels.append(WebhookChannel(
            url=url, secret=_secret(settings.webhook_secret), timeout=settings.webhook_timeout,
            max_retries=settings.webhook_max_retries,
        ))
    token = _secret(settings.slack_token)
    if token:
        channels.append(SlackChannel.from_token(
            token, settings.slack_channel, timeout=settings.slack_timeout, base_url=settings.slack_base_url))
    return channels


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() or None if value is not None else None
