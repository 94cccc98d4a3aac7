"""Every KPI, defined once, as pure functions of the rows of one period (README "KPIs").

Cases count in the period they were created in; messages, conversations and handoffs in the
period they happened in. ``as_of`` is the moment the data was read: a case younger than a
deadline at that moment is not counted for or against it yet.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.features.kpis.rows import CaseRow, Filters, KpiRows, Period

FEEDBACK_KINDS = ("complaint", "suggestion")
COMPLAINT = "complaint"
WITHDRAWN = "withdrawn"
HANDLED_WITHIN = timedelta(hours=48)
SATISFIED_FROM = 4
CLARIFY, FALLBACK = "clarify", "fallback"
NONE_LABEL = "—"


@dataclass(frozen=True, slots=True)
class Kpis:
    """One period's figures: ``values`` by KPI name (``None`` when nothing to measure)."""

    period: Period
    filters: Filters
    values: dict[str, float | None]
    complaints_by_category: list[tuple[str, int]] = field(default_factory=list)
    complaints_by_store: list[tuple[str, int]] = field(default_factory=list)
    handoff_reasons: list[tuple[str, int]] = field(default_factory=list)
    intents: list[tuple[str, int]] = field(default_factory=list)
    # channel → (in, out)
    messages_by_channel: list[tuple[str, int, int]] = field(default_factory=list)


def share(hits: int, total: int) -> float | None:
    return hits / total if total else None


def median(values: Sequence[float]) -> float | None:
    """The middle value (the mean of the two middle ones for an even count)."""
    return float(statistics.median(values)) if values else None


def p90(values: Sequence[float]) -> float | None:
    """Nearest-rank 90th percentile: the smallest value at least 90% of values do not exceed."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[math.ceil(0.9 * len(ordered)) - 1])


def minutes(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 60


def _ranked(counter: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))


def select_cases(rows: Iterable[CaseRow], filters: Filters) -> list[CaseRow]:
    """The cases the filters keep, without the withdrawn (the customer left before anyone
    could help: neither a success nor a failure of the desk)."""
    return [c for c in rows if c.resolution_code != WITHDRAWN
            and (filters.channel is None or c.channel == filters.channel)
            and (filters.store is None or c.store == filters.store)
            and (filters.category is None or c.category == filters.category)]


def handled_within_48h(cases: Sequence[CaseRow], as_of: datetime) -> tuple[float | None, int]:
    """Feedback (complaints, suggestions) closed within 48 calendar hours of being filed,
    among feedback whose 48 hours are over or that is already closed. Returns the share and
    how many cases it is over."""
    feedback = [c for c in cases if c.kind in FEEDBACK_KINDS]
    handled = [c for c in feedback
               if c.closed_at is not None and c.closed_at - c.created_at <= HANDLED_WITHIN]
    decided = [c for c in feedback if c in handled or as_of - c.created_at >= HANDLED_WITHIN]
    return share(len(handled), len(decided)), len(decided)


def first_response(cases: Sequence[CaseRow], as_of: datetime) -> dict[str, float | None]:
    """Calendar minutes from filing to an agent's first answer (median, p90), and the share
    answered by the business-hours SLA deadline among answered cases and unanswered cases
    whose deadline has passed."""
    answered = [c for c in cases if c.first_responded_at is not None]
    times = [minutes(c.created_at, c.first_responded_at) for c in answered
             if c.first_responded_at is not None]
    in_time = [c for c in answered if c.first_response_due_at is None
               or (c.first_responded_at is not None
                   and c.first_responded_at <= c.first_response_due_at)]
    overdue = [c for c in cases if c.first_responded_at is None
               and c.first_response_due_at is not None and c.first_response_due_at <= as_of]
    return {"first_response_median_minutes": median(times),
            "first_response_p90_minutes": p90(times),
            "first_response_within_sla": share(len(in_time), len(answered) + len(overdue))}


def _resolved_in_time(case: CaseRow) -> bool:
    if case.closed_at is None:
        return False
    if case.resolution_due_at is not None:
        return case.closed_at <= case.resolution_due_at
    # Closed while the clock was paused: in time if time was left when it stopped.
    return case.resolution_left is None or case.resolution_left > 0


def resolution(cases: Sequence[CaseRow], as_of: datetime) -> dict[str, float | None]:
    """Calendar minutes from filing to closing (median, p90), and the share closed by the
    SLA deadline among closed cases and open cases whose deadline has passed."""
    closed = [c for c in cases if c.closed_at is not None]
    times = [minutes(c.created_at, c.closed_at) for c in closed if c.closed_at is not None]
    overdue = [c for c in cases if c.closed_at is None
               and c.resolution_due_at is not None and c.resolution_due_at <= as_of]
    return {"resolution_median_minutes": median(times),
            "resolution_p90_minutes": p90(times),
            "resolution_within_sla": share(sum(1 for c in closed if _resolved_in_time(c)),
                                           len(closed) + len(overdue))}


def csat(cases: Sequence[CaseRow]) -> dict[str, float | None]:
    """Ratings (1–5) of closed cases: the share of 4 and 5, the average, and how many of
    the closed cases were rated."""
    closed = [c for c in cases if c.closed_at is not None]
    scores = [c.csat_score for c in closed if c.csat_score is not None]
    return {"csat_satisfied": share(sum(1 for s in scores if s >= SATISFIED_FROM), len(scores)),
            "csat_average": sum(scores) / len(scores) if scores else None,
            "csat_response_rate": share(len(scores), len(closed)),
            "csat_ratings": float(len(scores))}


def complaints_answered(cases: Sequence[CaseRow], as_of: datetime,
                        target: timedelta) -> float | None:
    """Complaints whose first answer came within ``target`` calendar time, among complaints
    answered and those still unanswered after it."""
    complaints = [c for c in cases if c.kind == COMPLAINT]
    in_time = sum(1 for c in complaints if c.first_responded_at is not None
                  and c.first_responded_at - c.created_at <= target)
    decided = sum(1 for c in complaints if c.first_responded_at is not None
                  or as_of - c.created_at > target)
    return share(in_time, decided)


def compute(rows: KpiRows, *, period: Period, as_of: datetime,
            complaint_target: timedelta, filters: Filters = Filters()) -> Kpis:
    """All KPIs of one period (see the module's docstring for what counts where)."""
    cases = select_cases(rows.cases, filters)
    complaints = [c for c in cases if c.kind == COMPLAINT]
    handled, feedback = handled_within_48h(cases, as_of)
    channel = filters.channel
    messages = [m for m in rows.messages if channel is None or m.channel == channel]
    inbound = [m for m in messages if m.direction == "in"]
    understood_or_not = sum(m.count for m in inbound if m.intent is not None)
    conversations = {c.id for c in rows.conversations if channel is None or c.channel == channel}
    # Any case (a complaint, a request for a person) means a person had to step in.
    escalated = conversations & {c.conversation_id for c in rows.cases
                                 if channel is None or c.channel == channel}
    handoffs = [h for h in rows.handoffs if channel is None or h.channel == channel]
    values: dict[str, float | None] = {
        "handled_within_48h": handled,
        "feedback_cases": float(feedback),
        **first_response(cases, as_of),
        **resolution(cases, as_of),
        **csat(cases),
        "complaints": float(len(complaints)),
        "complaints_answered_in_target": complaints_answered(complaints, as_of,
                                                             complaint_target),
        "containment": share(len(conversations) - len(escalated), len(conversations)),
        "fallback_rate": share(sum(m.count for m in inbound if m.outcome == FALLBACK),
                               understood_or_not),
        "did_you_mean_rate": share(sum(m.count for m in inbound if m.outcome == CLARIFY),
                                   understood_or_not),
        "conversations": float(len(conversations)),
        "handoffs": float(len(handoffs)),
        "messages_in": float(sum(m.count for m in inbound)),
    }
    intents: Counter[str] = Counter()
    for m in inbound:
        if m.intent is not None:
            intents[m.intent] += m.count
    by_channel: dict[str, list[int]] = {}
    for m in messages:
        by_channel.setdefault(m.channel, [0, 0])[0 if m.direction == "in" else 1] += m.count
    return Kpis(
        period=period, filters=filters, values=values,
        complaints_by_category=_ranked(Counter(c.category or NONE_LABEL for c in complaints)),
        complaints_by_store=_ranked(Counter(c.store or NONE_LABEL for c in complaints)),
        handoff_reasons=_ranked(Counter(h.reason for h in handoffs)),
        intents=_ranked(intents),
        messages_by_channel=sorted(((name, counts[0], counts[1])
                                    for name, counts in by_channel.items()),
                                   key=lambda row: (-row[1] - row[2], row[0])))
