"""The rules load without the engine: importing them must not pull in Trio or structlog."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_rules_loads_no_trio_and_no_structlog() -> None:
    script = (
        "import sys, actors.rules, actors.rules.session_store, actors.rules.task_store\n"
        "print(sorted(m for m in ('trio', 'structlog', 'trio_websocket') if m in sys.modules))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"
