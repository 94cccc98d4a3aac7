"""NLU benchmark: held-out and cross-validated scores, latency, throughput, load time, memory.

Usage: python bench/nlu/run.py [--rasa-url URL [--rasa-token T]] [--json OUT.json]
Runs from the repository root; trains into a temporary directory so it measures a fresh model.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# One core, one thread: the latency targets are per core, and BLAS threads would blur them.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from nlu.embedded import EmbeddedNlu  # noqa: E402
from nlu.evaluation import Evaluation, evaluate, example_language  # noqa: E402
from nlu.loader import Example, load_nlu_dir, load_nlu_file  # noqa: E402

DATA_DIR = ROOT / "nlu" / "data"
HELDOUT = ROOT / "nlu" / "heldout" / "test.yml"
LANGUAGES = ("zh-Hans", "zh-Hant", "en")


def pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def scores(result: Evaluation) -> dict[str, Any]:
    return {
        "accuracy": result.accuracy,
        "macro_f1": result.macro_f1,
        "by_language": {lang: {"accuracy": sub.accuracy, "macro_f1": sub.macro_f1,
                               "n": sub.count} for lang, sub in result.by_language.items()},
    }


def heldout_scores(predict: Any, examples: tuple[Example, ...]) -> dict[str, Any]:
    predicted = [predict(e.text) for e in examples]
    return scores(evaluate([e.intent for e in examples], predicted,
                           [example_language(e) for e in examples]))


def calibration_error(nlu: EmbeddedNlu, examples: tuple[Example, ...]) -> float:
    """Expected calibration error of the top intent's confidence (10 equal-width bins)."""
    pairs = []
    for example in examples:
        top = nlu.parse_sync(example.text).intent_ranking[0]
        pairs.append((top.confidence, top.name == example.intent))
    error = 0.0
    for low in (i / 10 for i in range(10)):
        chosen = [(c, ok) for c, ok in pairs if low <= c < low + 0.1 or (low == 0.9 and c == 1)]
        if chosen:
            mean_confidence = sum(c for c, _ in chosen) / len(chosen)
            accuracy = sum(ok for _, ok in chosen) / len(chosen)
            error += len(chosen) / len(pairs) * abs(mean_confidence - accuracy)
    return error


def cross_validation(folds: int = 5) -> dict[str, Any]:
    from sklearn.model_selection import StratifiedKFold

    from nlu.confidence import choose, rank
    from nlu.features import FeatureConfig
    from nlu.lexicon import Lexicon
    from nlu.normalise import classifier_text

    data = load_nlu_dir(DATA_DIR)
    examples = data.examples
    labels = [e.intent for e in examples]
    lexicon = Lexicon(data.lookups)
    predicted = [""] * len(examples)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=13)
    from nlu.training import fit_model

    for train_index, test_index in splitter.split(labels, labels):
        model = fit_model([examples[i].text for i in train_index],
                          [labels[i] for i in train_index], FeatureConfig(), lexicon)
        for i in test_index:
            probabilities = model.probabilities(classifier_text(examples[i].text, max_chars=1000))
            predicted[i] = choose(rank(model.classes, probabilities.tolist()), 0.45).name
    return scores(evaluate(labels, predicted, [example_language(e) for e in examples]))


def latency(nlu: EmbeddedNlu, texts: list[str], rounds: int = 5) -> dict[str, float]:
    for text in texts[:200]:
        nlu.parse_sync(text)  # warm caches
    timings: list[float] = []
    started = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            begin = time.perf_counter_ns()
            nlu.parse_sync(text)
            timings.append((time.perf_counter_ns() - begin) / 1e6)
    elapsed = time.perf_counter() - started
    # The worst case: a 10,000-character message, cut to max_text_chars before featurising.
    longest = "我的积分还有多少，上次在静安店买的 order SO2026111800123 " * 250
    begin = time.perf_counter()
    for _ in range(20):
        nlu.parse_sync(longest)
    long_ms = (time.perf_counter() - begin) / 20 * 1000
    return {"p50_ms": percentile(timings, 0.50), "p99_ms": percentile(timings, 0.99),
            "max_ms": max(timings), "throughput_per_s": len(timings) / elapsed,
            "long_text_ms": long_ms}


def measure_in_subprocess(model_dir: Path) -> dict[str, float]:
    """Import, load and memory in fresh interpreters; the best of three runs, since the first
    may pay for a cold disk cache."""
    worker = Path(__file__).with_name("worker.py")
    runs = [json.loads(subprocess.run([sys.executable, str(worker), str(model_dir)], check=True,
                                      capture_output=True, text=True, cwd=ROOT).stdout)
            for _ in range(3)]
    if any(run["trained"] for run in runs):
        raise RuntimeError("the worker had to train: the model was not found")
    return {key: min(float(run[key]) for run in runs) for key in runs[0] if key != "trained"}


def measure_rasa(url: str, token: str | None, examples: tuple[Example, ...]) -> dict[str, Any]:
    import httpx

    params = {"token": token} if token else {}
    timings: list[float] = []
    predicted: list[str] = []
    with httpx.Client(timeout=30.0) as client:
        client.post(url.rstrip("/") + "/model/parse", json={"text": "hi"}, params=params)
        started = time.perf_counter()
        for example in examples:
            begin = time.perf_counter_ns()
            response = client.post(url.rstrip("/") + "/model/parse",
                                   json={"text": example.text}, params=params)
            timings.append((time.perf_counter_ns() - begin) / 1e6)
            response.raise_for_status()
            name = response.json()["intent"]["name"]
            predicted.append("out_of_scope" if name == "nlu_fallback" else name)
        elapsed = time.perf_counter() - started
    result = scores(evaluate([e.intent for e in examples], predicted,
                             [example_language(e) for e in examples]))
    result.update(p50_ms=percentile(timings, 0.5), p99_ms=percentile(timings, 0.99),
                  throughput_per_s=len(timings) / elapsed)
    return result


def table(results: dict[str, Any]) -> str:
    held, cv, speed, proc = (results["heldout"], results["cross_validation"], results["latency"],
                             results["process"])
    rows = [("held-out accuracy", f"{held['accuracy']:.3f}", ""),
            ("held-out macro-F1", f"{held['macro_f1']:.3f}", "≥ 0.92")]
    rows += [(f"held-out macro-F1 {lang}", f"{held['by_language'][lang]['macro_f1']:.3f}",
              "within 3 points") for lang in LANGUAGES]
    rows += [("held-out calibration error (ECE, top intent)",
              f"{results['calibration_error']:.3f}", "")]
    rows += [("5-fold CV accuracy (training data)", f"{cv['accuracy']:.3f}", ""),
             ("5-fold CV macro-F1 (training data)", f"{cv['macro_f1']:.3f}", "")]
    rows += [(f"5-fold CV macro-F1 {lang}", f"{cv['by_language'][lang]['macro_f1']:.3f}", "")
             for lang in LANGUAGES]
    rows += [("single parse p50 (1 core)", f"{speed['p50_ms']:.3f} ms", ""),
             ("single parse p99 (1 core)", f"{speed['p99_ms']:.3f} ms", "≤ 2 ms"),
             ("parse of a 10,000-character text (cut to 1,000)", f"{speed['long_text_ms']:.1f} ms",
              ""),
             ("throughput (1 core, sequential)", f"{speed['throughput_per_s']:,.0f} parses/s", ""),
             ("model load (model file → ready)", f"{proc['load_s']:.3f} s", "≤ 0.5 s"),
             ("import of nlu.embedded (numpy, OpenCC, …)", f"{proc['import_s']:.3f} s", ""),
             ("first parse after load", f"{proc['first_parse_s'] * 1000:.1f} ms", ""),
             ("peak RSS (load + parse held-out)", f"{proc['peak_rss_mb']:.0f} MB", "≤ 150 MB"),
             ("training time", f"{results['training_s']:.1f} s", "")]
    lines = ["| measure | Kefu embedded | target |", "|---|---|---|"]
    lines += [f"| {name} | {value} | {target} |" for name, value, target in rows]
    if "rasa" in results:
        rasa = results["rasa"]
        lines += ["", "| measure | Rasa | Kefu | Rasa / Kefu |", "|---|---|---|---|"]
        for key, label in (("macro_f1", "held-out macro-F1"), ("accuracy", "held-out accuracy")):
            lines.append(f"| {label} | {rasa[key]:.3f} | {held[key]:.3f} | "
                         f"{rasa[key] / held[key]:.2f} |")
        for lang in LANGUAGES:
            ours, theirs = (held["by_language"][lang]["macro_f1"],
                            rasa["by_language"][lang]["macro_f1"])
            lines.append(f"| held-out macro-F1 {lang} | {theirs:.3f} | {ours:.3f} | "
                         f"{theirs / ours:.2f} |")
        for key, label in (("p50_ms", "parse p50 (ms)"), ("p99_ms", "parse p99 (ms)"),
                           ("throughput_per_s", "throughput (/s)")):
            lines.append(f"| {label} | {rasa[key]:.2f} | {speed[key]:.2f} | "
                         f"{rasa[key] / speed[key]:.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rasa-url", help="also measure this Rasa server (rasa run --enable-api)")
    parser.add_argument("--rasa-token", help="Rasa's --auth-token, if it has one")
    parser.add_argument("--json", type=Path, help="write the raw results here")
    args = parser.parse_args()
    pin_one_core()
    examples = load_nlu_file(HELDOUT).examples
    with tempfile.TemporaryDirectory(prefix="kefu-nlu-bench-") as scratch:
        nlu = EmbeddedNlu(data_dir=DATA_DIR, model_dir=Path(scratch))
        started = time.perf_counter()
        nlu.train()
        results: dict[str, Any] = {"training_s": time.perf_counter() - started}
        results["heldout"] = heldout_scores(lambda text: nlu.parse_sync(text).intent.name,
                                            examples)
        results["calibration_error"] = calibration_error(nlu, examples)
        results["latency"] = latency(nlu, [e.text for e in examples])
        results["process"] = measure_in_subprocess(Path(scratch))
    results["cross_validation"] = cross_validation()
    if args.rasa_url:
        results["rasa"] = measure_rasa(args.rasa_url, args.rasa_token, examples)
    print(table(results))
    print(f"\n(latencies: {len(examples)} held-out texts × 5 rounds, "
          f"{statistics.mean([len(e.text) for e in examples]):.0f} characters on average)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
