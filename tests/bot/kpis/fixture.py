"""One quarter of fixture rows whose KPIs were worked out by hand (the sums are in comments).

Cases 1–7 are filed on Monday 2 November 2026, 10:00 in Shanghai (T0), except case 6, filed an
hour before the moment the data is read (AS_OF). Conversations are numbered c1–c10.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.features.kpis.rows import CaseRow, ConversationRow, HandoffRow, KpiRows, MessageCount

AS_OF = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
H, M = timedelta(hours=1), timedelta(minutes=1)


def case(id: int, kind: str, conversation: int, *, category: str | None = None,
         store: str | None = None, channel: str = "web", created: datetime = T0,
         responded: timedelta | None = None, response_due: timedelta | None = None,
         closed: timedelta | None = None, resolution_due: timedelta | None = None,
         left: int | None = None, code: str | None = None, score: int | None = None) -> CaseRow:
    def at(offset: timedelta | None) -> datetime | None:
        return None if offset is None else created + offset

    return CaseRow(id=id, kind=kind, category=category, store=store, channel=channel,
                   conversation_id=conversation, created_at=created,
                   first_responded_at=at(responded), first_response_due_at=at(response_due),
                   closed_at=at(closed), resolution_due_at=at(resolution_due),
                   resolution_left=left, resolution_code=code if code or closed is None
                   else "resolved", csat_score=score)


CASES = (
    # 1: answered in 30 min, closed in 20 h (both in time), rated 5
    case(1, "complaint", 1, category="product", store="sh-jingan", responded=30 * M,
         response_due=2 * H, closed=20 * H, resolution_due=24 * H, score=5),
    # 2: answered in 3 h (late), closed in 50 h (late, and over 48 h), rated 2
    case(2, "complaint", 2, category="product", store="sh-jingan", channel="wechat",
         responded=3 * H, response_due=2 * H, closed=50 * H, resolution_due=24 * H, score=2),
    # 3: answered in 10 h (SLA 12 h), closed in 40 h while paused with 30 minutes left, rated 4
    case(3, "suggestion", 3, category="service", responded=10 * H, response_due=12 * H,
         closed=40 * H, left=30, score=4),
    # 4: never answered nor closed; both deadlines passed long ago
    case(4, "complaint", 4, category="staff", store="bj-sanlitun", response_due=2 * H,
         resolution_due=24 * H),
    # 5: a live chat: answered in 6 min, closed in 60 min, not rated
    case(5, "chat", 5, responded=6 * M, response_due=4 * H, closed=60 * M,
         resolution_due=36 * H),
    # 6: filed an hour ago, in the same conversation as case 1: nothing decided yet
    case(6, "complaint", 1, category="product", store="sh-jingan", created=AS_OF - H,
         response_due=2 * H, resolution_due=24 * H),
    # 7: withdrawn by the customer: counts nowhere but containment
    case(7, "suggestion", 7, category="other", closed=H, code="withdrawn"),
)

CONVERSATIONS = tuple(ConversationRow(cid, channel) for cid, channel in (
    (1, "web"), (2, "wechat"), (3, "web"), (5, "web"), (7, "web"), (8, "web"),
    (9, "telegram"), (10, "web")))

MESSAGES = (
    MessageCount("web", "in", "points_balance", None, 10),
    MessageCount("web", "in", "out_of_scope", "fallback", 3),
    MessageCount("web", "in", "out_of_scope", None, 2),  # answered from the knowledge base
    MessageCount("web", "in", "member_tier", "clarify", 2),
    MessageCount("wechat", "in", "complaint", None, 4),
    MessageCount("telegram", "in", None, None, 1),  # a sticker: no intent
    MessageCount("web", "out", None, None, 20),
    MessageCount("wechat", "out", None, None, 5),
)

HANDOFFS = (
    HandoffRow("web", "asked", T0), HandoffRow("web", "asked", T0 + H),
    HandoffRow("web", "misunderstood", T0 + 2 * H), HandoffRow("wechat", "urgent", T0),
)

ROWS = KpiRows(CASES, MESSAGES, CONVERSATIONS, HANDOFFS)

# Worked out by hand from the rows above (all channels, stores and categories).
EXPECTED: dict[str, float | None] = {
    # feedback 1,2,3,4,6; handled in 48 h: 1 (20 h), 3 (40 h); decided: 1,2,3,4 (6 is 1 h old)
    "handled_within_48h": 2 / 4,
    "feedback_cases": 4,
    # answered 1,2,3,5 after 30, 180, 600, 6 min → sorted 6, 30, 180, 600
    "first_response_median_minutes": (30 + 180) / 2,
    "first_response_p90_minutes": 600,  # nearest rank: ceil(0.9 × 4) = 4th
    # in time 1,3,5 of answered 1,2,3,5 plus 4 (unanswered, overdue); 6 is not due yet
    "first_response_within_sla": 3 / 5,
    # closed 1,2,3,5 after 1200, 3000, 2400, 60 min → 60, 1200, 2400, 3000
    "resolution_median_minutes": (1200 + 2400) / 2,
    "resolution_p90_minutes": 3000,
    # in time 1, 3 (paused with time left), 5; late 2; open and overdue 4
    "resolution_within_sla": 3 / 5,
    # ratings 5, 2, 4 of closed 1,2,3,5
    "csat_satisfied": 2 / 3,
    "csat_average": 11 / 3,
    "csat_response_rate": 3 / 4,
    "csat_ratings": 3,
    # complaints 1,2,4,6; within 2 h: 1; decided: 1, 2, 4 (unanswered after 2 h)
    "complaints": 4,
    "complaints_answered_in_target": 1 / 3,
    # 8 active conversations; c1, c2, c3, c5, c7 had a case (c4 was not active)
    "containment": 3 / 8,
    # 21 inbound messages with an intent: 3 fallbacks, 2 clarifying questions
    "fallback_rate": 3 / 21,
    "did_you_mean_rate": 2 / 21,
    "conversations": 8,
    "handoffs": 4,
    "messages_in": 22,
}
