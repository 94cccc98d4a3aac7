"""Tests for nlu.embedded: intents, entities, bad input, thresholds and the model cache."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlu import intents
from nlu.artifact import model_key
from nlu.embedded import EmbeddedNlu
from nlu.features import FeatureConfig
from nlu.protocol import NluBackend
from nlu.types import Parse
from tests.nlu.conftest import DATA_DIR, TODAY


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("我的積分什麼時候過期", intents.POINTS_EXPIRY),
        ("我嘅積分幾多", intents.POINTS_BALANCE),
        ("我的points还有多少", intents.POINTS_BALANCE),
        ("how many points do i have", intents.POINTS_BALANCE),
        ("积分明细发我看看", intents.POINTS_HISTORY),
        ("我想用积分换咖啡券", intents.POINTS_REDEEM),
        ("我现在是什么等级", intents.MEMBER_TIER),
        ("金卡有什么福利", intents.MEMBER_BENEFITS),
        ("还差多少才能升金卡", intents.MEMBER_UPGRADE),
        ("转人工", intents.HUMAN_AGENT),
        ("你是机器人吗", intents.BOT_CHALLENGE),
        ("銅鑼灣店幾點開門", intents.STORE_HOURS),
        ("三里屯店在哪里", intents.STORE_LOCATION),
        ("怎么退货", intents.RETURN_POLICY),
        ("where is my order", intents.ORDER_STATUS),
        ("退订", intents.UNSUBSCRIBE),
        ("删除我的个人信息", intents.PRIVACY_REQUEST),
        ("今天天气怎么样", intents.OUT_OF_SCOPE),
        ("你好", intents.GREET),
        ("谢谢", intents.THANK),
    ],
)
def test_understands_customers(nlu: EmbeddedNlu, text: str, intent: str) -> None:
    assert nlu.parse_sync(text, today=TODAY).intent.name == intent


def test_bind_with_phone_matches_the_contract(nlu: EmbeddedNlu) -> None:
    parse = nlu.parse_sync("绑定13800000001", today=TODAY)
    assert parse.intent.name == intents.BIND_ACCOUNT
    (phone,) = parse.entities
    assert (phone.entity, phone.value, phone.start, phone.end) == (
        "phone", "+8613800000001", 2, 13)
    body = json.loads(json.dumps(parse.to_dict(), ensure_ascii=False))
    assert set(body) == {"text", "intent", "entities", "intent_ranking"}
    assert body["text"] == "绑定13800000001"
    assert body["intent"]["name"] == "bind_account"
    assert body["entities"][0] == {"entity": "phone", "value": "+8613800000001", "start": 2,
                                   "end": 13, "extractor": "kefu.phone"}
    assert body["intent_ranking"][0]["name"] == "bind_account"


def test_ranking_is_sorted_probabilities(nlu: EmbeddedNlu) -> None:
    parse = nlu.parse_sync("积分", today=TODAY)
    confidences = [s.confidence for s in parse.intent_ranking]
    assert confidences == sorted(confidences, reverse=True)
    assert 1 <= len(confidences) <= 10
    assert all(0.0 <= c <= 1.0 for c in confidences)


def test_below_threshold_is_out_of_scope_with_the_ranking_kept(trained_model_dir: Path) -> None:
    strict = EmbeddedNlu(data_dir=DATA_DIR, model_dir=trained_model_dir, threshold=0.999999)
    parse = strict.parse_sync("积分换东西还是看等级", today=TODAY)
    assert parse.intent.name == intents.OUT_OF_SCOPE
    assert parse.intent.confidence == pytest.approx(0.999999)
    assert parse.intent_ranking[0].name != intents.OUT_OF_SCOPE


@pytest.mark.parametrize(
    "text",
    ["", "   ", "😀😀😀", "？？？！！！", "\u200f\u202e\u200e", "\x00\x01\x02\x7f",
     "\ud800\udfff broken", "x" * 10_000, "积分" * 5_000, "\u0627\u0644\u0633\u0644\u0627\u0645",
     "İ" * 50, "\ufeff", "①②③", "\U0001f600" * 3000],
)
def test_bad_input_gives_a_valid_parse(nlu: EmbeddedNlu, text: str) -> None:
    parse = nlu.parse_sync(text, today=TODAY)
    assert parse.text == text
    assert parse.intent.name in intents.ALL_INTENTS
    for entity in parse.entities:
        assert 0 <= entity.start < entity.end <= len(text)
    json.dumps(parse.to_dict())


def test_empty_and_mark_only_texts_are_out_of_scope(nlu: EmbeddedNlu) -> None:
    for text in ("", "\u200f\u202e", "   "):
        assert nlu.parse_sync(text).intent.name == intents.OUT_OF_SCOPE


def test_long_text_is_truncated_before_featurising(nlu: EmbeddedNlu) -> None:
    text = "我的积分还有多少？" * 2_000 + "13800000001"
    parse = nlu.parse_sync(text, today=TODAY)
    assert parse.intent.name == intents.POINTS_BALANCE
    assert parse.entities == ()  # the phone lies beyond max_text_chars


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=300))
def test_fuzz_any_text_parses(nlu: EmbeddedNlu, text: str) -> None:
    parse = nlu.parse_sync(text, today=TODAY)
    assert parse.intent.name in intents.ALL_INTENTS
    assert 0.0 <= parse.intent.confidence <= 1.0
    for entity in parse.entities:
        assert 0 <= entity.start < entity.end <= len(text)


# Mainland mobile numbers on prefixes in use (140–149 are data-only: not a phone to bind).
_MOBILE = st.builds(lambda head, tail: head + tail,
                    st.sampled_from(["130", "135", "138", "139", "150", "158", "166", "177",
                                     "186", "188", "199"]),
                    st.from_regex(r"[0-9]{8}", fullmatch=True))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=st.text(max_size=20), digits=_MOBILE)
def test_fuzz_phone_offsets_point_at_the_number(nlu: EmbeddedNlu, prefix: str,
                                                 digits: str) -> None:
    text = f"{prefix} 绑定 {digits} "
    phones = [e for e in nlu.parse_sync(text, today=TODAY).entities
              if e.entity == "phone" and str(e.value).endswith(digits)]
    # The number stands alone between spaces: it is always found, and its offsets point at it.
    assert phones, text
    for entity in phones:
        assert text[entity.start:entity.end] == digits


async def test_async_parse_and_protocol(nlu: EmbeddedNlu) -> None:
    backend: NluBackend = nlu
    parse = await backend.parse("我的積分什麼時候過期", timezone="Asia/Hong_Kong")
    assert isinstance(parse, Parse)
    assert parse.intent.name == intents.POINTS_EXPIRY


def test_unknown_time_zone_falls_back(nlu: EmbeddedNlu) -> None:
    parse = nlu.parse_sync("明天开门吗", timezone="Mars/Olympus")
    assert parse.first_entity("date") is not None


def test_model_is_trained_on_first_use_and_reused(tmp_path: Path,
                                                  trained_model_dir: Path) -> None:
    model_dir = tmp_path / "models"
    shutil.copytree(trained_model_dir, model_dir)
    fresh = EmbeddedNlu(data_dir=DATA_DIR, model_dir=model_dir)
    key = model_key(DATA_DIR, fresh.config)
    assert fresh.store.path_for(key).is_file()
    assert not fresh.needs_training()
    fresh.load_or_train()  # loads: the copied model matches data + config
    assert fresh.model is not None
    assert fresh.model.meta["examples"] > 1000


def test_stale_model_is_retrained_and_replaced(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "nlu.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n    - hello\n'
        "- intent: goodbye\n  examples: |\n    - bye\n    - see you\n", encoding="utf-8")
    model_dir = tmp_path / "model"
    first = EmbeddedNlu(data_dir=data_dir, model_dir=model_dir, threshold=0.0)
    assert first.parse_sync("hello there").intent.name == "greet"
    old_files = sorted(model_dir.glob("*.npz"))
    with (data_dir / "nlu.yml").open("a", encoding="utf-8") as stream:
        stream.write("- intent: thank\n  examples: |\n    - thanks\n    - thank you\n")
    second = EmbeddedNlu(data_dir=data_dir, model_dir=model_dir, threshold=0.0)
    assert second.parse_sync("thanks a lot").intent.name == "thank"
    new_files = sorted(model_dir.glob("*.npz"))
    assert len(new_files) == 1
    assert new_files != old_files


def test_config_change_changes_the_key() -> None:
    assert model_key(DATA_DIR, FeatureConfig()) != model_key(
        DATA_DIR, FeatureConfig(char_ngram_max=4))


def test_concurrent_first_use_trains_once_and_never_corrupts(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "nlu.yml").write_text(
        'nlu:\n- intent: greet\n  examples: |\n    - hi\n    - hello\n'
        "- intent: goodbye\n  examples: |\n    - bye\n    - later\n", encoding="utf-8")
    model_dir = tmp_path / "model"
    backends = [EmbeddedNlu(data_dir=data_dir, model_dir=model_dir, threshold=0.0)
                for _ in range(4)]
    results: list[str] = []
    threads = [threading.Thread(target=lambda b=b: results.append(
        b.parse_sync("hello").intent.name)) for b in backends]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["greet"] * 4
    assert len(list(model_dir.glob("*.npz"))) == 1
    assert not list(model_dir.glob(".tmp-*"))


def test_damaged_model_file_is_reported(tmp_path: Path, trained_model_dir: Path) -> None:
    from nlu.errors import NluModelError

    model_dir = tmp_path / "model"
    shutil.copytree(trained_model_dir, model_dir)
    (model_file,) = model_dir.glob("*.npz")
    model_file.write_bytes(b"not a model")
    with pytest.raises(NluModelError, match="delete it to retrain"):
        EmbeddedNlu(data_dir=DATA_DIR, model_dir=model_dir).load_or_train()


def test_missing_training_data_is_a_clear_error(tmp_path: Path) -> None:
    from nlu.errors import NluDataError

    backend = EmbeddedNlu(data_dir=tmp_path / "nowhere", model_dir=tmp_path / "model")
    with pytest.raises(NluDataError, match=r"holds no \.yml training data"):
        backend.parse_sync("hi")


async def test_async_parse_loads_the_model_off_the_event_loop(trained_model_dir: Path) -> None:
    fresh = EmbeddedNlu(data_dir=DATA_DIR, model_dir=trained_model_dir)
    assert fresh.model is None
    parse = await fresh.parse("我嘅積分幾多")
    assert parse.intent.name == intents.POINTS_BALANCE
    assert fresh.model is not None
