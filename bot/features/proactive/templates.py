"""WeChat template messages for proactive sends outside the 48-hour window."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.features.proactive.compose import fill
from bot.features.proactive.settings import ProactiveSettings

WECHAT = "wechat"


def wechat_extra(settings: ProactiveSettings, *, channel: str, purpose: str, text: str,
                 name: str, day: date) -> dict[str, Any] | None:
    """The outbox payload's ``template`` for a WeChat message of ``purpose``, if configured:
    the dispatcher sends it when the customer-service window is closed."""
    template = settings.wechat_templates.get(purpose)
    if channel != WECHAT or template is None:
        return None
    values = {"text": text, "name": name, "date": day.isoformat()}
    return {"template": {"template_id": template.template_id,
                         "data": {key: {"value": fill(value, values)}
                                  for key, value in template.fields.items()}}}
