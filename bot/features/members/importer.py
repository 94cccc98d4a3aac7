"""CSV import of members, purchases and point transactions from a POS/CRM export.

One file, one row per record, a ``record`` column saying which: ``member``, ``purchase`` or
``points``. Every row is validated first; a file with errors imports nothing unless invalid
rows are skipped. Purchases and point rows carry the source system's ``ref`` so importing
the same file again changes nothing.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import ImportValidationError, KefuError
from bot.core.phones import normalize_phone
from bot.core.storage import members as member_store
from bot.core.storage.models import Member
from bot.features.loyalty.engine import PurchaseIn, Refused, record_purchase
from bot.features.loyalty.ledger import add_purchase, add_transaction
from bot.features.loyalty.points import ADJUST, EARN, EXPIRE, REDEEM, lot_expiry
from bot.features.members.directory import Directory
from bot.settings import LANGUAGES, Settings

MEMBER_NO = re.compile(r"^M\d{4,12}$")
MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_AMOUNT = Decimal("1000000")
MAX_POINTS = 10_000_000
COLUMNS = ("record", "member_no", "phone", "name", "birthday", "language", "timezone",
           "joined_on", "occurred_at", "amount", "store", "kind", "points", "expires_on",
           "reason", "ref")


@dataclass(frozen=True, slots=True)
class MemberRow:
    line: int
    member_no: str
    phone: str | None
    name: str | None
    birthday: date | None
    language: str | None
    timezone: str | None
    joined_on: date | None


@dataclass(frozen=True, slots=True)
class PurchaseRow:
    line: int
    member_no: str
    occurred_at: datetime
    amount: Decimal
    store: str | None
    ref: str


@dataclass(frozen=True, slots=True)
class PointsRow:
    line: int
    member_no: str
    kind: str
    points: int
    occurred_at: datetime
    expires_on: date | None
    reason: str
    ref: str


Row = MemberRow | PurchaseRow | PointsRow


@dataclass(slots=True)
class ImportReport:
    rows: int = 0
    members_created: int = 0
    members_updated: int = 0
    purchases_added: int = 0
    points_added: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)


class _RowError(ValueError):
    pass


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows as dicts; UTF-8 (with or without BOM) or GB18030, as Chinese POS exports are."""
    if not path.exists():
        raise KefuError(f"Import file {path} does not exist")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise KefuError(f"Import file {path} is larger than {MAX_FILE_BYTES // 2**20} MB; split it")
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise KefuError(f"Import file {path} is neither UTF-8 nor GB18030 text")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    if "record" not in header:
        raise KefuError(f"Import file {path} has no 'record' column; the header must name "
                        f"some of: {', '.join(COLUMNS)}")
    unknown = sorted(set(header) - set(COLUMNS))
    if unknown:
        raise KefuError(f"Import file {path} has unknown column(s) {', '.join(unknown)}; "
                        f"known columns: {', '.join(COLUMNS)}")
    reader.fieldnames = header
    return [{k: (v or "").strip() for k, v in row.items() if k is not None} for row in reader]


def validate(rows: Iterable[dict[str, str]], *, settings: Settings,
             today: date) -> tuple[list[Row], list[str]]:
    """Parses every row; returns the good rows and one message per bad row (line numbers
    count the header as line 1)."""
    parsed: list[Row] = []
    errors: list[str] = []
    for line, row in enumerate(rows, start=2):
        try:
            parsed.append(_parse_row(line, row, settings=settings, today=today))
        except _RowError as exc:
            errors.append(f"row {line}: {exc}")
    return parsed, errors


def _parse_row(line: int, row: dict[str, str], *, settings: Settings, today: date) -> Row:
    record = row.get("record", "").lower()
    member_no = row.get("member_no", "").upper()
    if not MEMBER_NO.match(member_no):
        raise _RowError(f"member_no {member_no!r} must look like M000123")
    zone_name = row.get("timezone") or settings.app.default_timezone
    zone = _zone(zone_name)
    if record == "member":
        phone = None
        if row.get("phone"):
            phone = normalize_phone(row["phone"])
            if phone is None:
                raise _RowError(f"phone {row['phone']!r} is not a valid phone number")
        name = row.get("name") or None
        if name is not None and len(name) > 100:
            raise _RowError("name is longer than 100 characters")
        birthday = _date(row, "birthday")
        if birthday is not None and birthday > today:
            raise _RowError(f"birthday {birthday} is in the future")
        language = row.get("language") or None
        if language is not None and language not in LANGUAGES:
            raise _RowError(f"language {language!r} must be one of {', '.join(LANGUAGES)}")
        return MemberRow(line, member_no, phone, name, birthday, language,
                         row.get("timezone") or None, _date(row, "joined_on"))
    ref = row.get("ref", "")
    if not ref or len(ref) > 100:
        raise _RowError("ref (the source system's id of this record) is required, ≤ 100 chars")
    occurred_at = _datetime(row, "occurred_at", zone)
    if record == "purchase":
        amount = _decimal(row, "amount")
        if not Decimal(0) < amount <= MAX_AMOUNT:
            raise _RowError(f"amount {amount} must be above 0 and at most {MAX_AMOUNT}")
        if amount != amount.quantize(Decimal("0.01")):
            raise _RowError(f"amount {amount} has more than two decimal places")
        if occurred_at.astimezone(zone).date() > today:
            raise _RowError(f"occurred_at {occurred_at:%Y-%m-%d %H:%M} is in the future")
        return PurchaseRow(line, member_no, occurred_at, amount, row.get("store") or None, ref)
    if record == "points":
        kind = row.get("kind", "").lower()
        if kind not in (EARN, REDEEM, EXPIRE, ADJUST):
            raise _RowError(f"kind {kind!r} must be earn, redeem, expire or adjust")
        try:
            points = int(row.get("points", ""))
        except ValueError:
            raise _RowError(f"points {row.get('points')!r} must be a whole number") from None
        if points == 0 or abs(points) > MAX_POINTS:
            raise _RowError(f"points must be non-zero and at most {MAX_POINTS:,} in size")
        if (kind == EARN and points < 0) or (kind in (REDEEM, EXPIRE) and points > 0):
            raise _RowError(f"{kind} rows need {'positive' if kind == EARN else 'negative'} points")
        return PointsRow(line, member_no, kind, points, occurred_at, _date(row, "expires_on"),
                         row.get("reason", "")[:200], ref)
    raise _RowError(f"record {record!r} must be member, purchase or points")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _RowError(f"timezone {name!r} is not an IANA zone such as Asia/Shanghai") from None


def _date(row: dict[str, str], column: str) -> date | None:
    value = row.get(column, "")
    if not value:
        return None
    try:
        return date.fromisoformat(value.replace("/", "-"))
    except ValueError:
        raise _RowError(f"{column} {value!r} is not a date like 2026-05-03") from None


def _datetime(row: dict[str, str], column: str, zone: ZoneInfo) -> datetime:
    value = row.get(column, "")
    if not value:
        raise _RowError(f"{column} is required")
    try:
        moment = datetime.fromisoformat(value.replace("/", "-"))
    except ValueError:
        raise _RowError(f"{column} {value!r} is not a time like 2026-05-03 14:30") from None
    # POS exports give local shop time; attach the member's zone when none is written.
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _decimal(row: dict[str, str], column: str) -> Decimal:
    value = row.get(column, "").replace(",", "").replace("¥", "")
    try:
        return Decimal(value)
    except InvalidOperation:
        raise _RowError(f"{column} {row.get(column)!r} is not an amount like 199.00") from None


async def apply(
    session: AsyncSession,
    rows: list[Row],
    *,
    directory: Directory,
    settings: Settings,
    now: datetime,
    skip_invalid: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Writes validated rows in order.

    Raises:
        ImportValidationError: a row names a member that does not exist or gives a phone
            another member holds (unless ``skip_invalid``); the caller's transaction then
            rolls back, so nothing is kept.
    """
    report = ImportReport(rows=len(rows))
    cache: dict[str, Member] = {}
    lifetime = settings.membership.points.lot_lifetime_months
    missing: list[str] = []
    # A purchase row with an earn row of its own (same member and time) keeps the points the
    # source system gave (migrations); any other purchase earns by Kefu's rules.
    paired = {(row.member_no, row.occurred_at) for row in rows
              if isinstance(row, PointsRow) and row.kind == EARN}
    for row in rows:
        if isinstance(row, MemberRow):
            problem = await _upsert_member(session, row, directory=directory, settings=settings,
                                           now=now, cache=cache, report=report)
            if problem:
                missing.append(problem)
        else:
            member = cache.get(row.member_no) or await member_store.find_member_by_no(
                session, member_no=row.member_no)
            if member is None:
                missing.append(f"row {row.line}: member {row.member_no} does not exist")
                continue
            cache[row.member_no] = member
            if isinstance(row, PurchaseRow) and (row.member_no, row.occurred_at) in paired:
                added = await add_purchase(session, member_id=member.id, amount=row.amount,
                                           occurred_at=row.occurred_at, store_code=row.store,
                                           external_ref=row.ref)
                report.purchases_added += added is not None
            elif isinstance(row, PurchaseRow):
                try:
                    outcome = await record_purchase(
                        session, member=member, birthday=directory.birthday(member),
                        purchase=PurchaseIn(row.ref, row.amount, row.occurred_at, row.store),
                        settings=settings, now=now, source="import")
                except Refused as exc:
                    missing.append(f"row {row.line}: {exc}")
                    continue
                added = None if outcome.repeated else 0
                report.purchases_added += not outcome.repeated
                report.points_added += bool(outcome.points) and not outcome.repeated
            else:
                expires = row.expires_on
                if row.kind in (EARN, ADJUST) and row.points > 0 and expires is None:
                    expires = lot_expiry(row.occurred_at.date(), lifetime)
                added = await add_transaction(
                    session, member_id=member.id, kind=row.kind, points=row.points,
                    occurred_at=row.occurred_at, expires_on=expires, reason=row.reason,
                    external_ref=row.ref)
                report.points_added += added is not None
            report.unchanged += added is None
        if progress is not None:
            progress(1)
    if missing and not skip_invalid:
        raise ImportValidationError(missing)
    report.skipped.extend(missing)
    return report


async def _upsert_member(
    session: AsyncSession, row: MemberRow, *, directory: Directory, settings: Settings,
    now: datetime, cache: dict[str, Member], report: ImportReport,
) -> str | None:
    member = cache.get(row.member_no) or await member_store.find_member_by_no(
        session, member_no=row.member_no)
    if row.phone is not None:
        holder = await directory.find_by_phone(session, row.phone)
        if holder is not None and holder.member_no != row.member_no:
            return f"row {row.line}: phone belongs to another member ({holder.member_no})"
    joined = (datetime.combine(row.joined_on, time(), tzinfo=_zone(row.timezone or
                               settings.app.default_timezone)) if row.joined_on else now)
    if member is None:
        member = await directory.create(
            session, member_no=row.member_no, phone=row.phone, name=row.name,
            birthday=row.birthday, language=row.language or settings.app.default_language,
            timezone=row.timezone or settings.app.default_timezone, joined_at=joined)
        report.members_created += 1
    else:
        changed = False
        if row.phone is not None and directory.phone(member) != row.phone:
            directory.set_phone(member, row.phone)
            changed = True
        if row.name is not None and directory.name(member) != row.name:
            directory.set_name(member, row.name)
            changed = True
        if row.birthday is not None and directory.birthday(member) != row.birthday:
            directory.set_birthday(member, row.birthday)
            changed = True
        for attr in ("language", "timezone"):
            value = getattr(row, attr)
            if value is not None and getattr(member, attr) != value:
                setattr(member, attr, value)
                changed = True
        if row.joined_on is not None and member.joined_at != joined:
            member.joined_at = joined
            changed = True
        report.members_updated += changed
        report.unchanged += not changed
    cache[row.member_no] = member
    return None
