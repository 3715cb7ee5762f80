"""Reports as one self-contained HTML file: a run page, and a matrix page that links its runs.

Everything a page shows is drawn here, as inline SVG laid out by our own
code; the file fetches nothing (a content security policy forbids it), so it
opens the same from a mail attachment as from disk.
"""

from scenarios.html.pages import MatrixCell, MatrixRow, matrix_page, run_page
from scenarios.html.run_section import RecordedRun

__all__ = ["MatrixCell", "MatrixRow", "RecordedRun", "matrix_page", "run_page"]
