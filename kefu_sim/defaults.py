"""The simulated accounts' default values, importable without loading a simulator (they are
the option defaults of `kefu simulate`, whose --help must start fast)."""

DEFAULT_BOT_ID = 123456789
DEFAULT_TOKEN = f"{DEFAULT_BOT_ID}:SIMULATOR-token"
DEFAULT_APPID = "wx5f1e0d2c3b4a6978"
DEFAULT_SECRET = "0123456789abcdef0123456789abcdef"  # noqa: S105 - a fake default
DEMO_FOLLOWER = "oKefuDemoGold00000000000001"  # bound to the demo gold member by the seed
