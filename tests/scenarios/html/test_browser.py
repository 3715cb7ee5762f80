"""A report page as a person sees it, in headless Chromium: lifelines, arrows, pills, no fetches.

Needs the `chromium` command (Debian package `chromium`). Without it the tests
skip, saying so; where `SHARESIM_REQUIRE_CHROMIUM` is set (CI) they fail instead.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from actors.rules.profiles import Profile
from actors.runtime.trace import Trace
from scenarios import catalog
from scenarios.cli import main
from scenarios.html import RecordedRun, run_page
from scenarios.html.sequence_svg import CHAPTER_ROWS
from scenarios.recording import Recording
from scenarios.runner import RunResult
from tests.scenarios.html.chromium import REQUIRE_ENV, Chromium, find_chromium

#: Runs before the page's own code: keeps every request the page's policy had to block.
WATCH_POLICY = """
window.blockedByPolicy = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.blockedByPolicy.push(event.blockedURI);
});
"""

#: What a person would see: only elements the browser renders, with a size, count (a straight
#: line's box has no width or no height; an element in a closed chapter is not rendered).
LOOK = """
(function () {
  function shown(element) {
    var box = element.getBoundingClientRect();
    return (box.width > 0 || box.height > 0) &&
      element.checkVisibility({visibilityProperty: true, contentVisibilityAuto: true});
  }
  function all(selector) {
    return Array.prototype.filter.call(document.querySelectorAll(selector), shown);
  }
  return JSON.stringify({
    lifelines: all("svg.seq line.lifeline").map(function (e) { return e.dataset.actor; }),
    heads: all("svg.heads g.actor text").map(function (e) { return e.textContent; }),
    arrows: all("svg.seq g.msg line, svg.seq g.msg path").length,
    folded: all("svg.seq g.repeat").reduce(function (sum, e) {
      return sum + Number(e.dataset.messages);
    }, 0),
    lanes: all("svg.pills g.lane").map(function (lane) {
      return {
        label: lane.querySelector(".lane-label").textContent,
        outcome: lane.querySelector(".outcome").textContent,
        states: Array.prototype.map.call(lane.querySelectorAll(".segment"), function (s) {
          return s.dataset.state;
        }),
      };
    }),
    resources: performance.getEntriesByType("resource").map(function (e) { return e.name; }),
    blocked: window.blockedByPolicy,
  });
})()
"""


@pytest.fixture
def browser() -> Iterator[Chromium]:
    executable = find_chromium()
    if executable is None:
        missing = (
            "the browser test needs Chromium, and `chromium` is not on PATH "
            "(Debian: apt-get install chromium)"
        )
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(f"{missing}; {REQUIRE_ENV} is set, so it must run here")
        pytest.skip(missing)
    with Chromium(executable) as chromium:
        yield chromium


def look(browser: Chromium, page: Path) -> dict[str, Any]:
    browser.open(page, before_load=WATCH_POLICY)
    seen: dict[str, Any] = json.loads(browser.evaluate(LOOK))
    seen["requests"] = [url for url in browser.requested_urls() if url != page.resolve().as_uri()]
    return seen


def test_a_run_page_shows_every_actor_message_and_pill(browser: Chromium, tmp_path: Path) -> None:
    page, trace_file = tmp_path / "run.html", tmp_path / "trace.jsonl"
    args = ["run", "local-local-share-parent", "--report", str(page), "--trace", str(trace_file)]
    assert main(args) == 0
    _header, *trace = [json.loads(line) for line in trace_file.read_text().splitlines()]
    actors = {record["from"] for record in trace} | {record["to"] for record in trace}

    seen = look(browser, page)

    assert sorted(seen["lifelines"]) == sorted(actors), "one lifeline per actor"
    assert sorted(seen["heads"]) == sorted(actors)
    assert seen["arrows"] + seen["folded"] == len(trace), "one arrow per traced message"
    assert seen["folded"] == 40, "the viewer's 20 polls and their replies are one band"
    assert seen["lanes"] == [
        {"label": "link", "outcome": "loaded since 20 s", "states": ["loaded"]},
        {"label": "Orchestrator", "outcome": "shown", "states": ["Orchestrator"]},
        {
            "label": "researcher",
            "outcome": "loaded since 20 s · success",
            "states": ["loaded · in progress", "loaded · success"],
        },
        {
            "label": "writer",
            "outcome": "loaded since 20 s · in progress",
            "states": ["loaded · in progress"],
        },
    ]
    assert seen["requests"] == []
    assert seen["resources"] == []
    assert seen["blocked"] == []


def test_hovering_a_message_puts_its_time_on_the_pill_bars(
    browser: Chromium, tmp_path: Path
) -> None:
    page = tmp_path / "run.html"
    assert main(["run", "local-local-share-parent", "--report", str(page)]) == 0
    browser.open(page)
    where = browser.evaluate(
        """
        (function () {
          var message = document.querySelector('svg.seq g.msg[data-t="40"]');
          message.dispatchEvent(new MouseEvent("mouseover", {bubbles: true}));
          var cursor = document.querySelector("svg.pills .cursor");
          return [getComputedStyle(cursor).visibility, Number(cursor.getAttribute("x1")),
                  Number(cursor.dataset.x0), Number(cursor.dataset.w)];
        })()
        """
    )
    visibility, x, left, width = where
    assert visibility == "visible"
    assert x == pytest.approx(left + width * 40 / 120)


def test_every_matrix_cell_leads_to_a_run_on_the_page(browser: Chromium, tmp_path: Path) -> None:
    page = tmp_path / "matrix.html"
    assert main(["matrix", "--report", str(page)]) == 0
    browser.open(page, before_load=WATCH_POLICY)
    targets = browser.evaluate(
        """
        Array.prototype.map.call(document.querySelectorAll("td.cell a"), function (link) {
          var run = document.querySelector(link.getAttribute("href"));
          return run !== null && run.getBoundingClientRect().height > 0;
        })
        """
    )
    assert targets == [True] * 8 * len(Profile)
    assert browser.evaluate("window.blockedByPolicy") == []
    assert [url for url in browser.requested_urls() if not url.endswith("matrix.html")] == []


def test_ten_thousand_messages_open_with_one_chapter_laid_out(
    browser: Chromium, tmp_path: Path
) -> None:
    trace = Trace()
    actors = ("orchestrator", "session-server", "task-server", "viewer")
    for i in range(10_000):
        trace.record(i * 0.5, actors[i % 4], actors[(i + 1) % 4], "tasks", f"M{i % 7}")
    scenario = catalog.load("local-local-share-parent")
    result = RunResult(scenario, Profile.CURRENT, 0, trace=trace, messages=len(trace))
    result.end_time = 5000.0
    page = tmp_path / "big.html"
    page.write_text(run_page(RecordedRun(result, Recording())), encoding="utf-8")

    seen = look(browser, page)

    assert seen["arrows"] == CHAPTER_ROWS, "closed chapters are not laid out"
    assert sorted(set(seen["lifelines"])) == sorted(actors)
    assert seen["requests"] == []
