"""Headless Chromium driven over the DevTools protocol on a pipe: no port, no extra package.

Chromium reads commands from descriptor 3 and writes replies and events to
descriptor 4, one JSON object per message, each ended by a NUL byte. This is
enough to load a page, count the requests it makes, ask the page questions
and take screenshots.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

#: Set (to anything) where the browser test must run: it then fails instead of skipping.
REQUIRE_ENV = "SHARESIM_REQUIRE_CHROMIUM"
#: How long one protocol call may take before the browser counts as hung.
CALL_TIMEOUT_S = 60.0

_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-pipe",
)


class BrowserError(Exception):
    """Chromium answered with an error, went away, or did not answer in time."""


def find_chromium() -> str | None:
    return shutil.which("chromium")


def _pipe() -> tuple[int, int]:
    """A pipe whose ends are numbered 10 or more."""
    ends = []
    for end in os.pipe():
        ends.append(fcntl.fcntl(end, fcntl.F_DUPFD_CLOEXEC, 10))
        os.close(end)
    return ends[0], ends[1]


class Chromium:
    """One headless browser with one page; use as a context manager."""

    def __init__(self, executable: str, *, width: int = 1600, height: int = 1200) -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="sharesim-chromium-")
        to_browser_read, self._to_browser = _pipe()
        self._from_browser, from_browser_write = _pipe()
        # bash puts Chromium's pipe ends on descriptors 3 and 4, where it expects them;
        # they start above 9, so neither move can overwrite the other.
        self._process = subprocess.Popen(
            [
                "/bin/bash",
                "-c",
                f'exec "$@" 3<&{to_browser_read} 4>&{from_browser_write}',
                "bash",
                executable,
                *_FLAGS,
                f"--user-data-dir={self._profile.name}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            pass_fds=(to_browser_read, from_browser_write),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        try:
            target = self.call("Target.createTarget", url="about:blank")["targetId"]
            self._session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
                "sessionId"
            ]
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Chromium:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    # -- protocol ------------------------------------------------------------------------------

    def call(self, method: str, *, page: bool = False, **params: Any) -> dict[str, Any]:
        """Send one command (to the page's session if `page`) and return its result."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if page:
            message["sessionId"] = self._session
        try:
            os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        except BrokenPipeError:
            raise BrowserError(f"Chromium is gone (exit code {self._process.poll()})") from None
        while True:
            reply = self._receive()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def _receive(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._from_browser], [], [], CALL_TIMEOUT_S)
            if not ready:
                raise BrowserError(f"no answer from Chromium within {CALL_TIMEOUT_S:g} s")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise BrowserError("Chromium closed the protocol pipe")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\0")
        message: dict[str, Any] = json.loads(line)
        return message

    def _wait_for(self, method: str) -> dict[str, Any]:
        while True:
            for event in self.events:
                if event.get("method") == method:
                    self.events.remove(event)
                    return event
            self.events.append(self._receive())

    # -- the page ----------------------------------------------------------------------------

    def open(self, path: Path, *, before_load: str = "") -> None:
        """Load a file and wait for its load event; `before_load` runs ahead of the page's code."""
        self.call("Network.enable", page=True)
        self.call("Page.enable", page=True)
        if before_load:
            self.call("Page.addScriptToEvaluateOnNewDocument", page=True, source=before_load)
        self.call("Page.navigate", page=True, url=path.resolve().as_uri())
        self._wait_for("Page.loadEventFired")

    def requested_urls(self) -> list[str]:
        """Every URL the page asked the network for, the page itself included."""
        return [
            event["params"]["request"]["url"]
            for event in self.events
            if event.get("method") == "Network.requestWillBeSent"
        ]

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (JSON-compatible)."""
        result = self.call("Runtime.evaluate", page=True, expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def capture_region(self, path: Path, *, top: float, width: int, height: int) -> None:
        """A PNG of the page from `top`, `width` by `height` CSS pixels."""
        clip = {"x": 0, "y": top, "width": width, "height": height, "scale": 1}
        self._capture(path, clip=clip, captureBeyondViewport=True)

    def capture_viewport(self, path: Path) -> None:
        """A PNG of what the window shows (sticky elements where a person would see them)."""
        self._capture(path)

    def _capture(self, path: Path, **params: Any) -> None:
        data = self.call("Page.captureScreenshot", page=True, format="png", **params)["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        """Ask Chromium to quit; kill it if it will not."""
        try:
            if self._process.poll() is None:
                with contextlib.suppress(BrowserError, OSError):
                    self.call("Browser.close")
                try:
                    self._process.wait(timeout=CALL_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
        finally:
            os.close(self._to_browser)
            os.close(self._from_browser)
            self._profile.cleanup()
