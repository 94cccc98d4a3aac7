"""The one settings object: config.yml, overridden by environment variables.

:class:`Settings` composes every config section from where it is owned (the core's in
``bot/core/settings.py``, each feature's in its package, the edges' and the scheduler's here)
and :func:`load_settings` reads it. This module sits above the dialogue and the features in the
layers (pyproject's import contracts): the edges, the scheduler and the handlers import it; the
core and the features receive the sections they need, or an object their own ``Protocol``
describes, which this Settings satisfies (see ``bot/core/settings.py``).

The section types defined elsewhere are re-exported here, so ``from bot.settings import Reward``
keeps working for the layers that may import this module.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.core.errors import ConfigError
from bot.core.settings import DEFAULT_DATABASE_URL as DEFAULT_DATABASE_URL
from bot.core.settings import LANGUAGES as LANGUAGES
from bot.core.settings import AppSettings as AppSettings
from bot.core.settings import DatabaseSettings as DatabaseSettings
from bot.core.settings import Language as Language
from bot.core.settings import LocalizedText as LocalizedText
from bot.core.settings import LogSettings as LogSettings
from bot.core.settings import RedisSettings as RedisSettings
from bot.core.settings import Section
from bot.core.settings import ServerSettings as ServerSettings
from bot.core.settings import TierCode as TierCode
from bot.core.settings import localized as localized
from bot.features.alerts.settings import AlertsSettings
from bot.features.binding.settings import SmsSettings as SmsSettings
from bot.features.cases.settings import CasesSettings
from bot.features.knowledge.settings import KnowledgeSettings as KnowledgeSettings
from bot.features.knowledge.settings import Store as Store
from bot.features.kpis.settings import KpiSettings
from bot.features.loyalty.settings import MembershipSettings as MembershipSettings
from bot.features.loyalty.settings import PointsSettings as PointsSettings
from bot.features.loyalty.settings import Reward as Reward
from bot.features.loyalty.settings import TierRule as TierRule
from bot.features.loyalty.settings import TierVoucher as TierVoucher
from bot.features.members.settings import MembersSettings as MembersSettings
from bot.features.orders.settings import OrdersSettings as OrdersSettings
from bot.features.privacy.settings import PrivacySettings as PrivacySettings
from bot.features.proactive.settings import ProactiveSettings
from bot.features.security.console_settings import ConsoleSettings
from bot.features.security.settings import RateLimit as RateLimit
from bot.features.security.settings import SecuritySettings as SecuritySettings
from bot.outbox.settings import OutboxSettings

DEFAULT_CONFIG_PATH = Path("config.yml")

# Keys that hold secrets: accepted from the environment only, refused in config.yml.
_SECRET_KEYS = {"secret_key", "secret_key_previous", "rasa_token", "bot_token",
                "webhook_secret", "app_secret", "aes_key", "token", "password"}


class NluSettings(Section):
    backend: Literal["embedded", "rasa"] = "embedded"
    threshold: float = Field(default=0.45, ge=0.0, le=1.0)
    ambiguity_margin: float = Field(default=0.08, ge=0.0, le=1.0)
    data_dir: Path = Path("nlu/data")
    model_dir: Path = Path(".kefu/nlu-model")
    rasa_url: str | None = None
    rasa_timeout_seconds: float = Field(default=1.0, gt=0, le=30)
    max_text_chars: int = Field(default=1000, ge=10, le=100_000)
    # Free text understood as a request that takes something away (unsubscribe) acts at once
    # only from this confidence up; below it the bot asks yes/no first.
    destructive_confidence: float = Field(default=0.9, ge=0.0, le=1.0)


class TelegramSettings(Section):
    enabled: bool = True
    mode: Literal["webhook", "polling", "auto"] = "auto"


class WechatSettings(Section):
    enabled: bool = True
    passive_reply_seconds: float = Field(default=4.5, gt=0, le=4.9)
    # Pushes signed with a timestamp further than this from now are refused, and each signed
    # query is remembered this long so that it cannot carry a second message (replays).
    replay_window_seconds: int = Field(default=300, ge=30, le=3600)
    # With WECHAT_AES_KEY set, pushes must be encrypted unless this is true.
    accept_plain: bool = False


class SchedulerSettings(Section):
    # Seconds between two SLA passes (warnings before a deadline, escalation after it).
    sla_check_seconds: int = Field(default=60, ge=1, le=3600)
    # How often a process checks it still leads, or tries to take over: a killed leader is
    # replaced within about this long.
    leader_check_seconds: int = Field(default=5, ge=1, le=60)


class ReadinessSettings(Section):
    """What /readyz checks; each failed check makes it answer 503 with the reason."""

    # The database must answer SELECT 1 within this.
    database_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    # Free space below this on the SQLite database's or the file spool's disk.
    min_free_mb: int = Field(default=64, ge=0)
    # More pushes than this waiting in the spool for the database.
    max_spooled: int = Field(default=1000, ge=1)
    # A due outbox row no dispatcher has tried for this long: delivery is stuck here
    # (a platform outage does not count: its rows have been tried). 0 turns it off.
    max_unclaimed_seconds: float = Field(default=120.0, ge=0)


class SpoolSettings(Section):
    """The inbound spool (bot/spool): where pushes wait while the database cannot take them."""

    # Where pushes wait while the database cannot take them: "file" (a directory on local
    # disk), "redis" (redis.url, shared by every replica) or "auto" (redis when configured).
    backend: Literal["auto", "file", "redis"] = "auto"
    # The file spool's directory; default <app.data_dir>/spool.
    dir: Path | None = None
    # The Redis spool's hash (its set-aside entries go to "<redis_key>:failed"); None:
    # one per database (bot.delivery.spool_redis_key), so that deployments sharing a Redis
    # never replay a push into another's database.
    redis_key: str | None = Field(default=None, min_length=1, max_length=200)
    # A Telegram update waits this long for its turn before it is spooled and answered 200
    # (WeChat uses channels.wechat.passive_reply_seconds).
    telegram_wait_seconds: float = Field(default=5.0, gt=0, le=50)
    # Replays are retried with backoff up to this interval while the database is down.
    replay_max_interval_seconds: float = Field(default=10.0, ge=0.1, le=600)


class WebchatSettings(Section):
    # Open /webchat/stream connections per client address (per process); more get 429.
    max_streams_per_ip: int = Field(default=10, ge=1, le=100_000)
    # How open streams learn of new messages: "auto" is PostgreSQL LISTEN/NOTIFY on
    # PostgreSQL, else Redis pub/sub when redis.url is set, else a look every poll_seconds.
    notify: Literal["auto", "postgresql", "redis", "poll"] = "auto"
    poll_seconds: float = Field(default=1.0, gt=0, le=60)


class ChannelsSettings(Section):
    telegram: TelegramSettings = TelegramSettings()
    wechat: WechatSettings = WechatSettings()


class Settings(BaseSettings):
    """Everything Kefu is configured with. Build it with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="KEFU_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        populate_by_name=True,
    )

    app: AppSettings = AppSettings()
    database: DatabaseSettings = DatabaseSettings()
    server: ServerSettings = ServerSettings()
    redis: RedisSettings = RedisSettings()
    nlu: NluSettings = NluSettings()
    membership: MembershipSettings
    rewards: list[Reward] = Field(default_factory=list)
    stores: list[Store] = Field(default_factory=list)
    channels: ChannelsSettings = ChannelsSettings()
    cases: CasesSettings = CasesSettings()
    console: ConsoleSettings = ConsoleSettings()
    kpis: KpiSettings = KpiSettings()
    logs: LogSettings = LogSettings()
    privacy: PrivacySettings = PrivacySettings()
    security: SecuritySettings = SecuritySettings()
    sms: SmsSettings = SmsSettings()
    knowledge: KnowledgeSettings = KnowledgeSettings()
    orders: OrdersSettings = OrdersSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    alerts: AlertsSettings = AlertsSettings()
    members: MembersSettings = MembersSettings()
    outbox: OutboxSettings = OutboxSettings()
    spool: SpoolSettings = SpoolSettings()
    readiness: ReadinessSettings = ReadinessSettings()
    proactive: ProactiveSettings = ProactiveSettings()
    webchat: WebchatSettings = WebchatSettings()

    # Environment-only values (docs/INTERFACES.md names them).
    config: Path | None = None
    database_url: str | None = None
    secret_key: SecretStr | None = None
    # Keys before the last rotation, comma-separated: still read until `kefu keys rotate`.
    secret_key_previous: SecretStr | None = None
    redis_url: str | None = None
    nlu_rasa_token: SecretStr | None = None
    # Rasa's --auth-token for Kefu's own /model/parse: when set, callers must send ?token=.
    parse_token: SecretStr | None = None
    sms_token: SecretStr | None = None
    telegram_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN", "telegram_bot_token"))
    telegram_webhook_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("TELEGRAM_WEBHOOK_SECRET", "telegram_webhook_secret"))
    telegram_api_base_url: str = Field(
        default="https://api.telegram.org",
        validation_alias=AliasChoices("TELEGRAM_API_BASE_URL", "telegram_api_base_url"))
    wechat_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("WECHAT_TOKEN", "wechat_token"))
    wechat_app_id: str | None = Field(
        default=None, validation_alias=AliasChoices("WECHAT_APP_ID", "wechat_app_id"))
    wechat_app_secret: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("WECHAT_APP_SECRET", "wechat_app_secret"))
    wechat_aes_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("WECHAT_AES_KEY", "wechat_aes_key"))
    # The EncodingAESKey before the last rotation, still accepted while WeChat switches over.
    wechat_aes_key_previous: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("WECHAT_AES_KEY_PREVIOUS", "wechat_aes_key_previous"))
    wechat_api_base_url: str = Field(
        default="https://api.weixin.qq.com",
        validation_alias=AliasChoices("WECHAT_API_BASE_URL", "wechat_api_base_url"))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment overrides config.yml, which arrives as init values.
        return (env_settings, init_settings)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or self.database.url

    @property
    def effective_redis_url(self) -> str | None:
        return self.redis_url or self.redis.url

    @property
    def is_production(self) -> bool:
        return self.app.environment == "production"

    def tier(self, code: str) -> TierRule:
        for rule in self.membership.tiers:
            if rule.code == code:
                return rule
        raise KeyError(code)


def _reject_secrets(data: Any, path: str = "") -> None:
    if isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            if str(key).lower() in _SECRET_KEYS and value not in (None, ""):
                raise ConfigError(
                    f"Config '{where}' holds a secret; remove it from the config file and set it "
                    "in the environment instead (docs/INTERFACES.md names the variable)")
            _reject_secrets(value, where)
    elif isinstance(data, list):
        for index, item in enumerate(data):
            _reject_secrets(item, f"{path}[{index}]")


def _describe(exc: ValidationError, source: Path) -> str:
    lines = [f"Invalid configuration ({source} and KEFU_* environment variables):"]
    for error in exc.errors():
        loc = ".".join(str(part) for part in error["loc"]) or "(root)"
        if error["type"] == "extra_forbidden":
            hint = "unknown key: check its spelling or remove it"
        elif error["type"] == "missing":
            hint = "missing: add it to the config file"
        else:
            hint = error["msg"]
        env_name = "KEFU_" + "__".join(str(p).upper() for p in error["loc"] if isinstance(p, str))
        lines.append(f"  - {loc}: {hint} (environment override: {env_name})")
    return "\n".join(lines)


def config_path() -> Path:
    return Path(os.environ.get("KEFU_CONFIG") or DEFAULT_CONFIG_PATH)


def load_settings(path: Path | None = None) -> Settings:
    """Read config.yml (or ``KEFU_CONFIG``) and the environment into :class:`Settings`.

    Raises:
        ConfigError: the file is missing or unreadable, holds a secret, or a value is invalid.
    """
    source = path or config_path()
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise ConfigError(f"Config file {source} does not exist; set KEFU_CONFIG to the path of "
                          "your config.yml or run Kefu from the project directory") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"Config file {source} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"Config file {source} must hold a mapping of sections at its top level")
    _reject_secrets(raw)
    try:
        settings = Settings(**raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from exc
    if settings.alerts.telegram_chat_id and (settings.telegram_bot_token is None
                                             or not settings.channels.telegram.enabled):
        raise ConfigError(
            f"Invalid configuration ({source} and KEFU_* environment variables):\n"
            "  - alerts.telegram_chat_id: alerts to Telegram need the bot of TELEGRAM_BOT_TOKEN"
            " and channels.telegram.enabled; set them, or remove the chat id (environment "
            "override: KEFU_ALERTS__TELEGRAM_CHAT_ID)")
    problems = _production_problems(settings) if settings.is_production else []
    if problems:
        raise ConfigError("\n".join([f"Invalid configuration for production ({source} and "
                                     "KEFU_* environment variables):", *problems]))
    return settings


def _production_problems(settings: Settings) -> list[str]:
    """Shortcuts that are fine for a demo and wrong in production, one line each."""
    problems = []
    if settings.secret_key is None:
        problems.append("  - KEFU_SECRET_KEY is not set; production refuses to start without "
                        "it. Generate one with: python -c 'import secrets; "
                        "print(secrets.token_urlsafe(32))'")
    if settings.sms.provider == "log":
        # The demo sender writes one-time codes to the log, where any log reader could
        # bind a chat to someone else's membership.
        problems.append("  - sms.provider: 'log' writes one-time codes to the log; production "
                        "needs 'http' with sms.url (environment override: KEFU_SMS__PROVIDER)")
    elif not settings.sms.url:
        problems.append("  - sms.url: missing for sms.provider 'http' (environment override: "
                        "KEFU_SMS__URL)")
    return problems


def previous_secret_keys(settings: Settings) -> tuple[bytes, ...]:
    """The secrets named by ``KEFU_SECRET_KEY_PREVIOUS`` (comma-separated), oldest last."""
    if settings.secret_key_previous is None:
        return ()
    raw = settings.secret_key_previous.get_secret_value()
    return tuple(part.strip().encode() for part in raw.split(",") if part.strip())


def resolve_secret_key(settings: Settings) -> tuple[bytes, bool]:
    """The master secret, and whether it was generated for a development setup.

    Development without ``KEFU_SECRET_KEY`` keeps a generated key in ``data_dir`` so the data
    it encrypted stays readable across restarts.
    """
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode(), False
    if settings.is_production:
        raise ConfigError("KEFU_SECRET_KEY is not set; production refuses to start without it")
    key_file = settings.app.data_dir / "secret.key"
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip().encode(), True
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    key_file.write_text(key + "\n", encoding="utf-8")
    key_file.chmod(0o600)
    return key.encode(), True
