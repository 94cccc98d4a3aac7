"""The one settings object: config.yml, overridden by environment variables."""

from __future__ import annotations

import os
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.core.errors import ConfigError
from bot.features.alerts.settings import AlertsSettings
from bot.features.cases.settings import CasesSettings
from bot.features.kpis.settings import KpiSettings
from bot.features.proactive.settings import ProactiveSettings
from bot.features.security.console_settings import ConsoleSettings
from bot.outbox.settings import OutboxSettings
from bot.spool.settings import SpoolSettings

Language = Literal["zh-Hans", "zh-Hant", "en"]
LANGUAGES: tuple[Language, ...] = ("zh-Hans", "zh-Hant", "en")
TierCode = Literal["standard", "silver", "gold", "diamond"]

DEFAULT_CONFIG_PATH = Path("config.yml")
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./kefu.db"

# Keys that hold secrets: accepted from the environment only, refused in config.yml.
_SECRET_KEYS = {"secret_key", "secret_key_previous", "rasa_token", "bot_token",
                "webhook_secret", "app_secret", "aes_key", "token", "password"}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


LocalizedText = dict[Language, str]


def localized(text: LocalizedText, language: str) -> str:
    """``text`` in ``language``, else simplified Chinese, else any translation there is."""
    for key in (language, "zh-Hans", "en"):
        if key in text:
            return text[key]
    return next(iter(text.values()), "")


class AppSettings(_Section):
    environment: Literal["development", "production"] = "development"
    default_language: Language = "zh-Hans"
    default_timezone: str = "Asia/Shanghai"
    data_dir: Path = Path(".kefu")
    max_message_chars: int = Field(default=4000, ge=1, le=100_000)

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as "
                             "'Asia/Shanghai'") from exc
        return value


class DatabaseSettings(_Section):
    url: str = DEFAULT_DATABASE_URL
    # PostgreSQL only: the schema Kefu's tables live in (tests use one schema per run).
    schema_name: str | None = Field(default=None, pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    echo: bool = False


class RedisSettings(_Section):
    # redis://127.0.0.1:6379/0 — shared state of several Kefu processes (platform access
    # tokens, rate limits). Without it, one process keeps them itself or in the database.
    url: str | None = None


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str | None = None


class NluSettings(_Section):
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


class TierVoucher(_Section):
    code: str = Field(pattern=r"^[a-z0-9_-]{1,40}$")
    names: LocalizedText
    # Once a "month" or once a "year"; with birthday_month only in the birthday month.
    period: Literal["month", "year"] = "year"
    birthday_month: bool = False


class TierRule(_Section):
    code: TierCode
    names: LocalizedText
    min_spend: Decimal = Field(default=Decimal(0), ge=0)
    min_visits: int = Field(default=0, ge=0)
    min_tenure_months: int = Field(default=0, ge=0)
    # "any": spend OR visits qualifies; "all": both are needed. Tenure is always needed.
    qualify: Literal["any", "all"] = "any"
    points_per_yuan: Decimal = Field(default=Decimal(1), ge=0)
    benefits: list[LocalizedText] = Field(default_factory=list)
    # Points earned in the member's birthday month are multiplied by this (1: no bonus).
    birthday_multiplier: Decimal = Field(default=Decimal(1), ge=1, le=10)
    # Vouchers the tier brings, each put into the member's rewards once per period.
    vouchers: list[TierVoucher] = Field(default_factory=list)


class PointsSettings(_Section):
    # An earned lot is valid through the last day of the month this many months later.
    lot_lifetime_months: int = Field(default=12, ge=1, le=120)
    expiring_soon_days: int = Field(default=30, ge=1, le=366)


class MembershipSettings(_Section):
    qualification_window_months: int = Field(default=12, ge=1, le=60)
    tiers: list[TierRule]
    points: PointsSettings = PointsSettings()

    @model_validator(mode="after")
    def _tiers_ordered(self) -> MembershipSettings:
        codes = [t.code for t in self.tiers]
        expected = ["standard", "silver", "gold", "diamond"]
        if codes != expected:
            raise ValueError(f"tiers must be listed once each in the order {expected}, got {codes}")
        if self.tiers[0].min_spend != 0 or self.tiers[0].min_visits != 0:
            raise ValueError("the standard tier must have min_spend 0 and min_visits 0")
        return self


class Store(_Section):
    code: str
    names: LocalizedText
    aliases: list[str] = Field(default_factory=list)
    city: str
    city_aliases: list[str] = Field(default_factory=list)
    address: LocalizedText
    phone: str | None = None
    timezone: str = "Asia/Shanghai"
    hours: str = "10:00-22:00"
    holiday_hours: str | None = None


class Reward(_Section):
    code: str
    names: LocalizedText
    points: int = Field(gt=0)
    stock: int | None = Field(default=None, ge=0)


class SmsSettings(_Section):
    # "log" writes one-time codes to the log (demo, development); "http" posts them to url.
    provider: Literal["log", "http"] = "log"
    url: str | None = None
    timeout_seconds: float = Field(default=5.0, gt=0, le=30)


class KnowledgeSettings(_Section):
    # The FAQ entries operators edit (YAML); read again when the file changes.
    file: Path = Path("knowledge.yml")


class OrdersSettings(_Section):
    # "package.module:factory" building an order system to look orders up; without one the
    # bot explains where to find an order and offers a person.
    plugin: str | None = Field(default=None, pattern=r"^[\w.]+:\w+$")


class MembersSettings(_Section):
    # "package.module:factory" building a retailer's member directory (CRM) that finds
    # members and their tier; without one, Kefu's own tables do.
    plugin: str | None = Field(default=None, pattern=r"^[\w.]+:\w+$")


class TelegramSettings(_Section):
    enabled: bool = True
    mode: Literal["webhook", "polling", "auto"] = "auto"


class WechatSettings(_Section):
    enabled: bool = True
    passive_reply_seconds: float = Field(default=4.5, gt=0, le=4.9)
    # Pushes signed with a timestamp further than this from now are refused, and each signed
    # query is remembered this long so that it cannot carry a second message (replays).
    replay_window_seconds: int = Field(default=300, ge=30, le=3600)
    # With WECHAT_AES_KEY set, pushes must be encrypted unless this is true.
    accept_plain: bool = False


class PrivacySettings(_Section):
    # Conversation messages and finished outbox rows older than this are deleted.
    retention_days: int = Field(default=180, ge=1, le=3650)
    # WeChat's rules expect a follower's data deleted when they unsubscribe.
    erase_on_wechat_unsubscribe: bool = False


class RateLimit(_Section):
    requests: int = Field(ge=1, le=1_000_000)
    seconds: int = Field(default=60, ge=1, le=86_400)


class SecuritySettings(_Section):
    # Browser origins allowed to call Kefu's API (CORS); none by default.
    cors_origins: list[str] = Field(default_factory=list)
    web_per_ip: RateLimit = RateLimit(requests=300)
    web_per_sender: RateLimit = RateLimit(requests=30)
    # Platform webhooks come from a few platform servers: only a flood guard per IP.
    webhook_per_ip: RateLimit = RateLimit(requests=3000)
    parse_per_ip: RateLimit = RateLimit(requests=120)
    # /model/parse called with the service token (KEFU_PARSE_TOKEN, Rasa's ?token=): a Rasa
    # stack's traffic, counted for all its callers together instead of per address.
    parse_per_token: RateLimit = RateLimit(requests=30_000)
    # Console sign-in: wrong passwords from one address (any account) and to one account
    # (from addresses it has not signed in from) before delays begin; successes never count.
    # `seconds` is not used: tallies are kept a day after the last failure.
    login_per_ip: RateLimit = RateLimit(requests=20, seconds=300)
    login_per_account: RateLimit = RateLimit(requests=5, seconds=300)


class SchedulerSettings(_Section):
    # Seconds between two SLA passes (warnings before a deadline, escalation after it).
    sla_check_seconds: int = Field(default=60, ge=1, le=3600)
    # How often a process checks it still leads, or tries to take over: a killed leader is
    # replaced within about this long.
    leader_check_seconds: int = Field(default=5, ge=1, le=60)


class ReadinessSettings(_Section):
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


class WebchatSettings(_Section):
    # Open /webchat/stream connections per client address (per process); more get 429.
    max_streams_per_ip: int = Field(default=10, ge=1, le=100_000)
    # How open streams learn of new messages: "auto" is PostgreSQL LISTEN/NOTIFY on
    # PostgreSQL, else Redis pub/sub when redis.url is set, else a look every poll_seconds.
    notify: Literal["auto", "postgresql", "redis", "poll"] = "auto"
    poll_seconds: float = Field(default=1.0, gt=0, le=60)


class LogSettings(_Section):
    # auto: JSON lines in production, readable lines in development.
    format: Literal["auto", "json", "console"] = "auto"
    access_log: bool = True


class ChannelsSettings(_Section):
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
