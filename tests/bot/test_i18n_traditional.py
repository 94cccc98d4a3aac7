"""Traditional script from a short-lived converter process: phrase-accurate (髮 and 發, 麵 and
面), without OpenCC's phrase dictionary in the server's memory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.core import i18n

ROOT = Path(__file__).resolve().parents[2]


def test_phrases_choose_the_right_characters() -> None:
    assert i18n.to_traditional_many(["头发", "发票", "面条", "为什么"]) == \
        ["頭髮", "發票", "麵條", "為什麼"]


def test_the_phrase_dictionary_stays_out_of_the_process() -> None:
    # A fresh interpreter: the locale in both scripts, a conversion, a language guess. With
    # OpenCC's phrase dictionary loaded in-process this grew by about 45 MB.
    script = (
        "import os\n"
        "def rss():\n"
        "    with open(f'/proc/{os.getpid()}/status') as status:\n"
        "        return next(int(l.split()[1]) for l in status if l.startswith('VmRSS'))\n"
        "from bot.core import i18n\n"
        "before = rss()\n"
        "i18n.translator(); i18n.to_traditional('积分明细')\n"
        "assert i18n.detect_language('我有多少积分', prefer='zh-Hant') == 'zh-Hans'\n"
        "print((rss() - before) // 1024)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=True)
    assert int(done.stdout.split()[-1]) < 15, done.stdout


def test_a_zh_hant_customer_writing_shared_characters_stays_in_zh_hant() -> None:
    assert i18n.detect_language("不要", prefer="zh-Hant") == "zh-Hant"
    assert i18n.detect_language("我有多少积分", prefer="zh-Hant") == "zh-Hans"
