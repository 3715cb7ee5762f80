"""The session server over real WebSocket framing: create, join, relay, rejoin, end, bad input."""

from __future__ import annotations

import contextlib

import trio
from structlog.testing import capture_logs

from actors.rules.session_store import ServerSwitches
from actors.runtime.transport import DEFAULT_MAX_FRAME_BYTES, CloseCode, LinkClosed
from actors.servers.websocket_server import CloseAll
from protocol import (
    Ping,
    Pong,
    ReconnectToken,
    Role,
    UserId,
    sharer,
    viewer,
)
from protocol.source import AmbientAgent, User
from tests.actors.netkit import (
    event_numbers,
    exchange_event,
    join_route,
    joined,
    running_servers,
    send_events,
)


async def test_a_viewer_joins_and_receives_events_in_order(autojump_clock: trio.abc.Clock) -> None:
    async with running_servers() as servers:
        owner, created = await servers.share(source_type=User(), source_task_id="t-1")
        await send_events(owner, 0)
        client, joined_reply = await joined(servers, "viewer-a", created)
        assert joined_reply.source_task_id == "t-1"
        assert joined_reply.latest_event_no == 0
        assert await event_numbers(client, 1) == [0]
        for n in (1, 2, 3):
            owner.send(exchange_event(n))
        assert await event_numbers(client, 3) == [1, 2, 3]


async def test_a_legacy_ambient_share_gets_its_task_id_from_the_variant(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        _, created = await servers.share(source_type=AmbientAgent("t-7"))
        _, reply = await joined(servers, "viewer-a", created)
        assert reply.source_task_id == "t-7"
        assert reply.source_type.value == "AmbientAgent"
        assert reply.detailed_source_type == AmbientAgent("t-7")


async def test_every_viewer_gets_every_event_in_order(autojump_clock: trio.abc.Clock) -> None:
    async with running_servers() as servers:
        owner, created = await servers.share()
        viewers = [(await joined(servers, f"viewer-{i}", created))[0] for i in range(3)]
        await send_events(owner, *range(20))
        for client in viewers:
            assert await event_numbers(client, 20) == list(range(20))


async def test_a_join_to_an_unknown_session_fails_with_its_reason(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        client = await servers.connect("viewer-a", "session-server", "/sessions/join/nope?pwd=x")
        client.send(viewer.Initialize(viewer.ViewerInitPayload(UserId("viewer-a"))))
        failed = await client.expect(viewer.FailedToJoin)
        assert failed.reason is viewer.JoinFailureReason.SESSION_NOT_FOUND
        closed = await client.closed()
        assert (closed.code, closed.reason) == (1008, "join refused: SessionNotFound")


async def test_a_viewer_rejoins_and_gets_exactly_the_missing_events(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        owner, created = await servers.share()
        client, first = await joined(servers, "viewer-a", created)
        await send_events(owner, 0, 1)
        assert await event_numbers(client, 2) == [0, 1]
        await client.link.drop()
        await send_events(owner, 2, 3)
        again, reply = await servers.join(
            "viewer-a",
            created,
            viewer_id=first.viewer_id,
            last_received_event_no=1,
            rejoin_token=first.rejoin_token,
        )
        assert isinstance(reply, viewer.RejoinedSuccessfully)
        assert await event_numbers(again, 2) == [2, 3]
        owner.send(exchange_event(4))
        # The next frame is event 4: nothing was sent twice in between.
        assert await event_numbers(again, 1) == [4]


async def test_a_sharer_reconnects_and_resends_what_the_server_lacks(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        owner, created = await servers.share()
        client, _ = await joined(servers, "viewer-a", created)
        await send_events(owner, 0, 1, 2)
        owner.send(exchange_event(3))
        await owner.link.drop()  # event 3 may or may not have reached the server
        again, reply = await servers.reconnect(created)
        assert isinstance(reply, sharer.SessionReconnected)
        last = reply.last_received_event_no
        assert last in (2, 3)
        for n in range(last + 1, 6):
            again.send(exchange_event(n))
        assert await event_numbers(client, 6) == list(range(6))


async def test_a_reconnect_with_a_wrong_token_fails_and_changes_nothing(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        owner, created = await servers.share()
        client, _ = await joined(servers, "viewer-a", created)
        intruder, reply = await servers.reconnect(created, reconnect_token=ReconnectToken("guess"))
        # The same answer as for a session that does not exist.
        assert reply == sharer.FailedToReconnect(sharer.ReconnectFailureReason.SESSION_NOT_FOUND)
        assert (await intruder.closed()).code == 1008
        await send_events(owner, 0)
        assert await event_numbers(client, 1) == [0]


async def test_end_session_ends_it_for_every_viewer(autojump_clock: trio.abc.Clock) -> None:
    async with running_servers() as servers:
        owner, created = await servers.share()
        viewers = [(await joined(servers, f"viewer-{i}", created))[0] for i in range(2)]
        owner.send(sharer.EndSession(sharer.SharerEndReason.ENDED_BY_SHARER))
        for client in viewers:
            ended = await client.expect(viewer.SessionEnded)
            assert ended.reason is viewer.SessionEndedReason.ENDED_BY_SHARER
            assert (await client.closed()).code == 1000
        assert (await owner.closed()).code == 1000
        _, reply = await servers.join("late", created)
        assert reply == viewer.FailedToJoin(viewer.JoinFailureReason.SESSION_NOT_FOUND)


async def test_a_lingering_session_stays_readable_after_it_ends(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        owner, created = await servers.share(lifetime=sharer.Lifetime.LINGERING)
        await send_events(owner, 0, 1)
        owner.send(sharer.EndSession(sharer.SharerEndReason.ENDED_BY_SHARER))
        await owner.closed()
        client, reply = await joined(servers, "late", created)
        assert reply.latest_event_no == 1
        assert await event_numbers(client, 2) == [0, 1]
        assert (await client.expect(viewer.SessionEnded)).reason is (
            viewer.SessionEndedReason.ENDED_BY_SHARER
        )


async def test_a_sharer_gone_past_its_grace_ends_the_session(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        owner, created = await servers.share()
        client, _ = await joined(servers, "viewer-a", created)
        dropped_at = trio.current_time()
        await owner.link.drop()
        ended = await client.expect(viewer.SessionEnded)
        assert ended.reason is viewer.SessionEndedReason.INACTIVITY_LIMIT_REACHED
        assert trio.current_time() - dropped_at >= 60.0


async def test_a_sharer_back_within_its_grace_keeps_the_viewers(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers(switches=ServerSwitches(sharer_grace_s=30.0)) as servers:
        owner, created = await servers.share()
        client, _ = await joined(servers, "viewer-a", created)
        await owner.link.drop()
        await trio.sleep(20)
        again, reply = await servers.reconnect(created)
        assert isinstance(reply, sharer.SessionReconnected)
        await trio.sleep(60)  # well past the first grace period
        await send_events(again, 0)
        assert await event_numbers(client, 1) == [0]


async def test_a_pane_reached_through_a_parent_gets_no_more_than_the_parent_role(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        _, parent = await servers.share("host", link_role=Role.READER)
        _, child = await servers.share("host", link_role=Role.EXECUTOR)
        _, seat = await joined(servers, "bob", parent)
        assert seat.rejoin_token is not None
        through = f"&via={parent.session_id}&as={seat.viewer_id}"
        _, pane = await joined(
            servers, "bob", child, query=f"{through}&seat={seat.rejoin_token.reveal()}"
        )
        assert pane.role is Role.READER
        # Naming the seat, even as its user, without its token opens nothing.
        _, borrowed = await servers.join("bob", child, query=through)
        assert borrowed == viewer.FailedToJoin(viewer.JoinFailureReason.SESSION_NOT_ACCESSIBLE)


async def test_a_child_link_does_not_open_the_parent(autojump_clock: trio.abc.Clock) -> None:
    async with running_servers() as servers:
        _, parent = await servers.share("host")
        _, child = await servers.share("host")
        await joined(servers, "bob", child)
        pwd = child.session_secret.reveal()
        client = await servers.connect(
            "bob", "session-server", f"/sessions/join/{parent.session_id}?pwd={pwd}"
        )
        client.send(viewer.Initialize(viewer.ViewerInitPayload(UserId("bob"))))
        assert await client.receive() == viewer.FailedToJoin(
            viewer.JoinFailureReason.SESSION_NOT_FOUND
        )


async def test_an_upgraded_task_id_reaches_joined_viewers(autojump_clock: trio.abc.Clock) -> None:
    async with running_servers(switches=ServerSwitches(push_source_task_id=True)) as servers:
        owner, created = await servers.share(source_task_id=None)
        client, before = await joined(servers, "viewer-a", created)
        assert before.source_task_id is None
        owner.send(sharer.UpdateSourceTaskId("t-orch"))
        assert await client.receive() == viewer.SourceTaskIdUpdated("t-orch")
        _, later = await joined(servers, "viewer-b", created)
        assert later.source_task_id == "t-orch"


# -- bad input -----------------------------------------------------------------------------


async def test_a_malformed_frame_is_refused_and_the_others_lose_nothing(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        owner, created = await servers.share()
        watcher, _ = await joined(servers, "watcher", created)
        await send_events(owner, 0)
        rogue = await servers.connect("rogue", "session-server", join_route(created))
        with capture_logs() as logs:
            rogue.send_raw('{"Initialize": {"user_id": ')
            assert await rogue.receive() == viewer.FailedToJoin(viewer.JoinFailureReason.INVALID)
            closed = await rogue.closed()
        assert closed.code == 1007
        assert closed.reason is not None
        assert closed.reason.startswith("malformed frame: at $: expected valid JSON")
        assert "malformed_frame" in [e["event"] for e in logs]
        await send_events(owner, 1, 2)
        assert await event_numbers(watcher, 3) == [0, 1, 2]


async def test_a_malformed_frames_value_is_neither_logged_nor_echoed_in_the_close(
    autojump_clock: trio.abc.Clock,
) -> None:
    secret = "0123456789abcdef01234567"
    async with running_servers() as servers:
        owner, _ = await servers.share()
        with capture_logs() as logs:
            owner.send_raw(f'{{"OrderedTerminalEvent": "{secret}"}}')
            closed = await owner.closed()
        assert closed.code == 1007
        assert closed.reason is not None
        assert closed.reason.startswith("malformed frame: at $.OrderedTerminalEvent: expected ")
        assert secret not in closed.reason
        [line] = [e for e in logs if e["event"] == "malformed_frame"]
        assert line["error"].startswith("at $.OrderedTerminalEvent: expected ")
        assert secret not in repr(logs)


async def test_a_viewer_sending_sharer_messages_is_closed_for_policy(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        owner, created = await servers.share()
        rogue, _ = await joined(servers, "rogue", created)
        watcher, _ = await joined(servers, "watcher", created)
        rogue.send_raw('{"EndSession":{"reason":"EndedBySharer"}}')
        closed = await rogue.closed()
        assert (closed.code, closed.reason) == (
            1008,
            "EndSession is a sharer message; a viewer may not send it",
        )
        await send_events(owner, 0)
        assert await event_numbers(watcher, 1) == [0]


async def test_an_oversized_frame_closes_that_link_with_1009(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        owner, created = await servers.share()
        watcher, _ = await joined(servers, "watcher", created)
        rogue = await servers.connect("rogue", "session-server", "/sessions/create")
        with capture_logs() as logs:
            rogue.send_raw('"' + "x" * DEFAULT_MAX_FRAME_BYTES + '"')
            assert (await rogue.closed()).code == CloseCode.TOO_BIG
            await send_events(owner, 0)
        assert "frame_too_large" in [e["event"] for e in logs]
        assert await event_numbers(watcher, 1) == [0]


async def test_a_join_with_a_wrong_secret_fails_as_if_there_were_no_session(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        _, created = await servers.share()
        client = await servers.connect(
            "guesser", "session-server", f"/sessions/join/{created.session_id}?pwd=guess"
        )
        client.send(viewer.Initialize(viewer.ViewerInitPayload(UserId("guesser"))))
        assert await client.receive() == viewer.FailedToJoin(
            viewer.JoinFailureReason.SESSION_NOT_FOUND
        )
        assert (await client.closed()).code == 1008


async def test_an_unknown_message_is_ignored_and_the_link_kept(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        owner, created = await servers.share()
        client, _ = await joined(servers, "viewer-a", created)
        with capture_logs() as logs:
            client.send_raw('{"ReportTerminalSize":{"window_size":{"num_rows":1,"num_cols":2}}}')
            owner.send_raw('{"UpdateSelection":{"selection":"None","event_no":0}}')
            client.send(Ping(b"\x07"))
            assert await client.receive() == Pong(b"\x07")
            await send_events(owner, 0)
        ignored = [e["tag"] for e in logs if e["event"] == "unknown_message_ignored"]
        assert sorted(ignored) == ["ReportTerminalSize", "UpdateSelection"]
        assert await event_numbers(client, 1) == [0]


async def test_a_frame_the_decoder_chokes_on_costs_only_its_own_link(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        owner, created = await servers.share()
        watcher, _ = await joined(servers, "watcher", created)
        rogue, _ = await joined(servers, "rogue", created)
        # A number too large for a float: JSON allows it, the codec must cope with it.
        rogue.send_raw('{"SomethingNew": 1e400}')
        rogue.send(Ping())
        # Whether the server drops the link or answers the ping, the frame has been read.
        with contextlib.suppress(LinkClosed):
            await rogue.receive()
        await send_events(owner, 0)
        assert await event_numbers(watcher, 1) == [0]
        _, late = await joined(servers, "late", created)
        assert late.latest_event_no == 0


async def test_close_all_closes_every_link_with_going_away(autojump_clock: trio.abc.Clock) -> None:
    async with running_servers() as servers:
        owner, created = await servers.share()
        client, _ = await joined(servers, "viewer-a", created)
        tasks = await servers.tasks_client("alice")
        for server in (servers.sessions, servers.tasks):
            await server.ref.ask(CloseAll())
        for link in (owner, client, tasks):
            closed = await link.closed()
            assert (closed.code, closed.reason) == (1001, "server shutting down")
