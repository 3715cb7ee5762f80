"""Regenerate the README's screenshots of the report pages (needs Chromium).

    .venv/bin/python -m tests.scenarios.html.screenshots

writes docs/report-run.png (a run page, scrolled to where a partition strikes)
and docs/report-matrix.png (the matrix at the top of its page).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from scenarios.cli import main
from tests.scenarios.html.chromium import Chromium, find_chromium

DOCS = Path(__file__).resolve().parents[3] / "docs"
RUN = ["reconnect-while-children-change", "--profile", "current"]
WIDTH = 1600
HEIGHT = 900
#: Bring the run's sequence into view, scrolled down to just above its first partition.
SHOW_PARTITION = """
(function () {
  var views = document.querySelector(".views");
  scrollTo(0, views.getBoundingClientRect().top + scrollY - 8);
  var figure = document.querySelector(".sequence-figure");
  var band = figure.querySelector("svg.seq .band");
  figure.scrollTop += band.getBoundingClientRect().top - figure.getBoundingClientRect().top - 260;
})()
"""


def shoot() -> int:
    executable = find_chromium()
    if executable is None:
        print("screenshots need Chromium: `chromium` is not on PATH", file=sys.stderr)
        return 1
    DOCS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        run_page, matrix_page = Path(scratch) / "run.html", Path(scratch) / "matrix.html"
        main(["run", *RUN, "--report", str(run_page)])
        main(["matrix", "--report", str(matrix_page)])
        with Chromium(executable, width=WIDTH, height=HEIGHT) as browser:
            browser.open(run_page)
            browser.evaluate(SHOW_PARTITION)
            browser.capture_viewport(DOCS / "report-run.png")
            browser.open(matrix_page)
            bottom = browser.evaluate(
                "document.querySelector('#matrix').getBoundingClientRect().bottom + scrollY"
            )
            browser.capture_region(
                DOCS / "report-matrix.png", top=0, width=1180, height=bottom + 20
            )
    return 0


if __name__ == "__main__":
    sys.exit(shoot())
