"""Whether a host reports a local share's session id on the run's task row.

Only the client that owns the share may write the link, so every refusal
carries a reason the actor can log. The spec asks for one report per
(task_id, session_id); the shipped client keeps no such set and reports every
establishment, which `dedupe_session_link` switches between.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from actors.rules.profiles import Switches


class LinkReason(enum.Enum):
    """Why a session link was or was not reported."""

    REPORT = "report"
    DISABLED = "disabled"
    VIEWER = "viewer"
    REMOTE_CHILD = "remote_child"
    MISSING_TASK_ID = "missing_task_id"
    MISSING_SESSION_ID = "missing_session_id"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class LinkDecision:
    """The outcome for one established share; the ids are set only when reporting."""

    reason: LinkReason
    task_id: str | None = None
    session_id: str | None = None

    @property
    def report(self) -> bool:
        """Call update_agent_task(task_id, session_id=session_id)."""
        return self.reason is LinkReason.REPORT


class SessionLinkReporter:
    """One host's guard in front of update_agent_task(task_id, session_id)."""

    def __init__(self, switches: Switches) -> None:
        self._switches = switches
        self._reported: set[tuple[str, str]] = set()

    def share_established(
        self,
        *,
        task_id: str | None,
        session_id: str | None,
        is_viewer: bool,
        is_remote_child: bool,
    ) -> LinkDecision:
        """Decide for one established share.

        A viewer never owns the session and a remote-child placeholder is linked
        by its cloud worker, so neither may write the link. Under the spec a
        report is remembered so the same pair is never reported twice.
        """
        if not self._switches.report_session_link:
            return LinkDecision(LinkReason.DISABLED)
        if is_viewer:
            return LinkDecision(LinkReason.VIEWER)
        if is_remote_child:
            return LinkDecision(LinkReason.REMOTE_CHILD)
        if task_id is None:
            return LinkDecision(LinkReason.MISSING_TASK_ID)
        if session_id is None:
            return LinkDecision(LinkReason.MISSING_SESSION_ID)
        if self._switches.dedupe_session_link:
            if (task_id, session_id) in self._reported:
                return LinkDecision(LinkReason.DUPLICATE)
            self._reported.add((task_id, session_id))
        return LinkDecision(LinkReason.REPORT, task_id, session_id)
