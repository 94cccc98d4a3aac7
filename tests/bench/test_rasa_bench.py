"""The pure parts of bench/rasa (no Rasa needed): the Rasa project generated from Kefu's
intents, the held-out scores, the load client and its summary, the comparison table."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import socket
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from nlu.intents import ALL_INTENTS

BENCH = Path(__file__).resolve().parents[2] / "bench" / "rasa"


def load(name: str) -> ModuleType:
    """A bench module by file, under a name of its own (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"bench_rasa_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


project = load("project")
scores = load("scores")
client = load("client")
report = load("report")


def test_domain_has_one_response_per_intent_and_entities_that_steer_nothing() -> None:
    domain = project.build_domain(["greet", "out_of_scope"], ["phone", "city", "phone"])
    assert domain == {
        "version": "3.1",
        "intents": ["greet", "out_of_scope"],
        "entities": [{"city": {"influence_conversation": False}},
                     {"phone": {"influence_conversation": False}}],
        "responses": {"utter_greet": [{"text": "[greet]"}],
                      "utter_out_of_scope": [{"text": "[out_of_scope]"}]},
        "session_config": {"session_expiration_time": 60,
                           "carry_over_slots_to_new_session": False},
    }


def test_rules_answer_each_intent_and_send_nlu_fallback_to_out_of_scope() -> None:
    rules = project.build_rules(["greet", "out_of_scope"])
    assert rules == {"version": "3.1", "rules": [
        {"rule": "answer greet", "steps": [{"intent": "greet"}, {"action": "utter_greet"}]},
        {"rule": "answer out_of_scope",
         "steps": [{"intent": "out_of_scope"}, {"action": "utter_out_of_scope"}]},
        {"rule": "answer nlu_fallback",
         "steps": [{"intent": "nlu_fallback"}, {"action": "utter_out_of_scope"}]},
    ]}


def test_config_keeps_the_nlu_pipeline_and_adds_only_the_rule_policy() -> None:
    nlu_config = {"language": "zh", "pipeline": [{"name": "JiebaTokenizer"}]}
    assert project.build_config(nlu_config) == {
        "language": "zh", "pipeline": [{"name": "JiebaTokenizer"}],
        "policies": [{"name": "RulePolicy"}]}
    assert "policies" not in nlu_config  # the caller's mapping is left alone


def test_the_project_for_kefus_data_covers_every_intent() -> None:
    generated = project.kefu_project()
    domain = yaml.safe_load(generated.files["domain.yml"])
    rules = yaml.safe_load(generated.files["data/rules.yml"])["rules"]
    config = yaml.safe_load(generated.files["config.yml"])
    assert set(domain["intents"]) == set(ALL_INTENTS)
    assert set(domain["responses"]) == {f"utter_{i}" for i in ALL_INTENTS}
    answered = {rule["steps"][0]["intent"]: rule["steps"][1]["action"] for rule in rules}
    assert answered == {**{i: f"utter_{i}" for i in ALL_INTENTS},
                        "nlu_fallback": "utter_out_of_scope"}
    assert config["pipeline"] == yaml.safe_load(
        project.NLU_CONFIG.read_text(encoding="utf-8"))["pipeline"]
    assert config["policies"] == [{"name": "RulePolicy"}]
    data_files = sorted(p.name for p in project.NLU_DATA.glob("*.yml"))
    assert sorted(n.removeprefix("data/nlu/") for n in generated.files
                  if n.startswith("data/nlu/")) == data_files
    assert yaml.safe_load(generated.files["credentials.yml"]) == {"rest": None}


def test_the_model_name_follows_the_content(tmp_path: Path) -> None:
    def build(example: str) -> object:
        return project.build_project(["greet"], [], {"language": "zh"},
                                     {"a.yml": f"nlu:\n- intent: greet\n  examples: |\n    - {example}\n"})

    first, same, changed = build("你好"), build("你好"), build("您好")
    assert first.digest == same.digest
    assert first.digest != changed.digest
    folder = project.write_project(first, tmp_path)
    assert folder == tmp_path / f"project-{first.digest}"
    assert (folder / "data" / "nlu" / "a.yml").read_text(encoding="utf-8") == \
        first.files["data/nlu/a.yml"]
    assert yaml.safe_load((folder / "domain.yml").read_text(encoding="utf-8"))["intents"] == \
        ["greet"]


def test_scores_on_a_tiny_input_match_the_hand_computed_ones() -> None:
    # a: precision 1, recall 1/2, F1 2/3; b: precision 2/3, recall 1, F1 4/5.
    gold = ["a", "a", "b", "b"]
    predicted = ["a", "b", "b", "b"]
    languages = ["en", "en", "zh-Hans", "zh-Hans"]
    result = scores.intent_scores(gold, predicted, languages)
    assert result["n"] == 4
    assert result["accuracy"] == pytest.approx(0.75)
    assert result["macro_f1"] == pytest.approx((2 / 3 + 4 / 5) / 2)
    # en: a predicted once and right, b predicted once with no gold b (F1 0).
    assert result["by_language"]["en"] == {"n": 2, "accuracy": pytest.approx(0.5),
                                           "macro_f1": pytest.approx(1 / 3)}
    assert result["by_language"]["zh-Hans"] == {"n": 2, "accuracy": 1.0, "macro_f1": 1.0}


@pytest.mark.parametrize(("body", "intent"), [
    (b'{"text": "x", "intent": {"name": "greet", "confidence": 0.9}}', "greet"),
    (b'{"intent": {"name": "nlu_fallback", "confidence": 0.45}}', "out_of_scope"),
    (b'{"intent": {"name": null}}', ""),
    (b'{"text": "x"}', ""),
    (b"not json", ""),
    (b"[]", ""),
], ids=["rasa-shape", "fallback", "null-name", "no-intent", "not-json", "a-list"])
def test_the_predicted_intent_is_read_from_rasa_shaped_answers(body: bytes, intent: str) -> None:
    assert scores.predicted_intent(body) == intent


def test_the_summary_counts_only_200_answers() -> None:
    answers = tuple(client.Answer(status, b"", ms) for status, ms in
                    [(200, 30.0), (200, 10.0), (500, 1.0), (0, 99.0), (200, 20.0)])
    summary = client.summarise(client.Load(answers, seconds=2.0))
    assert summary == {"requests": 5.0, "req_per_s": 1.5, "p50_ms": 20.0, "p99_ms": 30.0,
                       "errors": 2.0}


def test_the_table_gives_rasa_over_kefu() -> None:
    def figures(scale: float) -> dict[str, object]:
        timing = {"req_per_s": 100.0 / scale, "p50_ms": 2.0 * scale, "p99_ms": 8.0 * scale,
                  "errors": 0.0}
        return {"heldout": {"accuracy": 0.9, "macro_f1": 0.8,
                            "by_language": {"en": {"n": 3, "accuracy": 1.0, "macro_f1": 1.0}}},
                "parse_1": timing, "parse_16": timing, "webhook_1": timing,
                "webhook_16": timing, "train_s": 2.0 * scale, "startup_s": 1.0,
                "memory": {"rss_mb": 100.0, "peak_mb": 120.0}}

    lines = report.table(figures(1.0), figures(4.0)).splitlines()
    assert lines[0] == "| measure | Kefu | Rasa 3.6 | Rasa ÷ Kefu |"
    assert "| held-out accuracy, en (3) | 1.000 | 1.000 | 1.00× |" in lines
    assert "| /model/parse, 1 connection: p50 | 2.0 ms | 8.0 ms | 4.00× |" in lines
    assert "| REST webhook, 16 connections: req/s | 100.0 | 25.0 | 0.25× |" in lines
    assert "| REST webhook, 1 connection: errors | 0 | 0 | – |" in lines
    assert "| training | 2.0 s | 8.0 s | 4.00× |" in lines


async def _server(handler: object) -> tuple[asyncio.Server, int]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)  # type: ignore[arg-type]
    return server, server.sockets[0].getsockname()[1]


async def test_the_client_reads_sized_and_chunked_answers_on_one_connection() -> None:
    connections = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))
            text = json.loads(await reader.readexactly(length))["text"].encode()
            if text == b"chunked":
                writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                             b"3\r\nchu\r\n4\r\nnked\r\n0\r\n\r\n")
            else:
                writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: %d\r\n\r\n%s"
                             % (len(text), text))
            await writer.drain()
        writer.close()

    server, port = await _server(handle)
    async with server:
        requests = [("/p", json.dumps({"text": t}).encode()) for t in ("sized", "chunked", "x")]
        result = await client.run_load("127.0.0.1", port, requests, connections=1)
    assert [(a.status, a.body) for a in result.answers] == [
        (201, b"sized"), (200, b"chunked"), (201, b"x")]
    assert connections == 1  # kept alive
    assert client.summarise(result)["errors"] == 2.0  # 201 is not the 200 asked for


async def test_a_refused_connection_is_an_error_not_a_crash() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connections are refused
        result = await client.run_load("127.0.0.1", port, [("/p", b"{}")] * 3, connections=2)
    assert [a.status for a in result.answers] == [0, 0, 0]
    assert client.summarise(result)["errors"] == 3.0
