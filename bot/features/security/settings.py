"""The `security` config section: CORS origins and the abuse limits."""

from __future__ import annotations

from typing import Protocol

from pydantic import Field, SecretStr

from bot.core.settings import Section, ServerSettings
from bot.features.security.console_settings import ConsoleSettings


class RateLimit(Section):
    requests: int = Field(ge=1, le=1_000_000)
    seconds: int = Field(default=60, ge=1, le=86_400)

class SecuritySettings(Section):
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


class RedisConfig(Protocol):
    """Where shared rate-limit tallies live (the composed Settings is one)."""

    @property
    def effective_redis_url(self) -> str | None: ...


class SecurityConfig(RedisConfig, Protocol):
    """What the HTTP guards read from the settings (the composed Settings is one)."""

    @property
    def security(self) -> SecuritySettings: ...

    @property
    def server(self) -> ServerSettings: ...

    @property
    def console(self) -> ConsoleSettings: ...

    @property
    def parse_token(self) -> SecretStr | None: ...
