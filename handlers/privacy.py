"""The privacy_request intent: the member's rights explained, an export or erasure requested.

Flow: privacy_request explains and offers two buttons (``/privacy_request export|erase``);
either asks for a confirmation (``/privacy_confirm export|erase`` or ``/privacy_cancel``);
the confirmation records a privacy request that staff complete with `kefu members export`
or `kefu members erase` (identity is checked there, before personal data leaves or goes).
"""

from __future__ import annotations

import re

from bot.core import audit
from bot.core.messages import Button
from bot.dialogue.turn import Turn
from bot.features.privacy import requests

CONFIRM = "privacy_confirm"
CANCEL = "privacy_cancel"
_PENDING = "privacy_pending"
_ERASE_WORDS = re.compile(r"删除|刪除|删掉|注销|註銷|销户|銷戶|忘记我|忘記我|delete|erase|remove|"
                          r"forget", re.IGNORECASE)
_EXPORT_WORDS = re.compile(r"导出|導出|复制|複製|副本|下载|下載|查看|查閱|查阅|export|copy|"
                           r"download", re.IGNORECASE)


def _wanted(turn: Turn) -> str | None:
    argument = turn.argument.strip().lower()
    if argument in requests.KINDS:
        return argument
    if turn.text.startswith("/"):
        return None
    if _ERASE_WORDS.search(turn.text):
        return requests.ERASE
    if _EXPORT_WORDS.search(turn.text):
        return requests.EXPORT
    return None


async def explain_privacy(turn: Turn) -> None:
    """What Kefu holds and the member's rights; goes straight to the confirmation when the
    message already says which request (删除我的数据)."""
    days = turn.settings.privacy.retention_days
    if turn.member is None:
        turn.say(turn.t("privacy.unbound", days=days))
        return
    kind = _wanted(turn)
    if kind is None:
        turn.say(turn.t("privacy.rights", days=days), buttons=(
            Button(turn.t("privacy.button_export"), f"/privacy_request {requests.EXPORT}"),
            Button(turn.t("privacy.button_erase"), f"/privacy_request {requests.ERASE}"),
        ))
        return
    state = turn.state()
    state[_PENDING] = kind
    turn.set_state(state)
    turn.say(turn.t(f"privacy.confirm_{kind}"), buttons=(
        Button(turn.t("forms.yes"), f"/{CONFIRM} {kind}"),
        Button(turn.t("forms.no"), f"/{CANCEL}"),
    ))


async def confirm_privacy_request(turn: Turn) -> None:
    """Records the request, only as the answer to the question just asked: a typed or stale
    ``/privacy_confirm erase`` alone starts nothing."""
    assert turn.member is not None
    kind = turn.argument.strip().lower()
    state = turn.state()
    if kind not in requests.KINDS or state.get(_PENDING) != kind:
        turn.say(turn.t("privacy.not_asked"))
        return
    state.pop(_PENDING)
    turn.set_state(state)
    request = await requests.open_request(turn.session, member_id=turn.member.id, kind=kind,
                                          source=turn.inbound.channel, now=turn.now)
    await audit.record(turn.session, actor=f"member:{turn.member.member_no}",
                       action=audit.PRIVACY_REQUEST, subject=turn.member.member_no,
                       detail={"kind": kind, "request": request.id,
                               "channel": turn.inbound.channel}, now=turn.now)
    turn.say(turn.t(f"privacy.started_{kind}", request=request.id))


async def cancel_privacy_request(turn: Turn) -> None:
    state = turn.state()
    if state.pop(_PENDING, None) is not None:
        turn.set_state(state)
    turn.say(turn.t("privacy.cancelled"))
