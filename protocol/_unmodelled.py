"""Placeholder JSON for fields the real peers require but the simulation has no use for.

Emitting them keeps our frames decodable by the real crate; on the way in
their contents are ignored, though a frame without one the crate requires
(see `WireSpec.required`) is refused.
"""

from __future__ import annotations

from ._fields import JsonValue

SCROLLBACK: JsonValue = {"blocks": [], "is_alt_screen_active": False}
WINDOW_SIZE: JsonValue = {"num_rows": 24, "num_cols": 80}
PROFILE: JsonValue = {
    "firebase_uid": "",
    "display_name": "",
    "photo_url": None,
    "email": None,
    "input_replica_id": "",
}
PARTICIPANT_LIST: JsonValue = {
    "sharer": {"info": {"id": "", "profile_data": PROFILE, "selection": "None"}},
    "viewers": [],
    "present_viewers": [],
    "absent_viewers": [],
    "guests": [],
    "pending_guests": [],
}
INIT_BLOCK_ID = "block-0"
INPUT_REPLICA_ID = "replica-0"
