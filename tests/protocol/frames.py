"""Frames shaped as the real crate writes them, for golden tests."""

from __future__ import annotations

from typing import Any

JsonObject = dict[str, Any]

SESSION_ID = "5f0c1b9e-8d2a-4c3e-9b7a-2e6f4d1c0a83"
"""A session id as the real server writes one: a UUID, lower-case and hyphenated."""


def _participant(pid: str, uid: str, name: str, replica: str) -> JsonObject:
    return {
        "id": pid,
        "profile_data": {
            "firebase_uid": uid,
            "display_name": name,
            "photo_url": None,
            "email": f"{uid}@example.com",
            "input_replica_id": replica,
        },
        "selection": "None",
    }


def sharer_initialize(**overrides: Any) -> JsonObject:
    """A sharer Initialize as a current client sends it; `overrides` replace or drop fields."""
    payload: JsonObject = {
        "scrollback": {"blocks": [{"raw": [36, 32, 108, 115, 10]}], "is_alt_screen_active": False},
        "active_prompt": "PS1",
        "window_size": {"num_rows": 24, "num_cols": 80},
        "user_id": {"anonymous_id": "anon-1", "firebase_id_token": None},
        "selection": "None",
        "init_block_id": "b0",
        "input_replica_id": "r0",
        "telemetry_context": None,
        "lifetime": "Ephemeral",
        "universal_developer_input_context": None,
        "source_type": {"AmbientAgent": {"task_id": "T1"}},
        "source_task_id": "T1",
        "feature_support": {
            "supports_agent_view": True,
            "supports_full_role": False,
            "supports_full_role_for_real": True,
        },
    }
    return {"Initialize": _apply(payload, overrides)}


def participant_list() -> JsonObject:
    """The participants of a session with its sharer and one present viewer."""
    sharer = _participant("sharer-1", "uid-sharer", "Orchestrator host", "replica-s")
    viewer = _participant("viewer-7", "uid-viewer", "Viewer", "replica-v")
    return {
        "sharer": {"info": sharer},
        "viewers": [{"info": viewer, "role": "Reader", "is_present": True}],
        "present_viewers": [{"info": viewer, "max_acl": "Reader"}],
        "absent_viewers": [],
        "guests": [],
        "pending_guests": [],
    }


def session_initialized(**overrides: Any) -> JsonObject:
    """The real server's answer to a sharer's Initialize."""
    body: JsonObject = {
        "session_id": SESSION_ID,
        "session_secret": "secret-1",
        "reconnect_token": "token-1",
        "sharer_id": "sharer-1",
        "sharer_firebase_uid": "uid-sharer",
    }
    return {"SessionInitialized": _apply(body, overrides)}


def session_reconnected(**overrides: Any) -> JsonObject:
    """The real server's answer to a sharer's Reconnect."""
    body: JsonObject = {"last_received_event_no": 12, "participant_list": participant_list()}
    return {"SessionReconnected": _apply(body, overrides)}


def joined_successfully(**overrides: Any) -> JsonObject:
    """A JoinedSuccessfully as the real server sends it to a new viewer of an orchestrator."""
    body: JsonObject = {
        "scrollback": {"blocks": [{"raw": [104, 105, 10]}], "is_alt_screen_active": False},
        "active_prompt": {"WarpPrompt": '{"ps1":"$ "}'},
        "latest_event_no": 41,
        "window_size": {"num_rows": 40, "num_cols": 120},
        "participant_list": participant_list(),
        "viewer_id": "viewer-7",
        "viewer_firebase_uid": "uid-viewer",
        "init_block_id": "block-3",
        "input_replica_id": "replica-v",
        "universal_developer_input_context": {
            "selected_model": "auto",
            "input_mode": {"input_type": "AI", "is_locked": False},
            "selected_conversation": "NewConversation",
            "auto_approve_agent_actions": None,
            "cli_agent_session": "Inactive",
        },
        "source_type": "AmbientAgent",
        "detailed_source_type": {"AmbientAgent": {"task_id": "T1"}},
        "source_task_id": "T1",
    }
    return {"JoinedSuccessfully": _apply(body, overrides)}


def _apply(body: JsonObject, overrides: dict[str, Any]) -> JsonObject:
    """Replace fields; an override of `...` removes the field, as an older peer would."""
    for key, value in overrides.items():
        if value is ...:
            del body[key]
        else:
            body[key] = value
    return body
