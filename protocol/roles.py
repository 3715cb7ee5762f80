"""What a participant may do in a shared session."""

from __future__ import annotations

import enum


class Role(enum.Enum):
    """A participant's role, weakest first; new viewers start as readers."""

    READER = "Reader"
    EXECUTOR = "Executor"
    FULL = "Full"
    """Executor, and may change other participants' access as well."""

    @property
    def rank(self) -> int:
        """Position in the order of power: Reader < Executor < Full."""
        return list(Role).index(self)

    def at_most(self, cap: Role) -> Role:
        """This role, lowered to `cap` if it is stronger (e.g. Full for clients that lack it)."""
        return self if self.rank <= cap.rank else cap

    @property
    def can_execute(self) -> bool:
        """Whether agent prompts (and input, commands, control actions) are allowed."""
        return self is not Role.READER
