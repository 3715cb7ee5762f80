"""Designs as commands name them: profiles, profile lists and `--set SWITCH=BOOL` overrides.

Every output names the design a run had, profile and overrides both, so a
result is never read as the profile's when a switch was flipped. The one-line
meanings of the switches live here, beside the words commands use for them;
the switches themselves, and their longer reasons, are in `actors.rules.profiles`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from actors.rules.profiles import Profile, SwitchError, Switches
from scenarios.usage import UsageError

#: What each switch turns on, in one line (`sharesim profiles` shows them).
MEANINGS: dict[str, str] = {
    "sidecar_source_task_id": "User shares carry the conversation's task id in source_task_id",
    "discover_user_shares": "root viewers discover the children of User shares, "
    "not only of AmbientAgent ones",
    "cascade_user_shares": "local children inherit a User host's share, "
    "not only an AmbientAgent host's",
    "catch_up_existing_children": "children spawned before the host's share are shared "
    "once it is established",
    "report_session_link": "a host reports a local share's session id on its run's task row",
    "link_gate_accepts_claimed": "the task server takes a session link while CLAIMED, "
    "not only RUNNING",
    "keep_finished_local_session_id": "a finished local run keeps its session id in listings",
    "stop_polling_when_empty": "an empty child list stops polling until the orchestrator "
    "speaks again",
    "fetch_error_backoff": "a failed child fetch is retried later and later, and repeated "
    "refusals stop polling",
    "index_child_run_ids": "viewers index child run ids, so transcript mentions resolve to names",
    "backfill_parent_agent_id": "children registered before the root's run id was known get it "
    "as their parent id",
    "push_source_task_id": "the sharer pushes a late source_task_id to viewers already joined",
    "sibling_name_resolution": "child-link viewers resolve parent and sibling names, without pills",
    "push_child_discovery": "root viewers take one snapshot, then a task-server stream of child "
    "changes, not polls",
    "stop_only_inherited_shares": "a host's stop ends only the shares its cascade started (spec)",
    "dedupe_session_link": "a session link is reported once per (task_id, session_id) (spec)",
    "replay_source_task_id_on_rejoin": "a viewer rejoining after the task id was pushed gets "
    "it again",
    "register_skipped_children": "children streamed before the parent conversation are kept "
    "and shown when it arrives",
    "retry_name_lookup": "a child link's name lookup that got no answer is tried again",
    "look_up_unknown_mentions": "a child link asks for names again when a transcript mentions "
    "an agent they did not name",
    "resend_source_task_id_on_resume": "a share sends its upgraded task id again each time it "
    "resumes",
    "reread_host_share_on_child_created": "a new local child inherits the host's share as it "
    "is when the child's row comes back",
    "report_link_again_after_claim": "a session link the gate refused before the run's claim "
    "is reported again after it",
    "create_children_in_spawn_order": "a host asks for one child's row at a time, in spawn order",
    "accept_first_link_after_finish": "the task server takes the first session link of a run "
    "that finished without one",
    "order_pills_by_creation": "viewers order child pills by when the rows were created",
    "poll_after_speech_during_fetch": "an orchestrator exchange during a fetch makes an empty "
    "answer fetch again instead of idling",
    "abandon_link_reports_of_ended_shares": "a host stops retrying the link report of a share "
    "that has ended",
    "reread_run_after_failed_join": "a run page whose join was refused reads the run again "
    "for another session",
    "serialize_run_updates": "a host sends its run's updates one at a time, in order",
    "cap_child_role_at_parent": "a child pane's role never exceeds the viewer's parent role (spec)",
}

ALL_PROFILES = "all"


def parse_profiles(text: str) -> tuple[Profile, ...]:
    """`all`, or profile names separated by commas, in the order given."""
    if text.strip() == ALL_PROFILES:
        return tuple(Profile)
    profiles: list[Profile] = []
    for word in filter(None, (part.strip() for part in text.split(","))):
        try:
            profile = Profile(word)
        except ValueError:
            valid = ", ".join(p.value for p in Profile)
            raise UsageError(
                f"unknown profile {word!r}; valid profiles: {valid}, or {ALL_PROFILES}"
            ) from None
        if profile not in profiles:
            profiles.append(profile)
    if not profiles:
        raise UsageError(f"--profile needs a profile name or {ALL_PROFILES}")
    return tuple(profiles)


def parse_settings(settings: Iterable[str]) -> dict[str, bool]:
    """`SWITCH=true|false` settings as a mapping; unknown switches are refused."""
    overrides: dict[str, bool] = {}
    for setting in settings:
        name, sep, value = setting.partition("=")
        if not sep or value.strip().lower() not in ("true", "false"):
            raise UsageError(f"--set expects SWITCH=true or SWITCH=false, got {setting!r}")
        overrides[name.strip()] = value.strip().lower() == "true"
    try:
        Profile.CURRENT.switches().with_overrides(overrides)
    except SwitchError as error:
        raise UsageError(str(error)) from None
    return overrides


def switches_for(profile: Profile, overrides: Mapping[str, bool]) -> Switches:
    return profile.switches().with_overrides(overrides)


@dataclass(frozen=True, slots=True)
class Design:
    """One run's switches and where they came from: the profile, the scenario file, `--set`.

    The command line wins: a `--set` replaces whatever the file pins for that switch, so
    an engineer can always flip a mechanism, and every output says when that happened.
    """

    profile: Profile
    switches: Switches
    #: The file's settings in force (those `--set` did not replace), as the file gives them.
    pinned: dict[str, bool]
    #: The file's settings the command line replaced with another value, as the file gives them.
    overruled: dict[str, bool]
    #: What `--set` asked for.
    settings: dict[str, bool]

    @classmethod
    def of(
        cls, profile: Profile, pinned: Mapping[str, bool], settings: Mapping[str, bool]
    ) -> Design:
        return cls(
            profile,
            profile.switches().with_overrides({**pinned, **settings}),
            {name: on for name, on in pinned.items() if name not in settings},
            {name: on for name, on in pinned.items() if settings.get(name, on) != on},
            dict(settings),
        )

    @property
    def overrides(self) -> dict[str, bool]:
        return overrides_of(self.profile, self.switches)

    @property
    def name(self) -> str:
        return design_name(self.profile, self.overrides, pinned=self.pinned)


def overrides_of(profile: Profile, switches: Switches) -> dict[str, bool]:
    """The switches that differ from the profile's own values, in declaration order."""
    defaults = profile.switches().to_dict()
    return {name: on for name, on in switches.to_dict().items() if defaults[name] != on}


def settings_of(overrides: Mapping[str, bool]) -> list[str]:
    """Overrides as the `SWITCH=BOOL` words `--set` takes."""
    return [f"{name}={str(on).lower()}" for name, on in overrides.items()]


def design_name(
    profile: Profile, overrides: Mapping[str, bool], *, pinned: Mapping[str, bool] | None = None
) -> str:
    """`current`, or `current with report_session_link=false` when switches were flipped.

    A flip the scenario file made is marked `(file)`: `current with push_child_discovery=true
    (file)`; a pin that keeps the profile's own value changes nothing and is not named.
    """
    pinned = pinned or {}
    settings = [
        setting + (" (file)" if name in pinned else "")
        for name, setting in zip(overrides, settings_of(overrides), strict=True)
    ]
    return profile.value + (f" with {', '.join(settings)}" if settings else "")
