"""The traffic benchmarks move: agent exchanges as a sharer streams them."""

from __future__ import annotations

from protocol import AgentExchange, OrderedTerminalEvent, encode


def exchange_events(count: int, task_id: str = "t-1") -> list[OrderedTerminalEvent]:
    """`count` exchanges of one agent, numbered from 0 like a share's events."""
    return [
        OrderedTerminalEvent(
            number, AgentExchange(task_id, number, f"exchange {number}").to_event()
        )
        for number in range(count)
    ]


def exchange_frames(count: int) -> list[str]:
    """The same events as the text frames that cross the wire."""
    return [encode(event) for event in exchange_events(count)]
