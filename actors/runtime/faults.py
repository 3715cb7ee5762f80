"""The fault injector: the one part of the network conditions that acts.

It sits beside the transport because it cuts the transport's live links; the
conditions themselves stay plain data that the transport reads. Every fault is
an event: logged, and recorded in the trace on its `fault` channel (a drop, a
partition's start and its end), so a failure it caused can be told from a
protocol bug.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import structlog
import trio

from actors.runtime.conditions import Drop, Partition
from actors.runtime.transport import Network

_log = structlog.get_logger("sharesim.faults")


class FaultInjector:
    """Applies drops and partitions at their virtual times by cutting live links."""

    def __init__(self, network: Network, rng: random.Random) -> None:
        self._network = network
        self._rng = rng

    async def run(self) -> None:
        conditions = self._network.conditions
        # Every random moment is drawn before the first fault, in declaration
        # order, so the schedule depends on the seed alone. The sort is stable:
        # faults due at the same moment keep their declared order.
        schedule: list[tuple[float, Drop | Partition | _Healed]] = [
            (drop.moment(self._rng), drop) for drop in conditions.drops
        ]
        schedule += [(p.start, p) for p in conditions.partitions]
        schedule += [(p.end, _Healed(p)) for p in conditions.partitions if math.isfinite(p.end)]
        for at, fault in sorted(schedule, key=lambda item: item[0]):
            await trio.sleep_until(at)
            if isinstance(fault, Partition):
                await self._cut(fault)
            elif isinstance(fault, _Healed):
                self._heal(fault.partition)
            else:
                await self._drop(fault)

    async def _drop(self, fault: Drop) -> None:
        candidates = sorted(
            (
                link
                for link in self._network.dialled_links()
                if fault.matches(link.local, link.peer)
            ),
            key=lambda link: (link.local, link.peer, link.id),
        )
        if not candidates:
            _log.info("fault_skipped", kind="drop", actor=fault.actor, server=fault.server)
            return
        victim = self._rng.choice(candidates)
        _log.info("fault", kind="drop", actor=victim.local, server=victim.peer, link=repr(victim))
        self._network.trace.fault(trio.current_time(), victim.local, victim.peer, "Drop")
        await victim.drop()

    async def _cut(self, partition: Partition) -> None:
        actor, server = partition.actor, partition.server
        links = self._network.links_between(actor, server)
        _log.info(
            "fault",
            kind="partition",
            actor=actor,
            server=server,
            until=partition.end,
            links=len(links),
        )
        self._network.trace.fault(
            trio.current_time(), actor, server, "PartitionStarted", until=f"{partition.end:g}"
        )
        for link in links:
            await link.drop()

    def _heal(self, partition: Partition) -> None:
        _log.info("fault_ended", kind="partition", actor=partition.actor, server=partition.server)
        self._network.trace.fault(
            trio.current_time(), partition.actor, partition.server, "PartitionEnded"
        )


@dataclass(frozen=True, slots=True)
class _Healed:
    """The end of a partition: connecting works again."""

    partition: Partition
