"""Run by run.py in a fresh interpreter: import and load time, then peak memory after parsing.

Usage: python bench/nlu/worker.py MODEL_DIR
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def peak_rss_mb() -> float:
    # VmHWM belongs to this program's address space only; getrusage's ru_maxrss would also
    # count the parent's memory at fork time, before exec.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    sys.path.insert(0, str(ROOT))
    started = time.perf_counter()
    from nlu.embedded import EmbeddedNlu
    from nlu.loader import load_nlu_file

    imported = time.perf_counter()
    nlu = EmbeddedNlu(data_dir=ROOT / "nlu" / "data", model_dir=Path(sys.argv[1]))
    nlu.load_or_train()
    loaded = time.perf_counter()
    nlu.parse_sync("我的積分什麼時候過期")
    first = time.perf_counter()
    trained = "sklearn" in sys.modules  # a load that had to train would not be a load
    for example in load_nlu_file(ROOT / "nlu" / "heldout" / "test.yml").examples:
        nlu.parse_sync(example.text)
    print(json.dumps({"import_s": imported - started, "load_s": loaded - imported,
                      "first_parse_s": first - loaded, "peak_rss_mb": peak_rss_mb(),
                      "trained": trained}))


if __name__ == "__main__":
    main()
