"""The HTML report: self-contained, escaped, with regressions, improvements and changed drafts
side by side against the baseline."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from evals.gate import compare, decide
from evals.records import CaseRecord, RunRecord
from evals.report import render_report

EVALUATORS = ["trajectory", "tone"]


def record(case_id: str, body: str, *, tone: str = "pass", must_pass: bool = False) -> CaseRecord:
    return CaseRecord(
        case_id=case_id,
        must_pass=must_pass,
        segment="tofu",
        outcome={
            "action": "send_email",
            "stage": "problem",
            "result": "scheduled",
            "subject": f"Subject for {case_id}",
            "body": body,
            "prompt_version": "draft_email@1",
        },
        checks={
            "trajectory": {"status": "pass", "reason": "", "score": 1.0},
            "tone": {
                "status": tone,
                "reason": "contains the banned phrase 'act now'" if tone == "fail" else "",
                "score": None,
            },
        },
    )


def runs() -> tuple[RunRecord, RunRecord]:
    baseline = RunRecord(
        run_id="base-run",
        started_at=datetime(2026, 11, 24, tzinfo=UTC),
        model="offline",
        evaluators=EVALUATORS,
        prompt_versions={"draft_email": {"version": "1", "sha256": "aaa"}},
        cases={
            "kept": record("kept", "Same words."),
            "worse": record("worse", "A calm email.", must_pass=True),
            "better": record("better", "Act now!", tone="fail"),
        },
    )
    current = RunRecord(
        run_id="new-run",
        started_at=datetime(2026, 11, 25, tzinfo=UTC),
        model="offline",
        evaluators=EVALUATORS,
        prompt_versions={"draft_email": {"version": "2", "sha256": "bbb"}},
        cases={
            "kept": record("kept", "Same words."),
            "worse": record(
                "worse", "Act now <script>alert(1)</script>", tone="fail", must_pass=True
            ),
            "better": record("better", "A calm email now."),
        },
    )
    current.gate = decide(current, compare(current, baseline, max_drop=0.05), max_drop=0.05)
    return current, baseline


def test_the_report_highlights_regressions_and_improvements() -> None:
    current, baseline = runs()
    page = render_report(current, baseline)
    assert "Eval run new-run" in page and "compared with base-run" in page
    assert "must-pass case worse failed: tone: contains the banned phrase" in page
    assert re.search(r'<tr class="regressed">\s*<td><b>worse</b>', page)
    assert re.search(r'<tr class="improved">\s*<td><b>better</b>', page)
    assert "Regressions (1)" in page and "Improvements (1)" in page


def test_changed_drafts_are_shown_side_by_side_and_escaped() -> None:
    current, baseline = runs()
    page = render_report(current, baseline)
    assert "Changed drafts (2)" in page
    changed = page[page.index("Changed drafts") :]
    assert changed.index("A calm email.") < changed.index("Act now &lt;script&gt;")
    assert "<script>" not in page  # lead and model text never becomes markup
    assert "kept</h3>" not in changed  # an unchanged draft is not repeated


def test_the_page_needs_nothing_from_the_network() -> None:
    current, baseline = runs()
    page = render_report(current, baseline)
    assert "<link" not in page and " src=" not in page and "@import" not in page
    assert "2 <span" in page and "bbb" in page  # prompt versions, the changed one marked


def test_a_run_without_a_baseline_still_reports_its_rates() -> None:
    current, _ = runs()
    page = render_report(current)
    assert "Pass rate by evaluator" in page and "Regressions" not in page
    assert "67%" in page  # tone: two of three cases
