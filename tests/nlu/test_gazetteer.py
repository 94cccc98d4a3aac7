"""Tests for nlu.gazetteer and nlu.entities.extract (overlaps, synonyms)."""

from __future__ import annotations

from pathlib import Path

from nlu.embedded import EmbeddedNlu
from nlu.entities.extract import SynonymMap, extract_entities
from nlu.gazetteer import Gazetteer
from nlu.loader import load_nlu_dir
from nlu.normalise import align_normalise
from tests.nlu.conftest import DATA_DIR, TODAY, config_gazetteer


def places(gazetteer: Gazetteer, text: str) -> list[tuple[str, str | int, str]]:
    return [(e.entity, e.value, text[e.start:e.end])
            for e in gazetteer.find(align_normalise(text))]


def test_aliases_in_any_script_and_case_find_the_canonical_name() -> None:
    gazetteer = config_gazetteer()
    assert places(gazetteer, "銅鑼灣店幾點開門") == [("store", "hk-causeway", "銅鑼灣店")]
    assert places(gazetteer, "any shop in HONG KONG?") == [("city", "香港", "HONG KONG")]
    assert places(gazetteer, "where is the jing'an store") == [
        ("store", "sh-jingan", "jing'an store")]


def test_longest_alias_wins() -> None:
    assert places(config_gazetteer(), "上海静安嘉里店在哪") == [
        ("store", "sh-jingan", "上海静安嘉里店")]


def test_short_and_embedded_aliases_do_not_misfire() -> None:
    gazetteer = config_gazetteer()
    assert places(gazetteer, "南京西路怎么走") == []  # 京 is an alias of 北京
    assert places(gazetteer, "京") == [("city", "北京", "京")]
    assert places(gazetteer, "thanks, hkg") == []


def test_from_lookup_tables_uses_synonyms_as_canonical_names() -> None:
    gazetteer = Gazetteer.from_lookup_tables(
        {"city": ["上海", "Shanghai"], "store": ["静安店", "静安嘉里"]},
        {"sh-jingan": ["静安店", "静安嘉里"], "上海": ["Shanghai"]},
    )
    assert gazetteer.canonical("Shanghai") == ("city", "上海")
    assert gazetteer.canonical("静安嘉里") == ("store", "sh-jingan")
    assert gazetteer.canonical("杭州") is None


def test_extract_keeps_ids_over_the_digits_inside_them() -> None:
    text = "订单20261120153000123和投诉C-20261123-0001，电话13800000001"
    found = extract_entities(align_normalise(text), today=TODAY)
    assert [(e.entity, e.value) for e in found] == [
        ("order_id", "20261120153000123"),
        ("case_id", "C-20261123-0001"),
        ("phone", "+8613800000001"),
    ]


def test_extract_everything_with_original_offsets() -> None:
    text = "下周五去三里屯店用５００积分，我是金卡"
    found = extract_entities(align_normalise(text), today=TODAY, gazetteer=config_gazetteer())
    assert [(e.entity, e.value, text[e.start:e.end]) for e in found] == [
        ("date", "2026-12-04", "下周五"),
        ("store", "bj-sanlitun", "三里屯店"),
        ("points", 500, "５００积分"),
        ("tier", "gold", "金卡"),
    ]


def test_synonym_map_rewrites_values() -> None:
    text = "我是VIP金卡"
    synonyms = SynonymMap({"diamond": ("vip金卡",)})
    normalised = align_normalise(text)
    (tier,) = extract_entities(normalised, today=TODAY)
    assert synonyms.apply(tier, normalised).value == "gold"  # only the exact text maps
    mapped = SynonymMap({"diamond": ("金卡",)}).apply(tier, normalised)
    assert mapped.value == "diamond"


def test_every_annotated_training_entity_is_found_where_it_was_marked(
    trained_model_dir: Path,
) -> None:
    # Without a gazetteer of its own the backend uses the data's lookup tables and synonyms.
    nlu = EmbeddedNlu(data_dir=DATA_DIR, model_dir=trained_model_dir)
    missed = []
    for example in load_nlu_dir(DATA_DIR).examples:
        if not example.entities:
            continue
        found = {(e.entity, e.start, e.end) for e in nlu.extract_entities(example.text,
                                                                          today=TODAY)}
        missed += [f"{example.source} {a.entity}={a.text!r}" for a in example.entities
                   if (a.entity, a.start, a.end) not in found]
    assert missed == []
