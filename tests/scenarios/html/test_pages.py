"""`run --report` and `matrix --report`: one self-contained file that shows the run."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from actors.rules.profiles import Profile
from actors.runtime.trace import Trace
from scenarios import catalog
from scenarios.cli import main
from scenarios.html import RecordedRun, run_page
from scenarios.html.sequence_svg import CHAPTER_ROWS, MAX_ROWS
from scenarios.recording import Recording
from scenarios.runner import RunResult
from tests.scenarios.html.pagekit import Page

#: Anything that could make a browser fetch: a URL with a scheme, or a reference out of the page.
_FETCHING = re.compile(r"(https?:|//[a-z]|@import|<link\b|\bsrc=|url\((?!#))", re.IGNORECASE)


def report(tmp_path: Path, *args: str, command: str = "run") -> tuple[int, str]:
    path = tmp_path / "report.html"
    code = main([command, *args, "--report", str(path)])
    return code, path.read_text(encoding="utf-8")


def test_a_run_page_is_one_file_that_fetches_nothing(tmp_path: Path) -> None:
    code, page = report(tmp_path, "local-local-share-parent")
    assert code == 0
    assert page.startswith("<!doctype html>")
    assert "Content-Security-Policy" in page
    assert "default-src 'none'" in html.unescape(page)
    assert _FETCHING.findall(page) == []
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert all(href.startswith("#") for href in hrefs)


def test_a_run_page_shows_scenario_expectations_sequence_and_pills(tmp_path: Path) -> None:
    _, markup = report(tmp_path, "local-local-share-parent")
    page = Page(markup)
    texts = " ".join(t for e in page.elements for t in e.text)
    assert "Local orchestrator with local children" in texts
    assert "spawn researcher (local)" in texts
    assert "✓ holds" in texts
    actors = {e.attrs["data-actor"] for e in page.having("lifeline")}
    assert actors == {
        "orchestrator",
        "orchestrator/researcher",
        "orchestrator/writer",
        "session-server",
        "task-server",
        "viewer",
    }
    arrows = page.having("msg", "g")
    folded = page.having("repeat", "g")
    drawn = len(arrows) + sum(int(e.attrs["data-messages"]) for e in folded)
    assert drawn == 84, "every traced message is an arrow or part of a folded band"
    assert [e.attrs["data-count"] for e in folded] == ["20"]
    lanes = [e.attrs["data-lane"] for e in page.having("lane", "g")]
    assert lanes == ["link", "Orchestrator", "researcher", "writer"]
    assert "no discovery" not in texts


def test_a_failed_run_says_what_broke_and_where(tmp_path: Path) -> None:
    code, markup = report(
        tmp_path, "local-local-share-parent", "--set", "discover_user_shares=false"
    )
    assert code == 1
    page = Page(markup)
    (badge,) = page.having("badge")
    assert badge.text == ["FAIL (1)"]
    texts = " ".join(t for e in page.elements for t in e.text)
    assert "✗ broken" in texts
    assert "pill_bar: saw false" in texts
    assert "switches set: discover_user_shares=false" in texts
    assert "no discovery: no orchestrator task id" in texts
    assert len(page.having("broken", "g")) == 1, "the check is marked broken on the pill bar"


def test_a_pill_that_never_loads_says_since_when(tmp_path: Path) -> None:
    _, markup = report(tmp_path, "remote-local-share-parent", "--profile", "legacy")
    outcomes = [" ".join(e.text) for e in Page(markup).having("outcome")]
    assert outcomes == [
        "loaded since 20 s",
        "shown",
        "loading since 20 s · in progress",
        "loading since 20 s · in progress",
    ]


def test_text_from_a_scenario_file_is_escaped(tmp_path: Path) -> None:
    source = catalog.resolve("local-local-share-parent").read_text()
    hostile = source.replace(
        'description = "Local orchestrator', 'description = "<script>alert(1)</script> & Local'
    )
    path = tmp_path / "local-local-share-parent.toml"
    path.write_text(hostile)
    _, page = report(tmp_path, str(path))
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Local" in page


def test_report_draws_one_scenario(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["run", "--report", str(tmp_path / "x.html")]) == 2
    assert "--report draws one run" in capsys.readouterr().err


def test_asking_for_a_report_changes_neither_trace_nor_log(tmp_path: Path) -> None:
    def files(*extra: str) -> tuple[str, str]:
        trace, log = tmp_path / "trace.jsonl", tmp_path / "log.jsonl"
        args = ["run", "reconnect-while-children-change", "--faults", "latency,drop", "--seed", "2"]
        main([*args, "--trace", str(trace), "--log-json", str(log), *extra])
        return trace.read_text(), log.read_text()

    plain = files()
    assert files("--report", str(tmp_path / "r.html")) == plain


def test_ten_thousand_messages_stay_a_page_that_opens() -> None:
    scenario = catalog.load("local-local-share-parent")
    trace = Trace()
    actors = ("orchestrator", "session-server", "task-server", "viewer")
    for i in range(10_000):
        src, dst = actors[i % 4], actors[(i + 1) % 4]
        trace.record(i * 0.5, src, dst, "tasks", f"Message{i % 7}", {"event_no": str(i)})
    result = RunResult(scenario, Profile.CURRENT, 0, trace=trace, messages=len(trace))
    result.end_time = 5000.0
    page = Page(run_page(RecordedRun(result, Recording())))
    assert len(page.having("msg", "g")) == MAX_ROWS
    chapters = page.having("chapter", "details")
    assert len(chapters) == MAX_ROWS // CHAPTER_ROWS
    assert ["open" in c.attrs for c in chapters] == [True] + [False] * (len(chapters) - 1)
    (cap,) = page.having("cap")
    assert "7,000 more messages" in "".join(cap.text)


def test_the_matrix_page_links_every_cell_to_its_run(tmp_path: Path) -> None:
    code, markup = report(tmp_path, command="matrix")
    assert code == 0
    page = Page(markup)
    cells = page.having("cell", "td")
    assert len(cells) == 8 * len(Profile)
    assert {c.attrs["data-verdict"] for c in cells} == {"pass"}
    links = [e.attrs["href"] for e in page.elements if e.tag == "a" and "href" in e.attrs]
    anchors = {e.attrs["id"] for e in page.having("run", "section")}
    assert len(anchors) == 8 * len(Profile)
    cell_links = {href.removeprefix("#") for href in links if href != "#matrix"}
    assert cell_links == anchors
    assert _FETCHING.findall(markup) == []


def test_the_matrix_page_names_the_switches_set_on_every_profile(tmp_path: Path) -> None:
    _, markup = report(
        tmp_path, "local-local-share-parent", "--set", "report_session_link=false", command="matrix"
    )
    intro = Page(markup).having("meta", "p")[0]
    assert "set on every profile: report_session_link=false" in "".join(intro.text)
