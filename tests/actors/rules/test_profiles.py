"""Profiles and switch overrides."""

from __future__ import annotations

import pytest

from actors.rules import Profile, SwitchError, Switches

EXPECTED = {
    # name: (legacy, current, followups)
    "sidecar_source_task_id": (False, True, True),
    "discover_user_shares": (False, True, True),
    "cascade_user_shares": (False, True, True),
    "catch_up_existing_children": (False, True, True),
    "report_session_link": (False, True, True),
    "link_gate_accepts_claimed": (False, True, True),
    "keep_finished_local_session_id": (False, True, True),
    "stop_polling_when_empty": (False, True, True),
    "fetch_error_backoff": (False, False, True),
    "index_child_run_ids": (False, True, True),
    "backfill_parent_agent_id": (False, True, True),
    "push_source_task_id": (False, False, True),
    "sibling_name_resolution": (False, False, True),
    "push_child_discovery": (False, False, True),
    # The spec's behaviour where the shipped client differs: off in every profile.
    "stop_only_inherited_shares": (False, False, False),
    "dedupe_session_link": (False, False, False),
    "cap_child_role_at_parent": (False, False, False),
}


def test_every_switch_is_in_the_table() -> None:
    assert set(Switches.names()) == set(EXPECTED)


@pytest.mark.parametrize(
    ("profile", "column"), [(Profile.LEGACY, 0), (Profile.CURRENT, 1), (Profile.FOLLOWUPS, 2)]
)
def test_profile_switches_match_the_design_table(profile: Profile, column: int) -> None:
    switches = profile.switches().to_dict()
    assert switches == {name: values[column] for name, values in EXPECTED.items()}


def test_override_sets_only_the_named_switch() -> None:
    base = Profile.CURRENT.switches()
    changed = base.with_overrides({"stop_polling_when_empty": False})
    assert changed.stop_polling_when_empty is False
    assert {k: v for k, v in changed.to_dict().items() if k != "stop_polling_when_empty"} == {
        k: v for k, v in base.to_dict().items() if k != "stop_polling_when_empty"
    }
    assert base.stop_polling_when_empty is True


def test_unknown_switch_is_rejected_with_the_valid_names() -> None:
    with pytest.raises(SwitchError) as raised:
        Profile.LEGACY.switches().with_overrides(
            {"stop_polling": True, "cascade_user_shares": True}
        )
    message = str(raised.value)
    assert "stop_polling" in message
    for name in Switches.names():
        assert name in message


def test_non_bool_override_is_rejected() -> None:
    with pytest.raises(SwitchError, match="index_child_run_ids must be true or false"):
        Profile.CURRENT.switches().with_overrides({"index_child_run_ids": "yes"})
