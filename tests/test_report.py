"""`agentkit report`: one self-contained HTML file of a run, checked as markup and in a real
headless browser (Debian's chromium, which .ci/run installs)."""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentkit import Store
from agentkit.cli import app
from tests.report_run import audit_agent


class _Elements(HTMLParser):
    """Every start tag with its attributes, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def having(self, tag: str, class_: str | None = None) -> list[dict[str, str | None]]:
        """The attributes of each `tag` element (with class `class_`, if given), in order."""
        return [a for t, a in self.tags
                if t == tag and (class_ is None or class_ in (a.get("class") or "").split())]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A run with parallel subtasks, a revision after a failure and a compaction, reported."""
    root = tmp_path_factory.mktemp("report")
    (root / "ws").mkdir()
    db = str(root / "runs.db")
    result = audit_agent(db, root / "ws").run_sync("Audit the warehouse records")
    assert result.status == "completed", result.error
    out = root / "run.html"
    done = CliRunner().invoke(app, ["report", result.run_id, "--db", db, "-o", str(out)])
    assert done.exit_code == 0, done.output
    return out, result.run_id, db


def test_the_report_holds_the_run(report: tuple[Path, str, str]) -> None:
    path, run_id, db = report
    html = path.read_text()
    parsed = _Elements()
    parsed.feed(html)
    store = Store(db)
    assert f"Run {run_id}" in html and "Audit the warehouse records" in html
    assert [a["data-version"] for a in parsed.having("div", class_="plan-version")] == ["1", "2"]
    # What the revision changed; s1, done under v1, was archived.
    assert "added s2b; removed s2; changed s3; archived (done) s1" in html
    subtasks = store.get_subtasks(run_id)
    assert [a["data-id"] for a in parsed.having("details", class_="subtask")] == [
        s.id for s in subtasks]
    worked = {c.subtask_id for c in store.get_tool_calls(run_id)}
    bars = parsed.having("rect", class_="bar")
    assert [b["data-status"] for b in bars] == [s.status for s in subtasks if s.id in worked]
    assert len(parsed.having("tr", class_="tool-call")) == len(store.get_tool_calls(run_id))
    roles = {c.role for c in store.get_model_calls(run_id)}
    assert {a["data-role"] for a in parsed.having("polyline", class_="series")} == roles
    compactions = [e for e in store.get_events(run_id) if e.kind == "context_compacted"]
    assert compactions and len(parsed.having("tr", class_="compaction")) == len(compactions)
    # Model and user text is data: the executor's "<script>" is escaped; ours is the only one.
    assert [t for t, _ in parsed.tags].count("script") == 1
    assert "report &lt;script&gt;alert(1)&lt;/script&gt;" in html
    # Self-contained: nothing is fetched when it is viewed.
    assert not [a for _, a in parsed.tags if any(
        (a.get(k) or "").startswith(("http:", "https:", "//")) for k in ("src", "href"))]
    assert not parsed.having("link")


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="needs Debian's chromium (apt-get install chromium; .ci/run does)")
def test_the_report_loads_in_a_browser_without_errors(
    report: tuple[Path, str, str], tmp_path: Path
) -> None:
    path, _, _ = report
    browser = ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
               f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    dom = subprocess.run([*browser, "--dump-dom", path.as_uri()], capture_output=True,
                         text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'data-ready="yes"' in dom.stdout  # the report's script ran to its end
    assert [line for line in dom.stderr.splitlines() if ":CONSOLE" in line] == []
    for section in ("outcome", "plans", "timeline", "subtasks", "usage", "compaction"):
        assert f'id="{section}"' in dom.stdout

    shot = Path(os.environ.get("AGENTKIT_TEST_ARTIFACTS", tmp_path)) / "run-report.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    taken = subprocess.run([*browser, f"--screenshot={shot}", "--window-size=1100,2400",
                            path.as_uri()], capture_output=True, text=True, timeout=120)
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
