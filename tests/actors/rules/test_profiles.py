"""Profiles and switch overrides."""

from __future__ import annotations

import inspect

import pytest

from actors.rules import Profile, SwitchError, Switches

EXPECTED = {
    # name: (legacy, current, followups, hardened)
    "sidecar_source_task_id": (False, True, True, True),
    "discover_user_shares": (False, True, True, True),
    "cascade_user_shares": (False, True, True, True),
    "catch_up_existing_children": (False, True, True, True),
    "report_session_link": (False, True, True, True),
    "link_gate_accepts_claimed": (False, True, True, True),
    "keep_finished_local_session_id": (False, True, True, True),
    "stop_polling_when_empty": (False, True, True, True),
    "fetch_error_backoff": (False, False, True, True),
    "index_child_run_ids": (False, True, True, True),
    "backfill_parent_agent_id": (False, True, True, True),
    "push_source_task_id": (False, False, True, True),
    "sibling_name_resolution": (False, False, True, True),
    "push_child_discovery": (False, False, True, True),
    # The spec's behaviour where the shipped client differs: off but where it closes a hole.
    "stop_only_inherited_shares": (False, False, False, True),
    "dedupe_session_link": (False, False, False, False),
    "cap_child_role_at_parent": (False, False, False, False),
    # The changes that close the holes found in the follow-ups: on in hardened alone.
    "replay_source_task_id_on_rejoin": (False, False, False, True),
    "register_skipped_children": (False, False, False, True),
    "retry_name_lookup": (False, False, False, True),
    "look_up_unknown_mentions": (False, False, False, True),
    "resend_source_task_id_on_resume": (False, False, False, True),
    "reread_host_share_on_child_created": (False, False, False, True),
    "report_link_again_after_claim": (False, False, False, True),
    "create_children_in_spawn_order": (False, False, False, True),
    "accept_first_link_after_finish": (False, False, False, True),
    "order_pills_by_creation": (False, False, False, True),
    "poll_after_speech_during_fetch": (False, False, False, True),
    "abandon_link_reports_of_ended_shares": (False, False, False, True),
    "reread_run_after_failed_join": (False, False, False, True),
    "serialize_run_updates": (False, False, False, True),
}


def test_every_switch_is_in_the_table() -> None:
    assert set(Switches.names()) == set(EXPECTED)


@pytest.mark.parametrize(
    ("profile", "column"),
    [(Profile.LEGACY, 0), (Profile.CURRENT, 1), (Profile.FOLLOWUPS, 2), (Profile.HARDENED, 3)],
)
def test_profile_switches_match_the_design_table(profile: Profile, column: int) -> None:
    switches = profile.switches().to_dict()
    assert switches == {name: values[column] for name, values in EXPECTED.items()}


def test_hardened_is_followups_plus_switches_that_each_name_the_hole_they_close() -> None:
    followups, hardened = Profile.FOLLOWUPS.switches(), Profile.HARDENED.switches()
    added = {n for n, on in hardened.to_dict().items() if on and not followups.to_dict()[n]}
    assert added
    assert {n for n, on in followups.to_dict().items() if on} <= {
        n for n, on in hardened.to_dict().items() if on
    }
    source = inspect.getsource(Switches)
    for name in added:
        comment = source.split(f"    {name}: bool")[0].rsplit(": bool", 1)[-1]
        assert "Closes the hole" in comment, name


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
