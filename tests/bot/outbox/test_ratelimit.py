import asyncio

from bot.outbox.ratelimit import SlidingWindow, TokenBucket


async def test_sliding_window_caps_permits_in_any_window() -> None:
    window = SlidingWindow(3, 0.2)
    loop = asyncio.get_running_loop()
    times = []
    for _ in range(7):
        await window.acquire()
        times.append(loop.time())
    for i in range(3, len(times)):
        # the 4th permit comes no earlier than the window after the 1st, and so on
        assert times[i] - times[i - 3] >= 0.2 - 1e-3


async def test_token_bucket_spaces_permits_evenly() -> None:
    bucket = TokenBucket(50)
    loop = asyncio.get_running_loop()
    times = []
    for _ in range(6):
        await bucket.acquire()
        times.append(loop.time())
    # A token bucket holds the rate on average: a wake-up delayed by a busy machine lets the
    # next permit follow sooner, never more than the rate over the whole run.
    assert times[-1] - times[0] >= 5 * 0.02 - 1e-3
