"""Share stamping, creation-time cascade, sidecar upgrade, catch-up and stop cascade."""

from __future__ import annotations

import pytest

from actors.rules import (
    CascadeLedger,
    CatchUp,
    LocalChild,
    PaneShareState,
    Profile,
    ShareKind,
    ShareSource,
    Switches,
    catch_up_candidates,
    inherit_share_for_local_child,
    share_source,
    stops_with_host,
    upgrade_sidecar,
)
from protocol.source import AmbientAgent, User

CURRENT = Profile.CURRENT.switches()
LEGACY = Profile.LEGACY.switches()


@pytest.mark.parametrize(
    ("kind", "task_id", "profile", "expected"),
    [
        (ShareKind.USER, "t1", Profile.LEGACY, ShareSource(User(), None)),
        (ShareKind.USER, "t1", Profile.CURRENT, ShareSource(User(), "t1")),
        (ShareKind.USER, None, Profile.CURRENT, ShareSource(User(), None)),
        (ShareKind.AMBIENT, "t1", Profile.LEGACY, ShareSource(AmbientAgent("t1"), None)),
        (ShareKind.AMBIENT, "t1", Profile.FOLLOWUPS, ShareSource(AmbientAgent("t1"), "t1")),
    ],
)
def test_fresh_share_follows_the_sidecar_switch(
    kind: ShareKind, task_id: str | None, profile: Profile, expected: ShareSource
) -> None:
    assert share_source(kind, task_id, profile.switches()) == expected


# Host kind x host task-id state x profile -> what a new local child "c" starts with.
_CASES = [
    (None, None, Profile.LEGACY, None),
    (None, None, Profile.CURRENT, None),
    (None, None, Profile.FOLLOWUPS, None),
    (ShareKind.USER, None, Profile.LEGACY, None),
    (ShareKind.USER, None, Profile.CURRENT, None),
    (ShareKind.USER, None, Profile.FOLLOWUPS, None),
    (ShareKind.USER, "h", Profile.LEGACY, None),
    (ShareKind.USER, "h", Profile.CURRENT, ShareSource(User(), "c")),
    (ShareKind.USER, "h", Profile.FOLLOWUPS, ShareSource(User(), "c")),
    (ShareKind.AMBIENT, None, Profile.LEGACY, None),
    (ShareKind.AMBIENT, None, Profile.CURRENT, None),
    (ShareKind.AMBIENT, None, Profile.FOLLOWUPS, None),
    (ShareKind.AMBIENT, "h", Profile.LEGACY, ShareSource(AmbientAgent("c"), None)),
    (ShareKind.AMBIENT, "h", Profile.CURRENT, ShareSource(AmbientAgent("c"), "c")),
    (ShareKind.AMBIENT, "h", Profile.FOLLOWUPS, ShareSource(AmbientAgent("c"), "c")),
]


@pytest.mark.parametrize(("host_kind", "host_task_id", "profile", "expected"), _CASES)
def test_creation_time_cascade(
    host_kind: ShareKind | None,
    host_task_id: str | None,
    profile: Profile,
    expected: ShareSource | None,
) -> None:
    switches = profile.switches()
    host = None if host_kind is None else share_source(host_kind, host_task_id, switches)
    assert inherit_share_for_local_child(host, "c", switches) == expected


def test_child_gets_its_own_task_id_not_the_hosts() -> None:
    inherited = inherit_share_for_local_child(ShareSource(User(), "h"), "c", CURRENT)
    assert inherited is not None
    assert inherited.orchestrator_task_id == "c"


def test_user_cascade_switch_alone_blocks_a_user_host_with_a_sidecar() -> None:
    switches = CURRENT.with_overrides({"cascade_user_shares": False})
    assert inherit_share_for_local_child(ShareSource(User(), "h"), "c", switches) is None
    ambient = ShareSource(AmbientAgent("h"), "h")
    assert inherit_share_for_local_child(ambient, "c", switches) == ShareSource(
        AmbientAgent("c"), "c"
    )


def test_legacy_rules_ignore_a_sidecar_only_because_user_hosts_do_not_cascade() -> None:
    assert inherit_share_for_local_child(ShareSource(User(), "h"), "c", LEGACY) is None


def test_sidecar_upgrade_on_first_response() -> None:
    assert upgrade_sidecar(ShareSource(User(), None), "t9", CURRENT) == ShareSource(User(), "t9")


@pytest.mark.parametrize(
    ("host", "switches"),
    [
        (ShareSource(User(), "t1"), CURRENT),
        (ShareSource(AmbientAgent(None), None), CURRENT),
        (ShareSource(User(), None), LEGACY),
    ],
)
def test_sidecar_upgrade_reports_no_change(host: ShareSource, switches: Switches) -> None:
    assert upgrade_sidecar(host, "t9", switches) is None


def test_upgraded_host_cascades_to_later_children() -> None:
    host = ShareSource(User(), None)
    assert inherit_share_for_local_child(host, "c", CURRENT) is None
    upgraded = upgrade_sidecar(host, "h", CURRENT)
    assert inherit_share_for_local_child(upgraded, "c", CURRENT) == ShareSource(User(), "c")


def _child(
    task_id: str | None,
    *,
    parent: str = "h",
    alive: bool = True,
    state: PaneShareState = PaneShareState.NOT_SHARED,
) -> LocalChild:
    return LocalChild(parent_task_id=parent, task_id=task_id, pane_alive=alive, share_state=state)


def test_catch_up_picks_only_eligible_direct_children() -> None:
    host = ShareSource(User(), "h")
    children = [
        _child("c1"),
        _child(None),
        _child("c2", alive=False),
        _child("c3", state=PaneShareState.SHARING),
        _child("remote", state=PaneShareState.VIEWING),
        _child("grandchild", parent="c1"),
        _child("c4"),
    ]
    assert catch_up_candidates(host, children, CURRENT) == (
        CatchUp("c1", ShareSource(User(), "c1")),
        CatchUp("c4", ShareSource(User(), "c4")),
    )


def test_catch_up_is_off_in_legacy_even_for_ambient_hosts() -> None:
    host = ShareSource(AmbientAgent("h"), None)
    assert catch_up_candidates(host, [_child("c1")], LEGACY) == ()


def test_catch_up_needs_a_host_task_id() -> None:
    assert catch_up_candidates(ShareSource(User(), None), [_child("c1")], CURRENT) == ()


def test_ledger_catch_up_runs_once_per_establishment() -> None:
    ledger = CascadeLedger()
    host = ShareSource(User(), "h")
    first = ledger.catch_up(host, "s1", [_child("c1")], CURRENT)
    assert [item.task_id for item in first] == ["c1"]
    assert ledger.catch_up(host, "s1", [_child("c1"), _child("c2")], CURRENT) == ()
    again = ledger.catch_up(host, "s2", [_child("c2")], CURRENT)
    assert [item.task_id for item in again] == ["c2"]
    assert ledger.inherited_from("h") == ("c1", "c2")


def test_stop_reaches_inherited_children_recursively_and_nothing_else() -> None:
    ledger = CascadeLedger()
    host = ShareSource(User(), "h")
    assert ledger.share_new_child(host, "c1", CURRENT) is not None
    assert ledger.share_new_child(host, "c2", CURRENT) is not None
    ledger.share_new_child(ShareSource(User(), "c1"), "g1", CURRENT)
    # An independently shared cloud child never goes through the ledger.
    ledger.share_new_child(ShareSource(AmbientAgent("other"), "other"), "x", CURRENT)
    assert ledger.stop("h") == ("c1", "g1", "c2")
    assert ledger.inherited_from("h") == ()
    assert ledger.inherited_from("c1") == ()
    assert ledger.inherited_from("other") == ("x",)
    assert ledger.stop("h") == ()


def test_children_that_did_not_inherit_are_not_recorded() -> None:
    ledger = CascadeLedger()
    assert ledger.share_new_child(ShareSource(User(), None), "c1", CURRENT) is None
    assert ledger.share_new_child(None, "c2", CURRENT) is None
    assert ledger.stop("h") == ()


def test_forget_removes_a_closed_pane_as_host_and_as_child() -> None:
    ledger = CascadeLedger()
    ledger.share_new_child(ShareSource(User(), "h"), "c1", CURRENT)
    ledger.share_new_child(ShareSource(User(), "h"), "c2", CURRENT)
    ledger.share_new_child(ShareSource(User(), "c1"), "g1", CURRENT)
    ledger.forget("c1")
    assert ledger.inherited_from("h") == ("c2",)
    assert ledger.inherited_from("c1") == ()
    assert ledger.stop("h") == ("c2",)


@pytest.mark.parametrize(
    ("sharing", "inherited", "shipped", "spec"),
    [
        (True, True, True, True),
        # The user stopped the inherited share and shared the child again by hand.
        (True, False, True, False),
        (False, False, False, False),
    ],
)
def test_a_host_stop_ends_any_share_of_its_cascade_set_unless_the_spec_switch_is_on(
    sharing: bool, inherited: bool, shipped: bool, spec: bool
) -> None:
    spec_switches = CURRENT.with_overrides({"stop_only_inherited_shares": True})
    assert stops_with_host(sharing=sharing, inherited=inherited, switches=CURRENT) is shipped
    assert stops_with_host(sharing=sharing, inherited=inherited, switches=spec_switches) is spec
