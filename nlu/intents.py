"""The intent taxonomy (names fixed by CONTRACTS.md) as constants."""

from typing import Final

GREET: Final = "greet"
GOODBYE: Final = "goodbye"
THANK: Final = "thank"
AFFIRM: Final = "affirm"
DENY: Final = "deny"
BOT_CHALLENGE: Final = "bot_challenge"
MEMBER_TIER: Final = "member_tier"
MEMBER_BENEFITS: Final = "member_benefits"
MEMBER_UPGRADE: Final = "member_upgrade"
POINTS_BALANCE: Final = "points_balance"
POINTS_HISTORY: Final = "points_history"
POINTS_EXPIRY: Final = "points_expiry"
POINTS_REDEEM: Final = "points_redeem"
BIND_ACCOUNT: Final = "bind_account"
COMPLAINT: Final = "complaint"
SUGGESTION: Final = "suggestion"
CASE_STATUS: Final = "case_status"
HUMAN_AGENT: Final = "human_agent"
STORE_HOURS: Final = "store_hours"
STORE_LOCATION: Final = "store_location"
RETURN_POLICY: Final = "return_policy"
ORDER_STATUS: Final = "order_status"
SUBSCRIBE: Final = "subscribe"
UNSUBSCRIBE: Final = "unsubscribe"
PROFILE_UPDATE: Final = "profile_update"
PRIVACY_REQUEST: Final = "privacy_request"
OUT_OF_SCOPE: Final = "out_of_scope"

ALL_INTENTS: Final[tuple[str, ...]] = (
    GREET, GOODBYE, THANK, AFFIRM, DENY, BOT_CHALLENGE,
    MEMBER_TIER, MEMBER_BENEFITS, MEMBER_UPGRADE,
    POINTS_BALANCE, POINTS_HISTORY, POINTS_EXPIRY, POINTS_REDEEM,
    BIND_ACCOUNT, COMPLAINT, SUGGESTION, CASE_STATUS, HUMAN_AGENT,
    STORE_HOURS, STORE_LOCATION, RETURN_POLICY, ORDER_STATUS,
    SUBSCRIBE, UNSUBSCRIBE, PROFILE_UPDATE, PRIVACY_REQUEST, OUT_OF_SCOPE,
)

ENTITY_TYPES: Final[tuple[str, ...]] = (
    "phone", "order_id", "case_id", "date", "city", "store", "tier", "points",
)
