import asyncio

from bot.outbox.ratelimit import SlidingWindow, pacer


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


async def test_pacer_spaces_permits_evenly() -> None:
    bucket = pacer(50)
    loop = asyncio.get_running_loop()
    times = []
    for _ in range(6):
        await bucket.acquire()
        times.append(loop.time())
    # A leaky bucket holds the rate on average: a wake-up delayed by a busy machine lets the
    # next permit follow sooner, never more than the rate over the whole run.
    assert times[-1] - times[0] >= 5 * 0.02 - 1e-3


async def test_pacer_allows_no_burst_after_an_idle_spell() -> None:
    bucket = pacer(20)
    loop = asyncio.get_running_loop()
    await bucket.acquire()
    await asyncio.sleep(0.3)  # idle: a bucket with room for more would now let a burst out
    started = loop.time()
    for _ in range(3):
        await bucket.acquire()
    assert loop.time() - started >= 2 * 0.05 - 1e-3
