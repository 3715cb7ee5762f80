"""View context built from a join."""

from __future__ import annotations

from actors.rules import ViewContext, ViewScope
from protocol.source import AmbientAgent, User


def test_user_share_is_recognised() -> None:
    assert ViewContext.of(ViewScope.CHILD, User()) == ViewContext(ViewScope.CHILD, user_share=True)


def test_ambient_share_is_not_a_user_share() -> None:
    view = ViewContext.of(ViewScope.PARENT, AmbientAgent("t1"))
    assert view == ViewContext(ViewScope.PARENT, user_share=False)
