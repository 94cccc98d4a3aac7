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


def walk(tmp_path: Path, *args: str, typed: str) -> subprocess.CompletedProcess[str]:
    for name in (".venv", "config.yml", "nlu", "knowledge.yml"):
        (tmp_path / name).symlink_to(ROOT / name)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("KEFU_", "WECHAT_", "TELEGRAM_"))}
    return subprocess.run([str(KEFU), "simulate", "walkthrough", *args], cwd=tmp_path, env=env,
                          input=typed, capture_output=True, text=True, timeout=240)


def test_typing_as_the_demo_follower(tmp_path: Path) -> None:
    typed = "我有多少积分\n我要投诉\n3\n店员对我大声说话，态度非常差\n"
    result = walk(tmp_path, typed=typed)
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


def test_typing_as_a_telegram_user_who_shares_their_contact(tmp_path: Path) -> None:
    result = walk(tmp_path, "telegram", typed="我有多少积分\n/share\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "You are the Telegram user 10001" in out
    assert "kefu> 查询“积分余额”需要先绑定您的会员账号" in out
    # /share sent the user's own contact: bound at once, then the question is answered.
    assert "kefu> 绑定成功！" in out and "kefu> 您当前可用积分：" in out
