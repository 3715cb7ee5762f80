"""What `sharesim serve` writes while attacked: short log lines, and a trace that is streamed."""

from __future__ import annotations

import json
import re
from contextlib import ExitStack
from pathlib import Path

from protocol import Channel, ListRuns, RunsListed

from .outside import exchange, in_thread, join_and_read, open_client, send_events, share
from .rawws import GUARD_S
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


#: Unknown frames in the flood, each with a 10,000-character tag: about 60 MB sent.
FLOOD = 6000
#: Characters of a trace line from the flood, once its tag is clipped.
LONGEST_TRACE_LINE = 400


async def test_a_flood_of_unknown_frames_fills_the_trace_only_to_its_cut_off(
    tmp_path: Path,
) -> None:
    trace = tmp_path / "trace.jsonl"
    frame = json.dumps({"Y" * 10_000: {}})
    async with serve(tmp_path, "--trace", str(trace), "--max-trace-mb", "1") as served:

        def flood() -> None:
            with open_client(f"{served.session_base}/sessions/create") as ws:
                for _ in range(FLOOD):
                    ws.send(frame)
                # Pong comes after every frame before it was read.
                assert ws.ping().wait(GUARD_S)

        await in_thread(flood)
        with ExitStack() as clients:
            _, created = await in_thread(lambda: share(served.session_base, clients))
            await in_thread(clients.close)
    assert created.session_id
    lines = trace.read_text().splitlines()
    size = trace.stat().st_size
    # The flood's lines would pass the cut-off; those written stop just short of it.
    assert FLOOD * min(len(line) + 1 for line in lines) > 1 << 20
    assert (1 << 20) - len(lines[-1]) - 1 < size <= 1 << 20
    assert max(len(line) for line in lines) < LONGEST_TRACE_LINE
    assert json.loads(lines[-1])["type"].endswith("... (9,800 more characters)")
    [cut_off] = served.log_lines("trace_cut_off")
    assert "size_mb=1.0" in cut_off
    assert "limit_mb=1" in cut_off


async def test_a_trace_that_cannot_be_written_stops_and_serving_goes_on(tmp_path: Path) -> None:
    full = Path("/dev/full")  # every write fails with ENOSPC
    async with serve(tmp_path, "--trace", str(full)) as served:
        with ExitStack() as clients:
            owner, created = await in_thread(lambda: share(served.session_base, clients))
            await in_thread(lambda: send_events(owner, range(3)))
            # Every frame is still taken: a newcomer reads each event.
            assert await in_thread(lambda: join_and_read(served.session_base, created, 3)) == [
                0,
                1,
                2,
            ]
            await in_thread(clients.close)
    # One line says so, naming the file and the error; `serve` itself checks exit 0.
    [failed] = served.log_lines("trace_write_failed")
    assert "file='/dev/full'" in failed
    assert "No space left on device" in failed
    assert not served.log_lines("frame_unreadable")
