"""Design profiles: which behaviours of the modelled change are switched on.

Each switch isolates one gap from the specs, so a scenario can run the merged
design with a single behaviour reverted (or a follow-up added) and see exactly
what that one behaviour is responsible for.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass

from protocol.errors import SharesimError


class SwitchError(SharesimError, ValueError):
    """A switch override names no known switch, or gives a switch a value that is not a bool."""


@dataclass(frozen=True, slots=True)
class Switches:
    """Every behaviour that differs between the legacy, current, follow-up and hardened designs."""

    #: User shares stamp the conversation's task id in `source_task_id`, and ambient
    #: shares mirror their task id into it. Off: the sidecar is never sent (pre-change sharers).
    sidecar_source_task_id: bool
    #: A root viewer runs child discovery whenever an orchestrator task id resolves.
    #: Off: only `AmbientAgent` shares are discovered (gaps 1 and 3: no pill bar on local parents).
    discover_user_shares: bool
    #: Local children of a `User` host inherit its share. Off: only `AmbientAgent`
    #: hosts cascade, so manually shared local orchestrators leave their children unshared.
    cascade_user_shares: bool
    #: Children that existed before the host's share are shared once, when it is
    #: established. Off: they stay unshared and their pills never load.
    catch_up_existing_children: bool
    #: The host reports a local share's session id on the run's task row. Off: local-to-driver
    #: children never expose a session id (gaps 5 and 6: stuck loading).
    report_session_link: bool
    #: The task server accepts a session link while CLAIMED as well as RUNNING.
    #: Off: RUNNING only, which local runs never reach, so their links are refused.
    link_gate_accepts_claimed: bool
    #: A finished LOCAL run keeps its session id in listings. Off: it is stripped like a
    #: cloud run without a transcript, so a finished local child can no longer be joined.
    keep_finished_local_session_id: bool
    #: An empty discovery result stops polling until the orchestrator appends an exchange.
    #: Off: a viewer of a childless share polls every 5 s forever.
    stop_polling_when_empty: bool
    #: A failed children fetch is retried later and later, and repeated refusals stop the
    #: polling (the polling spec's error backoff). Off, as shipped: the next poll comes at
    #: the usual cadence whatever the error, so a refused viewer asks every 5 s forever.
    fetch_error_backoff: bool
    #: The viewer registers a discovered child through `assign_run_id_for_conversation`,
    #: which puts its run id in the agent-id index, so transcript references resolve to its
    #: name (fix B1). Off: through `set_task_id`, which leaves the index alone, so
    #: references to children fall back to "Unknown agent".
    index_child_run_ids: bool
    #: Once the viewer's own conversation gets its run id, every child registered before
    #: that gets it as its `parent_agent_id` (fix B2). Off: such a child keeps none, and its
    #: parent cannot be resolved through it.
    backfill_parent_agent_id: bool
    #: The sharer pushes an upgraded `source_task_id` to joined viewers (known issue §4.1).
    #: Off: a viewer that joined before the first response never gets a pill bar.
    push_source_task_id: bool
    #: Child-link viewers resolve parent and sibling names through a name-only path that
    #: registers no navigable conversation and shows no pill (B4). Off: "Unknown agent".
    sibling_name_resolution: bool
    #: Children reach root viewers as pushes over the session connection instead of polls.
    #: Off: the viewer polls the task server.
    push_child_discovery: bool
    #: The spec's stop cascade: a host's stop ends only the shares its cascade started.
    #: Closes the hole "a child the user shares by hand is stopped with its host" where the
    #: network lets the host's one-shot catch-up count the child as not sharing just before
    #: the user's own share of it starts. Off (the shipped client): it stops every child in
    #: its cascade set that is still sharing, even a share the user started on that child.
    stop_only_inherited_shares: bool
    #: The spec's session-link report: once per (task_id, session_id). Off (the shipped
    #: client): every establishment of a share sends update_agent_task again.
    dedupe_session_link: bool
    #: Closes the hole "a viewer offline when the upgraded task id is pushed never learns
    #: it": the server sends `SourceTaskIdUpdated` again after `RejoinedSuccessfully` to a
    #: seat that joined before the upgrade. Off: `RejoinedSuccessfully` carries no source
    #: fields, so a push the viewer missed is lost and it never gets a pill bar.
    replay_source_task_id_on_rejoin: bool
    #: Closes the hole "children skipped before the parent conversation are never found"
    #: (push discovery): children the stream announced while the viewer had no parent
    #: conversation are kept, with their later changes, and registered once it arrives.
    #: Off: they are skipped as the client skips them, the cursor passes them, and no
    #: later change registers them.
    register_skipped_children: bool
    #: Closes the hole "a child link that cannot reach the task server when it joins never
    #: resolves names": a name lookup that got no answer is tried again, backing off.
    #: Off: one lookup, as the follow-up proposes it, and names stay "Unknown agent".
    retry_name_lookup: bool
    #: Closes the hole "a sibling that appears after the child link's one name lookup stays
    #: 'Unknown agent'" (spawned later, or its row created late behind a partition): once
    #: names have come back, a mention of an agent they did not name asks again, once per id.
    #: Off: one lookup, as the follow-up proposes it.
    look_up_unknown_mentions: bool
    #: Closes the hole "an upgraded task id pushed just before the sharer's link drops is
    #: lost": `UpdateSourceTaskId` has no acknowledgement, so the share sends it again on
    #: every resume. Off: sent once, and if that frame is lost no viewer ever learns the id.
    resend_source_task_id_on_resume: bool
    #: Closes the hole "a local child whose row comes back after the host's one-shot
    #: catch-up ran is created unshared and never shared": when the row arrives the host
    #: reads its share again, so the child inherits a share established meanwhile.
    #: Off (the shipped client, notes 4.4): it inherits what `run_agents` read before it
    #: asked for the row.
    reread_host_share_on_child_created: bool
    #: Closes the hole "a session link that reaches the task server before the run's claim
    #: is refused by the link gate and never reported again": under faults the claim and the
    #: report are each retried on their own schedule. The host reports it again once the
    #: claim is answered. Off: the refusal is final and the child's pane stays loading.
    report_link_again_after_claim: bool
    #: Closes the hole "children appear out of spawn order" (spawn order: the web pill-bar
    #: spec, 7 and 38): the task server lists a parent's children in the order their rows
    #: were created, and under faults each create is retried on its own schedule, so a
    #: later spawn's row can be created first. The host asks for one child's row at a
    #: time, in spawn order. Off: every spawn asks at once, as `run_agents` does.
    create_children_in_spawn_order: bool
    #: Closes the hole "a child that finishes before its share's link reaches the task
    #: server never loads": under faults a local child's row can come back so late that
    #: the child ends before the host's catch-up shares it, and the link gate refuses the
    #: link of a finished run. The gate takes the first link of a run that started and
    #: ended without one; it still never rewrites a link. Off: refused, and the pane of
    #: the finished child stays loading.
    accept_first_link_after_finish: bool
    #: Closes the hole "a viewer away while children appear meets them out of spawn
    #: order": a viewer registers children in the order it learns of them, and the
    #: modelled subscription replays each changed row once, ordered by its latest change.
    #: The follow-up spec's stream replays its events (ChildSpawned, then status changes)
    #: in order, which would keep creation order; this switch stands in for that until the
    #: replay is modelled as events. It orders pills by the rows' `created_at`. Off:
    #: registration order.
    order_pills_by_creation: bool
    #: Closes the hole "an orchestrator exchange that lands while a fetch is in flight is
    #: lost" (polling): the answer of a fetch sent just before the child's row was made
    #: comes back empty after the exchange that announced the child, and idles the
    #: poller until the orchestrator speaks again, which it may never do. The poller
    #: fetches once more when such an answer would idle it. Off: it idles.
    poll_after_speech_during_fetch: bool
    #: Closes the hole "a stopped share's link report, retried behind a partition, lands
    #: after the link of the share that replaced it and overwrites it": the viewer of the
    #: run page then joins a session that no longer exists. A host stops retrying the
    #: report of a share that has ended. Off: every report is retried until it answers.
    abandon_link_reports_of_ended_shares: bool
    #: Closes the hole "a run page opened while the run's row still names a share the user
    #: stopped stays unavailable": the new share's link is held back by the faults, the join
    #: finds no session, and the page never looks again. A run page whose join is refused
    #: reads the run again, every 5 s for a minute, until it names another session. Off:
    #: it shows unavailable at once.
    reread_run_after_failed_join: bool
    #: Closes the hole "a local agent's finish overtakes its claim": a local agent works at
    #: once, and under faults its claim and its finish are each retried on their own
    #: schedule, so the finish can land first, leaving a run that never started, whose
    #: session link the gate refuses. The host sends its run's updates (state changes,
    #: session links) one at a time, each once the one before is answered, as the
    #: client's later per-task update queue does (client notes 6). Off: each goes at once.
    serialize_run_updates: bool
    #: Behaviour 41: a hidden child pane joins through the viewer's seat on the parent
    #: share, so the server caps its role (and later approvals) at the parent role. Off
    #: (the shipped client, whose join carries only the secret): a child pane gets the
    #: child share's link role, whatever the viewer holds on the parent.
    cap_child_role_at_parent: bool

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Every switch name, in declaration order, for error messages and CLI help."""
        return tuple(f.name for f in dataclasses.fields(cls))

    def with_overrides(self, overrides: Mapping[str, object]) -> Switches:
        """A copy with some switches set, so a scenario or the CLI can flip one behaviour."""
        valid = self.names()
        unknown = sorted(set(overrides) - set(valid))
        if unknown:
            raise SwitchError(
                f"unknown switch(es) {', '.join(unknown)}; valid switches: {', '.join(valid)}"
            )
        flags: dict[str, bool] = {}
        for name, value in overrides.items():
            if not isinstance(value, bool):
                raise SwitchError(
                    f"switch {name} must be true or false, got {value!r} ({type(value).__name__})"
                )
            flags[name] = value
        return dataclasses.replace(self, **flags)

    def to_dict(self) -> dict[str, bool]:
        """Plain mapping, so a run's report can state exactly which behaviours were on."""
        return {name: bool(getattr(self, name)) for name in self.names()}


class Profile(enum.Enum):
    """The designs engineers compare: before the change, as merged, with follow-ups, and
    with follow-ups plus the smallest changes that close the holes found in them."""

    LEGACY = "legacy"
    CURRENT = "current"
    FOLLOWUPS = "followups"
    HARDENED = "hardened"

    def switches(self) -> Switches:
        """The switch set that reproduces this design."""
        merged = self is not Profile.LEGACY
        hardened = self is Profile.HARDENED
        followups = self is Profile.FOLLOWUPS or hardened
        return Switches(
            sidecar_source_task_id=merged,
            discover_user_shares=merged,
            cascade_user_shares=merged,
            catch_up_existing_children=merged,
            report_session_link=merged,
            link_gate_accepts_claimed=merged,
            keep_finished_local_session_id=merged,
            stop_polling_when_empty=merged,
            fetch_error_backoff=followups,
            index_child_run_ids=merged,
            backfill_parent_agent_id=merged,
            push_source_task_id=followups,
            sibling_name_resolution=followups,
            push_child_discovery=followups,
            stop_only_inherited_shares=hardened,
            dedupe_session_link=False,
            replay_source_task_id_on_rejoin=hardened,
            register_skipped_children=hardened,
            retry_name_lookup=hardened,
            look_up_unknown_mentions=hardened,
            resend_source_task_id_on_resume=hardened,
            reread_host_share_on_child_created=hardened,
            report_link_again_after_claim=hardened,
            create_children_in_spawn_order=hardened,
            accept_first_link_after_finish=hardened,
            order_pills_by_creation=hardened,
            poll_after_speech_during_fetch=hardened,
            abandon_link_reports_of_ended_shares=hardened,
            reread_run_after_failed_join=hardened,
            serialize_run_updates=hardened,
            cap_child_role_at_parent=False,
        )
