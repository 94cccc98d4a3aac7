"""`kefu simulate telegram|wechat`: run a platform simulator in the foreground."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

# Only the option defaults at import time: the simulators, the web server and Kefu itself
# load when a command runs, so that `kefu simulate --help` starts fast.
from kefu_sim.defaults import DEFAULT_APPID, DEFAULT_SECRET, DEFAULT_TOKEN, DEMO_FOLLOWER

if TYPE_CHECKING:
    from kefu_sim.wechat_push import PushMode

app = typer.Typer(help="Run a local Telegram or WeChat platform simulator.", no_args_is_help=True)

Host = Annotated[str, typer.Option(help="Interface to listen on.")]


def _serve(server_app: Any, host: str, port: int) -> None:
    # A separate function so tests can replace it and inspect the simulator instead.
    import uvicorn

    uvicorn.run(server_app, host=host, port=port, log_level="info")


@app.command()
def telegram(
    host: Host = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8081,
    token: Annotated[str, typer.Option(help="Bot token the simulator accepts.")] = DEFAULT_TOKEN,
    global_limit: Annotated[
        int | None, typer.Option(help="Messages per second over all chats (Telegram: ~30).")
    ] = None,
    per_chat_limit: Annotated[int | None, typer.Option(help="Messages per chat window.")] = None,
    per_chat_window: Annotated[float, typer.Option(help="Per-chat window, seconds.")] = 1.0,
    fail_429: Annotated[int, typer.Option(help="Answer the next N calls with 429.")] = 0,
    retry_after: Annotated[int, typer.Option(help="retry_after of injected 429s.")] = 5,
    fail_5xx: Annotated[int, typer.Option(help="Answer the next N calls with 502.")] = 0,
    fail_method: Annotated[
        str, typer.Option(help="Bot API method the injected failures apply to.")
    ] = "sendMessage",
    block_chat: Annotated[
        list[int] | None, typer.Option(help="Chat id that blocked the bot (repeatable).")
    ] = None,
    strict_chats: Annotated[
        bool, typer.Option(help="'chat not found' for chats that never wrote.")
    ] = False,
    response_delay: Annotated[
        float, typer.Option(help="Seconds sendMessage takes to answer (a slow platform).")
    ] = 0.0,
) -> None:
    """Serve the Bot API at http://HOST:PORT/bot<TOKEN>/<method>."""
    from kefu_sim.telegram import TelegramSimConfig, TelegramSimulator

    sim = TelegramSimulator(
        TelegramSimConfig(
            token=token,
            global_limit=global_limit,
            per_chat_limit=per_chat_limit,
            per_chat_window=per_chat_window,
            strict_chats=strict_chats,
            response_delay=response_delay,
        )
    )
    if fail_429:
        sim.fail_next(fail_429, status=429, retry_after=retry_after, methods=[fail_method])
    if fail_5xx:
        sim.fail_next(fail_5xx, status=502, methods=[fail_method])
    for chat_id in block_chat or []:
        sim.block_chat(chat_id)
    base = f"http://{host}:{port}"
    typer.echo(f"Telegram simulator: TELEGRAM_API_BASE_URL={base}/bot  token={token}")
    typer.echo(f"Inject: POST {base}/_sim/updates {{'text': 'hi', 'user_id': 42}}")
    typer.echo(f"Sent messages: GET {base}/_sim/sent")
    _serve(sim.app, host, port)


@app.command()
def wechat(
    host: Host = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8082,
    appid: Annotated[str, typer.Option(help="Official Account appid.")] = DEFAULT_APPID,
    secret: Annotated[str, typer.Option(help="AppSecret.")] = DEFAULT_SECRET,
    token_overlap: Annotated[
        float, typer.Option(help="Seconds an old access_token stays valid.")
    ] = 300.0,
    fail_errcode: Annotated[
        int | None, typer.Option(help="errcode for the next --fail-count calls.")
    ] = None,
    fail_count: Annotated[int, typer.Option(help="How many calls get --fail-errcode.")] = 1,
    fail_5xx: Annotated[int, typer.Option(help="Answer the next N calls with HTTP 503.")] = 0,
    fail_endpoint: Annotated[
        str, typer.Option(help="Endpoint below /cgi-bin/ the injected failures apply to.")
    ] = "message/custom/send",
    webhook_url: Annotated[
        str | None, typer.Option(help="Kefu's WeChat webhook, for POST /_sim/push.")
    ] = None,
    push_token: Annotated[str, typer.Option(help="Token the webhook checks.")] = "kefu",  # noqa: S107
    aes_key: Annotated[str | None, typer.Option(help="EncodingAESKey (43 chars).")] = None,
    mode: Annotated[str, typer.Option(help="Push mode: plain, compat or safe.")] = "plain",
    push_timeout: Annotated[float, typer.Option(help="Seconds before a retry.")] = 5.0,
    response_delay: Annotated[
        float, typer.Option(help="Seconds a customer-service send takes to answer.")
    ] = 0.0,
) -> None:
    """Serve the WeChat API at http://HOST:PORT/cgi-bin/ and push to --webhook-url."""
    from kefu_sim.wechat import WeChatSimConfig, WeChatSimulator

    if mode not in ("plain", "compat", "safe"):
        raise typer.BadParameter(f"--mode must be plain, compat or safe, got {mode!r}")
    push_mode = cast("PushMode", mode)
    if push_mode != "plain" and not aes_key:
        raise typer.BadParameter(f"--mode {mode} needs --aes-key")
    sim = WeChatSimulator(WeChatSimConfig(appid=appid, secret=secret, token_overlap=token_overlap,
                                          response_delay=response_delay))
    if fail_errcode is not None:
        sim.fail_next(fail_count, errcode=fail_errcode, endpoints=[fail_endpoint])
    if fail_5xx:
        sim.fail_next(fail_5xx, http_status=503, endpoints=[fail_endpoint])
    if webhook_url:
        sim.push_defaults = {
            "url": webhook_url,
            "token": push_token,
            "encoding_aes_key": aes_key,
            "mode": push_mode,
            "timeout": push_timeout,
        }
    base = f"http://{host}:{port}"
    typer.echo(f"WeChat simulator: WECHAT_API_BASE_URL={base}/cgi-bin/  appid={appid}")
    typer.echo(f"Push: POST {base}/_sim/push {{'openid': 'o...', 'text': '积分'}}")
    typer.echo(f"Sent messages: GET {base}/_sim/sent")
    _serve(sim.app, host, port)


@app.command()
def walkthrough(
    platform: Annotated[str, typer.Argument(metavar="wechat|telegram",
                                            help="Whose app you type in")] = "wechat",
    follower: Annotated[str, typer.Option(
        metavar="OPENID", help="Who you are: the demo seed binds oKefuDemoSilver000000000001, "
                               "oKefuDemoGold00000000000001 and oKefuDemoDiamond00000000001; "
                               "any other openid is a new follower")] = DEMO_FOLLOWER,
) -> None:
    """Chat as a WeChat follower or a Telegram user: Kefu with demo data behind its real
    webhook, the platform's simulator in front; you see what the customer's app would show.
    On Telegram a number presses a button and /share shares your contact.

    Needs no WeChat settings. Without a terminal, reads one message per line.
    """
    from bot.cli.common import run_async, settings_or_exit
    from kefu_sim.walkthrough import telegram_walkthrough, wechat_walkthrough

    settings = settings_or_exit()
    interactive = sys.stdin.isatty()

    def read_line() -> str | None:
        if interactive:
            try:
                return input("you> ")
            except EOFError:
                return None
        line = sys.stdin.readline()
        return line.rstrip("\n") if line else None

    if platform == "telegram":
        run_async(lambda: telegram_walkthrough(settings, user_id=10001, read_line=read_line,
                                               echo=typer.echo))
    elif platform == "wechat":
        run_async(lambda: wechat_walkthrough(settings, follower=follower, read_line=read_line,
                                             echo=typer.echo))
    else:
        raise typer.BadParameter("choose wechat or telegram", param_hint="PLATFORM")
