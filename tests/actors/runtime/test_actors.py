"""Runtime semantics: ordering, backpressure, ask, supervision and shutdown."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import structlog
import trio
import trio.testing

from actors.runtime import (
    Actor,
    ActorCrashed,
    ActorStopped,
    AskTimeout,
    Request,
    Unanswered,
    UnknownActor,
    open_stage,
)


@dataclass(frozen=True)
class Echo(Request[tuple[str, object]]):
    """Asks the recorder to handle `payload` and answer with an acknowledgement."""

    payload: object


class Recorder(Actor[object]):
    role = "recorder"

    def __init__(self, name: str = "recorder", **kwargs: int) -> None:
        super().__init__(name, **kwargs)
        self.seen: list[tuple[str, object]] = []

    async def handle(self, message: object, sender: str) -> None:
        payload = message.payload if isinstance(message, Echo) else message
        self.seen.append((sender, payload))
        if payload == "boom":
            raise ValueError("no good")
        if payload == "slow":
            await trio.sleep(100)
        if isinstance(message, Echo):
            self.answer(message, ("ack", payload))


async def test_messages_from_one_sender_arrive_in_order(autojump_clock: trio.abc.Clock) -> None:
    async with open_stage() as stage:
        recorder = Recorder()
        ref = await stage.start(recorder)

        async def sender(name: str) -> None:
            for i in range(20):
                await ref.tell(i, sender=name)

        async with trio.open_nursery() as nursery:
            for name in ("a", "b", "c"):
                nursery.start_soon(sender, name)
        await ref.ask(Echo("sync"))
        for name in ("a", "b", "c"):
            assert [m for s, m in recorder.seen if s == name] == list(range(20))


async def test_a_full_mailbox_makes_tell_wait(autojump_clock: trio.abc.Clock) -> None:
    async with open_stage() as stage:
        recorder = Recorder(mailbox_size=2)
        ref = await stage.start(recorder)
        await ref.tell("slow")  # the actor is now busy for 100 s
        await trio.testing.wait_all_tasks_blocked()
        await ref.tell(1)
        await ref.tell(2)
        assert recorder.mailbox.statistics().current_buffer_used == 2
        with trio.move_on_after(50) as waited:
            await ref.tell(3)
        assert waited.cancelled_caught, "tell must block while the mailbox is full"
        await ref.tell(3)  # after the slow message is handled there is room again
        assert trio.current_time() >= 100


async def test_ask_returns_the_reply(autojump_clock: trio.abc.Clock) -> None:
    async with open_stage() as stage:
        ref = await stage.start(Recorder())
        assert await ref.ask(Echo("hello"), sender="test") == ("ack", "hello")


async def test_a_request_handled_without_an_answer_fails_the_asker_and_the_actor(
    autojump_clock: trio.abc.Clock,
) -> None:
    @dataclass(frozen=True)
    class Question(Request[int]):
        pass

    class Forgetful(Actor[Question]):
        async def handle(self, message: Question, sender: str) -> None:
            pass

    async def ask_and_wait() -> None:
        async with open_stage() as stage:
            ref = await stage.start(Forgetful("forgetful"))
            with pytest.raises(Unanswered, match="'forgetful' handled Question without answering"):
                await ref.ask(Question())
            await trio.sleep_forever()

    with pytest.raises(ActorCrashed) as crashed:
        await ask_and_wait()
    assert isinstance(crashed.value.error, Unanswered)


async def test_an_answer_outside_the_request_or_twice_is_refused(
    autojump_clock: trio.abc.Clock,
) -> None:
    @dataclass(frozen=True)
    class Question(Request[int]):
        pass

    class Eager(Actor[Question]):
        async def handle(self, message: Question, sender: str) -> None:
            self.answer(message, 1)
            self.answer(message, 2)

    async def ask_and_wait() -> None:
        async with open_stage() as stage:
            ref = await stage.start(Eager("eager"))
            assert await ref.ask(Question()) == 1
            await trio.sleep_forever()

    with pytest.raises(ActorCrashed) as crashed:
        await ask_and_wait()
    assert "answered Question outside its handling, or twice" in str(crashed.value)
    with pytest.raises(RuntimeError, match="outside its handling"):
        Eager("idle").answer(Question(), 3)


async def test_a_request_that_is_told_needs_no_answer(autojump_clock: trio.abc.Clock) -> None:
    async with open_stage() as stage:
        recorder = Recorder()
        ref = await stage.start(recorder)
        await ref.tell(Echo("told"))
        assert await ref.ask(Echo("asked")) == ("ack", "asked")
        assert [m for _, m in recorder.seen] == ["told", "asked"]


async def test_ask_timeout_names_both_actors_and_the_request(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with open_stage() as stage:
        ref = await stage.start(Recorder())
        with pytest.raises(AskTimeout) as caught:
            await ref.ask(Echo("slow"), sender="viewer-1", timeout=5)
        assert (
            str(caught.value)
            == "viewer-1 asked recorder for Echo: no reply within 5 s of virtual time"
        )
        assert trio.current_time() == pytest.approx(5)


async def test_a_crash_cancels_the_stage_and_names_actor_and_message(
    autojump_clock: trio.abc.Clock,
) -> None:
    bystander_cancelled = False

    class Bystander(Actor[object]):
        async def on_start(self) -> None:
            self.spawn(self.wait_forever)

        async def wait_forever(self) -> None:
            nonlocal bystander_cancelled
            try:
                await trio.sleep_forever()
            finally:
                bystander_cancelled = True

    async def crash_a_worker() -> None:
        async with open_stage() as stage:
            await stage.start(Bystander("bystander"))
            ref = await stage.start(Recorder("worker"))
            await ref.tell("boom")
            await trio.sleep_forever()

    with pytest.raises(ActorCrashed) as caught:
        await crash_a_worker()
    assert caught.value.actor == "worker"
    assert caught.value.message_type == "str"
    assert "actor 'worker' crashed handling str: ValueError: no good" in str(caught.value)
    assert isinstance(caught.value.__cause__, ValueError)
    assert bystander_cancelled


class LiveTasks(trio.abc.Instrument):
    """Counts tasks that have been spawned and not yet exited."""

    def __init__(self) -> None:
        self.live: set[trio.lowlevel.Task] = set()

    def task_spawned(self, task: trio.lowlevel.Task) -> None:
        self.live.add(task)

    def task_exited(self, task: trio.lowlevel.Task) -> None:
        self.live.discard(task)


async def test_leaving_the_stage_stops_every_actor_and_task(autojump_clock: trio.abc.Clock) -> None:
    instrument = LiveTasks()
    trio.lowlevel.add_instrument(instrument)
    try:
        recorders = [Recorder(f"r{i}") for i in range(3)]
        async with open_stage() as stage:
            for recorder in recorders:
                await stage.start(recorder)
                recorder.spawn(trio.sleep_forever)
            assert len(instrument.live) == 6
        assert instrument.live == set()
    finally:
        trio.lowlevel.remove_instrument(instrument)
    for recorder in recorders:
        with pytest.raises(ActorStopped):
            await recorder.ref.tell("late")


async def test_registry_finds_actors_and_explains_a_miss(autojump_clock: trio.abc.Clock) -> None:
    async with open_stage() as stage:
        await stage.start(Recorder("viewer-1"))
        await stage.start(Recorder("viewer-2"))
        assert stage.registry.lookup("viewer-2").name == "viewer-2"
        with pytest.raises(
            UnknownActor, match="no actor named 'viewer-3'; known actors: viewer-1, viewer-2"
        ):
            stage.registry.lookup("viewer-3")
        with pytest.raises(ValueError, match="already on this stage"):
            await stage.start(Recorder("viewer-1"))


async def test_actor_tasks_log_with_their_actor_context(autojump_clock: trio.abc.Clock) -> None:
    class Talker(Actor[Echo]):
        role = "talker"

        async def handle(self, message: Echo, sender: str) -> None:
            structlog.get_logger().info("heard", what=message.payload)
            self.answer(message, ("ack", message.payload))

    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        async with open_stage() as stage:
            ref = await stage.start(Talker("talker-1"))
            await ref.ask(Echo("hi"))
    assert {
        "event": "heard",
        "what": "hi",
        "actor": "talker-1",
        "role": "talker",
        "log_level": "info",
    } in [
        {k: v for k, v in entry.items() if k in {"event", "what", "actor", "role", "log_level"}}
        for entry in logs
    ]
