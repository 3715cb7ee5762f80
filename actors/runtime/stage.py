"""Supervision: the stage every actor of one simulation runs on.

A stage is one nursery plus a registry of actors by name. Supervision is
structured concurrency with a one-for-all policy: when an actor crashes, the
stage cancels every other actor and re-raises the crash, so the error a user
sees names the actor and the message it was handling. Leaving the `async with`
block normally stops every actor and closes its mailbox and connections.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

import trio

from actors.runtime.actor import Actor, ActorCrashed, ActorRef
from protocol.errors import SharesimError

M = TypeVar("M")


class UnknownActor(SharesimError, LookupError):
    """A lookup named an actor the stage does not have."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        listing = ", ".join(known) if known else "none"
        super().__init__(f"no actor named {name!r}; known actors: {listing}")


class Registry:
    """Actors by name, in start order, for scenarios and tests to find.

    It holds actors of every kind, so what a lookup by name returns is untyped:
    keep the typed ref `Stage.start` returns where the kind matters.
    """

    def __init__(self) -> None:
        self._actors: dict[str, Actor[Any]] = {}

    def add(self, actor: Actor[Any]) -> None:
        if actor.name in self._actors:
            raise ValueError(f"an actor named {actor.name!r} is already on this stage")
        self._actors[actor.name] = actor

    def remove(self, name: str) -> None:
        self._actors.pop(name, None)

    def lookup(self, name: str) -> ActorRef[Any]:
        return self.actor(name).ref

    def actor(self, name: str) -> Actor[Any]:
        try:
            return self._actors[name]
        except KeyError:
            raise UnknownActor(name, list(self._actors)) from None

    def names(self) -> list[str]:
        return list(self._actors)

    def __contains__(self, name: object) -> bool:
        return name in self._actors


class Stage:
    """Starts actors and supervises them; see the module docstring for the policy."""

    def __init__(self, nursery: trio.Nursery) -> None:
        self._nursery = nursery
        self.registry = Registry()

    async def start(self, actor: Actor[M]) -> ActorRef[M]:
        """Start an actor and return once it is ready (its `on_start` has finished)."""
        self.registry.add(actor)
        try:
            ref: ActorRef[M] = await self._nursery.start(self._supervise, actor, name=actor.name)
        except BaseException:
            self.registry.remove(actor.name)
            raise
        return ref

    async def _supervise(
        self, actor: Actor[M], *, task_status: trio.TaskStatus[ActorRef[M]]
    ) -> None:
        try:
            await actor.run(task_status=task_status)
        finally:
            self.registry.remove(actor.name)

    def cancel(self) -> None:
        """Stop every actor at once, queued messages or not."""
        self._nursery.cancel_scope.cancel()


#: Garbage-collector thresholds while a stage is open (Python's defaults are 700, 10, 10).
STAGE_GC_THRESHOLDS = (50_000, 20, 100)


class _Collector:
    """Collects garbage less often while any stage is open, as before once none is.

    A simulation keeps a large graph of long-lived objects (actors, links and
    their tasks) and allocates short-lived ones by the million. At Python's
    default thresholds the collector walks that whole graph again and again,
    which cost a quarter of the wall time of a busy run; at these it runs a
    few times per run. Most garbage is still freed at once by reference counting.
    """

    def __init__(self) -> None:
        self._stages = 0
        self._saved = gc.get_threshold()

    @contextmanager
    def relaxed(self) -> Iterator[None]:
        if self._stages == 0:
            self._saved = gc.get_threshold()
            gc.set_threshold(*STAGE_GC_THRESHOLDS)
        self._stages += 1
        try:
            yield
        finally:
            self._stages -= 1
            if self._stages == 0:
                gc.set_threshold(*self._saved)


_COLLECTOR = _Collector()


@asynccontextmanager
async def open_stage() -> AsyncIterator[Stage]:
    """Run actors for the duration of the block; on exit every actor is stopped.

    A crash anywhere cancels the whole stage and surfaces as a single
    `ActorCrashed` (the first one, if several actors failed together).
    """
    try:
        with _COLLECTOR.relaxed():
            async with trio.open_nursery() as nursery:
                stage = Stage(nursery)
                yield stage
                stage.cancel()
    except BaseExceptionGroup as group:
        crash = _first_crash(group)
        if crash is None:
            raise
        raise crash from crash.error


def _first_crash(group: BaseExceptionGroup[BaseException]) -> ActorCrashed | None:
    for error in group.exceptions:
        if isinstance(error, ActorCrashed):
            return error
        if isinstance(error, BaseExceptionGroup):
            nested = _first_crash(error)
            if nested is not None:
                return nested
    return None
