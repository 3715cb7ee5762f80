"""The host's session-link report: guards, the shipped client's repeats, the spec's dedupe."""

from __future__ import annotations

import pytest

from actors.rules import LinkDecision, LinkReason, Profile, SessionLinkReporter


def _reporter(profile: Profile = Profile.CURRENT) -> SessionLinkReporter:
    return SessionLinkReporter(profile.switches())


def _spec_reporter() -> SessionLinkReporter:
    return SessionLinkReporter(
        Profile.CURRENT.switches().with_overrides({"dedupe_session_link": True})
    )


def test_the_shipped_client_reports_every_establishment() -> None:
    reporter = _reporter()
    for _ in range(2):
        decision = reporter.share_established(
            task_id="c1", session_id="s1", is_viewer=False, is_remote_child=False
        )
        assert decision == LinkDecision(LinkReason.REPORT, "c1", "s1")


def test_the_spec_reports_an_owned_local_share_once() -> None:
    reporter = _spec_reporter()
    first = reporter.share_established(
        task_id="c1", session_id="s1", is_viewer=False, is_remote_child=False
    )
    assert first == LinkDecision(LinkReason.REPORT, "c1", "s1")
    assert first.report
    again = reporter.share_established(
        task_id="c1", session_id="s1", is_viewer=False, is_remote_child=False
    )
    assert again == LinkDecision(LinkReason.DUPLICATE)
    assert not again.report


def test_a_new_session_for_the_same_task_is_reported() -> None:
    reporter = _spec_reporter()
    reporter.share_established(
        task_id="c1", session_id="s1", is_viewer=False, is_remote_child=False
    )
    later = reporter.share_established(
        task_id="c1", session_id="s2", is_viewer=False, is_remote_child=False
    )
    assert later == LinkDecision(LinkReason.REPORT, "c1", "s2")


@pytest.mark.parametrize(
    ("task_id", "session_id", "is_viewer", "is_remote_child", "reason"),
    [
        ("c1", "s1", True, False, LinkReason.VIEWER),
        ("c1", "s1", False, True, LinkReason.REMOTE_CHILD),
        (None, "s1", False, False, LinkReason.MISSING_TASK_ID),
        ("c1", None, False, False, LinkReason.MISSING_SESSION_ID),
    ],
)
def test_guards_refuse_and_do_not_consume_the_dedupe_slot(
    task_id: str | None,
    session_id: str | None,
    is_viewer: bool,
    is_remote_child: bool,
    reason: LinkReason,
) -> None:
    reporter = _spec_reporter()
    decision = reporter.share_established(
        task_id=task_id, session_id=session_id, is_viewer=is_viewer, is_remote_child=is_remote_child
    )
    assert decision == LinkDecision(reason)
    assert not decision.report
    owned = reporter.share_established(
        task_id="c1", session_id="s1", is_viewer=False, is_remote_child=False
    )
    assert owned.report


def test_legacy_never_reports() -> None:
    decision = _reporter(Profile.LEGACY).share_established(
        task_id="c1", session_id="s1", is_viewer=False, is_remote_child=False
    )
    assert decision == LinkDecision(LinkReason.DISABLED)
