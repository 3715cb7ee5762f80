"""The scheduler hook: a clear error when Trio lacks it, and Trio left as it was after a run."""

from __future__ import annotations

import random

import pytest
import trio
import trio._core._run as trio_run

from actors.runtime.determinism import SchedulerHookMissing
from actors.runtime.simulation import run_seeded
from scenarios.cli import main

SWITCH = "_ALLOW_DETERMINISTIC_SCHEDULING"
GENERATOR = "_r"


def hook_state() -> tuple[bool, object]:
    generator: random.Random = getattr(trio_run, GENERATOR)
    return getattr(trio_run, SWITCH), generator.getstate()


async def switch_during_run() -> bool:
    await trio.sleep(1)
    switch: bool = getattr(trio_run, SWITCH)
    return switch


@pytest.mark.parametrize("name", [SWITCH, GENERATOR])
def test_a_trio_without_the_private_hook_gets_a_clear_error_before_any_run(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(trio_run, name)
    ran = []

    async def main() -> None:
        ran.append(True)

    with pytest.raises(SchedulerHookMissing) as raised:
        run_seeded(main, seed=1)
    message = str(raised.value)
    assert f"trio._core._run.{name}" in message
    assert trio.__version__ in message
    assert "pyproject.toml" in message
    assert ran == []


def test_a_hook_of_another_kind_is_refused_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trio_run, GENERATOR, object())

    async def main() -> None:
        raise AssertionError("must not run")

    with pytest.raises(SchedulerHookMissing, match=r"a random\.Random at trio\._core\._run\._r"):
        run_seeded(main, seed=1)


@pytest.mark.parametrize("switch_before", [False, True])
def test_a_run_leaves_the_switch_and_the_generator_as_it_found_them(
    switch_before: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trio_run, SWITCH, switch_before)
    getattr(trio_run, GENERATOR).seed("state before the run")
    before = hook_state()
    assert run_seeded(switch_during_run, seed=3) is True
    assert hook_state() == before


def test_a_run_that_fails_still_restores_the_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trio_run, SWITCH, False)
    before = hook_state()

    async def main() -> None:
        await trio.sleep(1)
        raise LookupError("boom")

    with pytest.raises(LookupError, match="boom"):
        run_seeded(main, seed=3)
    assert hook_state() == before


def test_the_command_line_reports_a_missing_hook_in_words(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delattr(trio_run, GENERATOR)
    assert main(["run", "local-local-share-parent"]) == 2
    err = capsys.readouterr().err
    assert "\nsharesim run: trio " in err
    assert "pyproject.toml" in err
    assert "Traceback" not in err
