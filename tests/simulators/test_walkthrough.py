"""`kefu simulate walkthrough` as a newcomer runs it: a process, lines typed on stdin, and
what a WeChat follower would see on their phone printed back, through Kefu's real webhook."""

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

KEFU = ROOT / ".venv" / "bin" / "kefu"

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not KEFU.exists(), reason="needs the .venv of scripts/setup")]


def test_typing_as_the_demo_follower(tmp_path: Path) -> None:
    for name in (".venv", "config.yml", "nlu", "knowledge.yml"):
        (tmp_path / name).symlink_to(ROOT / name)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("KEFU_", "WECHAT_", "TELEGRAM_"))}
    typed = "我有多少积分\n我要投诉\n3\n店员对我大声说话，态度非常差\n"
    result = subprocess.run([str(KEFU), "simulate", "walkthrough"], cwd=tmp_path, env=env,
                            input=typed, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "You are the WeChat follower oKefuDemoGold00000000000001" in out
    assert "kefu> 您当前可用积分：" in out  # the demo gold member, bound by the seed
    # Buttons arrive as a numbered list with what to reply; "3" picked 店员态度 (staff), so
    # the form went on to the description and then the store.
    assert "请回复数字选择：\n      1. 产品质量" in out
    assert "kefu> 请描述一下具体情况" in out
    assert "kefu> 是在哪家门店？" in out and "7. 跳过" in out
    assert "暂时无法提供服务" not in out
