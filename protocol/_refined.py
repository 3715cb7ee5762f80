"""Wire types narrower than the Python types that hold them: the crate's `usize` and `Uuid`.

They are written as `Annotated` aliases, so code that builds messages passes
plain ints and strings while the decoder refuses what the crate would refuse.
"""

from __future__ import annotations

import abc
import re
import uuid
from dataclasses import dataclass
from typing import Annotated, Any, TypeAlias


class Refinement(abc.ABC):
    """A rule a decoded value must also meet, with the words that describe it in errors."""

    @property
    @abc.abstractmethod
    def description(self) -> str:
        """What a fitting value looks like, e.g. 'a UUID string'."""

    @abc.abstractmethod
    def refine(self, value: Any) -> Any:
        """`value` as the crate would hold it; ValueError when it does not fit."""


@dataclass(frozen=True, slots=True)
class Unsigned(Refinement):
    """An unsigned integer no larger than `maximum`."""

    maximum: int

    @property
    def description(self) -> str:
        return f"an integer from 0 to {self.maximum}"

    def refine(self, value: int) -> int:
        if not 0 <= value <= self.maximum:
            raise ValueError(f"{value} is out of range")
        return value


_HEX = "[0-9a-fA-F]"
_HYPHENATED = f"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}"
_UUID_FORMS = re.compile(
    f"{_HEX}{{32}}|{_HYPHENATED}|\\{{{_HYPHENATED}\\}}|urn:uuid:{_HYPHENATED}", re.ASCII
)
"""The four forms the crate's uuid parser reads: simple, hyphenated, braced and URN."""


@dataclass(frozen=True, slots=True)
class UuidText(Refinement):
    """A UUID in any form the crate reads, kept in the form it writes (lower-case, hyphenated)."""

    @property
    def description(self) -> str:
        return "a UUID string"

    def refine(self, value: str) -> str:
        if _UUID_FORMS.fullmatch(value) is None:
            raise ValueError(f"{value!r} is not a UUID")
        return str(uuid.UUID(hex=value.removeprefix("urn:uuid:")))


Usize: TypeAlias = Annotated[int, Unsigned(2**64 - 1)]
"""The crate's `usize`: 64 bits wide on the servers it runs on."""

Uuid: TypeAlias = Annotated[str, UuidText()]
"""A field the crate types as `Uuid` (or a newtype around one), such as `SessionId`."""
