"""Agent exchanges ride inside AgentResponseEvent as base64 of canonical JSON."""

from __future__ import annotations

import base64
import json

import pytest

from protocol import (
    AgentExchange,
    AgentResponseEvent,
    Channel,
    OrderedTerminalEvent,
    ProtocolError,
    decode,
    encode,
    events,
)

EXCHANGE = AgentExchange("T2", 3, "asked @T3 to build", ("T3",))


def _event_for(payload: object) -> AgentResponseEvent:
    text = base64.b64encode(json.dumps(payload).encode()).decode()
    return AgentResponseEvent(response_event=text)


def test_round_trip_through_a_full_frame() -> None:
    frame = encode(OrderedTerminalEvent(5, EXCHANGE.to_event()))
    message = decode(Channel.VIEWER_DOWN, frame)
    assert isinstance(message, OrderedTerminalEvent)
    assert AgentExchange.from_event(message.event_type) == EXCHANGE


def test_the_payload_is_tagged_canonical_json() -> None:
    payload = base64.b64decode(EXCHANGE.to_event().response_event)
    assert payload == (
        b'{"AgentExchange":{"agent_task_id":"T2","exchange_no":3,'
        b'"mentions":["T3"],"parent_agent_id":null,"text":"asked @T3 to build"}}'
    )


def test_a_childs_exchange_names_its_parent() -> None:
    exchange = AgentExchange("T2", 0, "on it", parent_agent_id="T1")
    assert AgentExchange.from_event(exchange.to_event()) == exchange


def test_optional_fields_default() -> None:
    event = _event_for({"AgentExchange": {"agent_task_id": None, "exchange_no": 0, "text": ""}})
    assert AgentExchange.from_event(event) == AgentExchange(None, 0, "")


@pytest.mark.parametrize(
    "event",
    [
        events.PtyBytesRead(b"x"),
        events.AgentConversationReplayStarted(),
        AgentResponseEvent(response_event="CgNhYmMSAggB"),
        _event_for({"SomethingElse": {}}),
        _event_for(["AgentExchange"]),
        AgentResponseEvent(response_event=base64.b64encode(b"\xff\xfe\x00").decode()),
    ],
    ids=["pty", "replay-marker", "protobuf", "other-json", "json-array", "binary"],
)
def test_events_that_are_not_ours_give_none(event: events.OrderedTerminalEventType) -> None:
    assert AgentExchange.from_event(event) is None


def test_text_that_is_not_base64_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError) as caught:
        AgentExchange.from_event(AgentResponseEvent(response_event="not base64!"))
    assert caught.value.path == "$.response_event"


def test_our_envelope_with_a_bad_field_names_the_field() -> None:
    event = _event_for({"AgentExchange": {"agent_task_id": "T2", "exchange_no": "3", "text": ""}})
    with pytest.raises(ProtocolError) as caught:
        AgentExchange.from_event(event)
    assert caught.value.path == "$.response_event.AgentExchange.exchange_no"
    assert caught.value.expected == "an integer"
