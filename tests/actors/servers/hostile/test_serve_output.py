"""What `sharesim serve` writes while attacked: short log lines, and a trace that is streamed."""

from __future__ import annotations

import json
import re
from contextlib import ExitStack
from pathlib import Path

from protocol import Channel, ListRuns, RunsListed

from .outside import exchange, in_thread, open_client, send_events, share
from .served import serve

#: No log line may be longer than this, whatever a client sent.
LONGEST_LINE = 1000


async def test_a_huge_unknown_message_makes_one_short_log_line(tmp_path: Path) -> None:
    huge_tag = "X" * 500_000
    async with serve(tmp_path, "--principal", "p") as served:

        def talk() -> object:
            with open_client(served.task_url("p")) as ws:
                ws.send(json.dumps({huge_tag: {}}))
                return exchange(ws, ListRuns(1, "t-none"), Channel.TASKS)

        # The link stays open and the next request is answered.
        reply = await in_thread(talk)
        assert not isinstance(reply, RunsListed)
    [line] = served.log_lines("unknown_message_ignored")
    assert "XXXX" in line
    assert len(line) < LONGEST_LINE
    assert max(len(line) for line in served.log.read_text().splitlines()) < LONGEST_LINE


async def test_the_trace_is_streamed_to_the_file_asked_for(tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    async with serve(tmp_path, "--trace", str(trace)) as served:
        with ExitStack() as clients:
            owner, _ = await in_thread(lambda: share(served.session_base, clients))
            await in_thread(lambda: send_events(owner, range(2)))
            # Streamed as it happens: the lines are there while the process runs.
            records = [json.loads(line) for line in trace.read_text().splitlines()]
            await in_thread(clients.close)
    # Only frames a link receives are traced, and an outside client has no link.
    assert [r["type"] for r in records] == ["Initialize", *["OrderedTerminalEvent"] * 2]
    assert {r["to"] for r in records} == {"session-server"}


async def test_an_ipv6_host_is_printed_in_brackets_and_can_be_dialled(tmp_path: Path) -> None:
    async with serve(tmp_path, "--host", "::1", "-v") as served:
        assert served.host == "[::1]"
        with ExitStack() as clients:
            _, created = await in_thread(lambda: share(served.session_base, clients))
            await in_thread(clients.close)
    assert created.session_id
    # An IPv6 peer is named as a URL names it, so its port is not read as part of the address.
    [opened] = served.log_lines("link_opened")
    assert re.search(r"peer='\[::1\]:\d+'", opened), opened
