from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import Kefu
from bot.core.errors import ImportValidationError, KefuError
from bot.core.storage.db import transaction
from bot.core.storage.models import Member, PointTransaction, Purchase
from bot.features.members import importer
from tests.conftest import FIXED_NOW

GOOD = """record,member_no,phone,name,birthday,language,occurred_at,amount,store,kind,points,reason,ref
member,M200001,13912345678,周杰,1990-04-01,zh-Hans,,,,,,,
member,M200002,+852 9123 4567,陳大文,,zh-Hant,,,,,,,
purchase,M200001,,,,,2026-10-01 15:30,1288.00,sh-jingan,,,,pos-1
points,M200001,,,,,2026-10-01 15:30,,,earn,1288,消费积分,pos-1-pts
points,M200001,,,,,2026-10-20 10:00,,,redeem,-300,咖啡券,rd-9
"""


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "export.csv"
    path.write_bytes(text.encode(encoding))
    return path


async def run_import(kefu: Kefu, path: Path, *, skip_invalid: bool = False) -> importer.ImportReport:
    rows = importer.read_csv(path)
    parsed, errors = importer.validate(rows, settings=kefu.settings, today=FIXED_NOW.date())
    if errors and not skip_invalid:
        raise ImportValidationError(errors)
    async with transaction(kefu.sessions) as session:
        return await importer.apply(session, parsed, directory=kefu.directory,
                                    settings=kefu.settings, now=FIXED_NOW,
                                    skip_invalid=skip_invalid)


async def counts(kefu: Kefu) -> tuple[int, int, int]:
    async with kefu.sessions() as session:
        return (
            int(await session.scalar(select(func.count()).select_from(Member)) or 0),
            int(await session.scalar(select(func.count()).select_from(Purchase)) or 0),
            int(await session.scalar(select(func.count()).select_from(PointTransaction)) or 0),
        )


async def test_import_then_reimport_changes_nothing(kefu: Kefu, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    first = await run_import(kefu, path)
    assert (first.members_created, first.purchases_added, first.points_added) == (2, 1, 2)
    assert await counts(kefu) == (2, 1, 2)
    second = await run_import(kefu, path)
    assert (second.members_created, second.members_updated, second.purchases_added,
            second.points_added) == (0, 0, 0, 0)
    assert second.unchanged == 5
    assert await counts(kefu) == (2, 1, 2)
    async with kefu.sessions() as session:
        member = await kefu.directory.find(session, "13912345678")
        assert member is not None and member.member_no == "M200001"
        assert kefu.directory.name(member) == "周杰"


async def test_gb18030_exports_are_read(kefu: Kefu, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD, encoding="gb18030")
    report = await run_import(kefu, path)
    assert report.members_created == 2


async def test_a_file_with_errors_imports_nothing_and_names_rows(kefu: Kefu,
                                                                  tmp_path: Path) -> None:
    bad = GOOD + "\n".join([
        "member,X1,,,,,,,,,,,",
        "member,M200003,12345,,,,,,,,,,",
        "member,M200004,,,2099-01-01,,,,,,,,",
        "purchase,M200001,,,,,2026-10-01,-5,,,,,pos-2",
        "points,M200001,,,,,2026-10-01,,,earn,-10,,x",
        "points,M200001,,,,,not a date,,,earn,10,,y",
        "purchase,M200001,,,,,2026-10-01,10,,,,,",
    ]) + "\n"
    path = write(tmp_path, bad)
    rows = importer.read_csv(path)
    _, errors = importer.validate(rows, settings=kefu.settings, today=FIXED_NOW.date())
    assert [e.split(":")[0] for e in errors] == [f"row {n}" for n in range(7, 14)]
    assert "member_no" in errors[0] and "phone" in errors[1] and "future" in errors[2]
    with pytest.raises(ImportValidationError):
        await run_import(kefu, path)
    assert await counts(kefu) == (0, 0, 0)
    report = await run_import(kefu, path, skip_invalid=True)
    assert report.members_created == 2
    assert await counts(kefu) == (2, 1, 2)


async def test_unknown_member_rolls_back_the_whole_file(kefu: Kefu, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "purchase,M999999,,,,,2026-10-01,10,,,,,zz\n")
    with pytest.raises(ImportValidationError, match="1 invalid"):
        await run_import(kefu, path)
    assert await counts(kefu) == (0, 0, 0)


async def test_unknown_columns_and_missing_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(KefuError, match="unknown column"):
        importer.read_csv(write(tmp_path, "record,member_no,shoe_size\n"))
    with pytest.raises(KefuError, match="does not exist"):
        importer.read_csv(tmp_path / "nope.csv")


RULES = """record,member_no,phone,name,birthday,language,occurred_at,amount,store,kind,points,reason,ref
member,M200001,13912345678,周杰,1990-04-01,zh-Hans,,,,,,,
purchase,M200001,,,,,2026-10-01 15:30,1288.00,sh-jingan,,,,pos-1
points,M200001,,,,,2026-10-01 15:30,,,earn,1000,消费积分,pos-1-pts
purchase,M200001,,,,,2026-10-02 11:00,99.99,sh-jingan,,,,pos-2
purchase,M200001,,,,,2026-04-05 11:00,100.00,sh-jingan,,,,pos-0
"""


async def test_a_purchase_without_its_own_points_row_earns_by_the_rules(
    kefu: Kefu, tmp_path: Path
) -> None:
    first = await run_import(kefu, write(tmp_path, RULES))
    # pos-1 keeps the 1,000 points its source gave; pos-2 earns 99.99 × 1 = 99 (rounded down)
    # and pos-0, in April, the birthday month, 100 × 2 = 200
    assert (first.purchases_added, first.points_added) == (3, 3)
    async with kefu.sessions() as session:
        rows = dict((await session.execute(
            select(PointTransaction.external_ref, PointTransaction.points))).all())
    assert rows == {"pos-1-pts": 1000, "purchase:pos-2": 99, "purchase:pos-0": 200}
    again = await run_import(kefu, write(tmp_path, RULES))
    assert (again.purchases_added, again.points_added, again.unchanged) == (0, 0, 5)
    assert await counts(kefu) == (1, 3, 3)


async def test_future_purchases_and_fractions_of_a_fen_are_row_errors(
    kefu: Kefu, tmp_path: Path
) -> None:
    bad = RULES + "purchase,M200001,,,,,2027-01-01 10:00,10.00,,,,,pos-9\n" \
                  "purchase,M200001,,,,,2026-10-01 10:00,10.005,,,,,pos-10\n"
    rows = importer.read_csv(write(tmp_path, bad))
    _, errors = importer.validate(rows, settings=kefu.settings, today=FIXED_NOW.date())
    assert len(errors) == 2
    assert "future" in errors[0] and "decimal places" in errors[1]
