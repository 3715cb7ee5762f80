"""`decode_lines`: one output line per frame, bad lines reported by number, decoding goes on."""

from __future__ import annotations

import io
import json

from protocol import (
    AgentExchange,
    Channel,
    OrderedTerminalEvent,
    ReconnectToken,
    SessionInitialized,
    SessionSecret,
    decode_lines,
    encode,
    sharer,
)
from tests.protocol.frames import SESSION_ID

GOOD = [
    encode(SessionInitialized(SESSION_ID, SessionSecret("pw-1"), ReconnectToken("rt-1"), "p-1")),
    encode(sharer.EventsProcessedAck(4)),
    '{"ParticipantListUpdated":{}}',
]


def _run(lines: list[str], *, as_json: bool = False) -> tuple[int, list[str], list[str]]:
    out, err = io.StringIO(), io.StringIO()
    failures = decode_lines(lines, Channel.SHARER_DOWN, as_json=as_json, out=out, err=err)
    return failures, out.getvalue().splitlines(), err.getvalue().splitlines()


def test_good_lines_give_one_readable_line_each() -> None:
    failures, out, err = _run([line + "\n" for line in GOOD])
    assert (failures, err) == (0, [])
    assert out == [
        f"SessionInitialized session_id='{SESSION_ID}' session_secret=*** reconnect_token=*** "
        "sharer_id='p-1' sharer_firebase_uid=''",
        "EventsProcessedAck latest_processed_event_no=4",
        "ParticipantListUpdated (unknown on sharer-down, ignored)",
    ]


def test_bad_lines_are_reported_by_number_and_the_rest_still_decode() -> None:
    lines = [GOOD[0], "", "{broken", "   ", '{"EventsProcessedAck":{}}', GOOD[1]]
    failures, out, err = _run(lines)
    assert failures == 2
    assert len(out) == 2
    assert err[0].startswith("line 3: at $: expected valid JSON")
    assert err[1] == (
        "line 5: at $.EventsProcessedAck.latest_processed_event_no: "
        "expected an integer from 0 to 18446744073709551615, got nothing (the field is missing)"
    )


def test_json_mode_prints_canonical_frames() -> None:
    spaced = json.dumps(json.loads(GOOD[1]), indent=None, separators=(", ", ": "))
    failures, out, _ = _run([spaced, GOOD[0]], as_json=True)
    assert failures == 0
    assert out == [GOOD[1], GOOD[0]]


def test_agent_exchanges_are_shown_decoded() -> None:
    frame = encode(OrderedTerminalEvent(2, AgentExchange("T2", 1, "hello").to_event()))
    out = io.StringIO()
    decode_lines([frame], Channel.VIEWER_DOWN, as_json=False, out=out, err=io.StringIO())
    assert out.getvalue() == (
        "OrderedTerminalEvent event_no=2 event_type=AgentExchange("
        "agent_task_id='T2', exchange_no=1, text='hello', mentions=[], parent_agent_id=None)\n"
    )
