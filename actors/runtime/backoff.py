"""The client's retry schedule: wait 1 s, then 1.2 times longer each try, 18 tries.

That adds up to about two minutes before a client gives up, as the real
client's reconnect loop does. Sharers, viewers and task calls all use it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator

import trio

FIRST_DELAY_S = 1.0
GROWTH = 1.2
ATTEMPTS = 18


def delays(
    first: float = FIRST_DELAY_S, growth: float = GROWTH, attempts: int = ATTEMPTS
) -> Iterator[float]:
    """The wait before each try, in order."""
    delay = first
    for _ in range(attempts):
        yield delay
        delay *= growth


async def retry(attempt: Callable[[], Awaitable[bool]], *, wanted: Callable[[], bool]) -> bool:
    """Wait, then try, until `attempt` succeeds, `wanted()` turns false, or the tries run out."""
    for delay in delays():
        await trio.sleep(delay)
        if not wanted():
            return False
        if await attempt():
            return True
    return False
