"""The HTML report of an eval run, compared with a baseline run when one is given.

Rates per evaluator and per case, what regressed or improved, and the changed drafts side by
side.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from evals.evaluators import default_evaluators
from evals.gate import DEFAULT_MAX_DROP, Comparison, compare
from evals.records import CaseRecord, RunRecord
from evals.report_page import TEMPLATE

MARKS = {"pass": "✓", "fail": "✗"}


def render_report(run: RunRecord, baseline: RunRecord | None = None) -> str:
    """The report page; with a baseline, every difference is measured on the cases both ran."""
    max_drop = float(run.gate.get("max_drop", DEFAULT_MAX_DROP))
    comparison = compare(run, baseline, max_drop=max_drop) if baseline else None
    common = comparison.common if comparison else None
    environment = Environment(autoescape=True)
    environment.globals["pct"] = _pct
    return environment.from_string(TEMPLATE).render(
        run=run,
        base=baseline,
        gate=run.gate,
        max_drop_points=f"{max_drop * 100:g}",
        summary=_summary(run, baseline, common),
        prompt_rows=_prompts(run, baseline),
        evaluator_rows=_evaluators(run, baseline, common, max_drop),
        notes=_notes(run),
        regressed=_regressed(run, comparison),
        improved=list(comparison.improved.items()) if comparison else [],
        case_rows=_cases(run, baseline, comparison),
        changed=_changed(run, baseline, comparison),
    )


def _summary(
    run: RunRecord, base: RunRecord | None, common: list[str] | None
) -> list[dict[str, Any]]:
    def tokens(record: RunRecord) -> str:
        return f"{record.prompt_tokens + record.completion_tokens:,}"

    def latency(record: RunRecord) -> str:
        figures = record.latency()
        return f"{figures['mean_s']:.2f} · {figures['p95_s']:.2f}" if figures else "—"

    mine_rate = run.pass_rate(common)
    their_rate = base.pass_rate(common) if base else None
    rows = [
        ("cases", str(len(run.cases)), str(len(base.cases)) if base else "", _note(common)),
        ("pass rate", _pct(mine_rate), _pct(their_rate), _delta(their_rate, mine_rate)),
        (
            "must-pass failures",
            str(len(run.must_pass_failures())),
            str(len(base.must_pass_failures())) if base else "",
            Markup("<td></td>"),
        ),
        ("tokens", tokens(run), tokens(base) if base else "", Markup("<td></td>")),
        (
            "cost",
            f"${run.cost_usd:.4f}",
            f"${base.cost_usd:.4f}" if base else "",
            Markup("<td></td>"),
        ),
        (
            "model requests sent / from cache",
            f"{run.model_calls} / {run.cached_calls}",
            f"{base.model_calls} / {base.cached_calls}" if base else "",
            Markup("<td></td>"),
        ),
        (
            "seconds per case (mean · p95)",
            latency(run),
            latency(base) if base else "",
            Markup("<td></td>"),
        ),
    ]
    return [dict(zip(("label", "mine", "theirs", "change"), row, strict=True)) for row in rows]


def _note(common: list[str] | None) -> Markup:
    if common is None:
        return Markup("<td></td>")
    return Markup('<td class="muted">{} in common</td>').format(len(common))


def _prompts(run: RunRecord, base: RunRecord | None) -> list[dict[str, Any]]:
    names = sorted({*run.prompt_versions, *(base.prompt_versions if base else {})})
    rows = []
    for name in names:
        mine = run.prompt_versions.get(name)
        theirs = base.prompt_versions.get(name) if base else None
        rows.append(
            {
                "name": name,
                "mine": _version(mine),
                "theirs": _version(theirs),
                "changed": base is not None and mine != theirs,
            }
        )
    return rows


def _evaluators(
    run: RunRecord, base: RunRecord | None, common: list[str] | None, max_drop: float
) -> list[dict[str, Any]]:
    descriptions = {e.name: e.description for e in default_evaluators()}
    rates = run.evaluator_rates(common)
    base_rates = base.evaluator_rates(common) if base else {}
    rows = []
    for name in run.evaluators:
        rate, old = rates.get(name), base_rates.get(name)
        statuses = [record.status(name) for record in run.selected(common)]
        css = ""
        if old is not None and rate is not None:
            css = "regressed" if old - rate > max_drop + 1e-9 else ""
            css = "improved" if rate - old > max_drop + 1e-9 else css
        rows.append(
            {
                "name": name,
                "description": descriptions.get(name, ""),
                "rate": rate,
                "base_rate": old,
                "counts": " / ".join(str(statuses.count(s)) for s in ("pass", "fail", "skip")),
                "change": _delta(old, rate),
                "css": css,
            }
        )
    return rows


def _notes(run: RunRecord) -> list[str]:
    """Why an evaluator that never applied was skipped (the judge without a real model)."""
    rates = run.evaluator_rates()
    found: set[str] = set()
    for record in run.cases.values():
        for name, check in record.checks.items():
            if rates.get(name) is None and check.get("status") == "skip":
                found.add(f"{name} skipped: {check.get('reason')}")
    return sorted(found)[:5]


def _regressed(run: RunRecord, comparison: Comparison | None) -> list[dict[str, Any]]:
    if comparison is None:
        return []
    return [
        {
            "case": case_id,
            "must_pass": run.cases[case_id].must_pass,
            "failures": [(name, run.cases[case_id].failures().get(name, "")) for name in names],
        }
        for case_id, names in comparison.regressed.items()
    ]


def _cases(
    run: RunRecord, base: RunRecord | None, comparison: Comparison | None
) -> list[dict[str, Any]]:
    rows = []
    for record in run.cases.values():
        css = ""
        if comparison is not None:
            css = "improved" if record.case_id in comparison.improved else css
            css = "regressed" if record.case_id in comparison.regressed else css
        other = base.cases.get(record.case_id) if base else None
        rows.append(
            {
                "case": record.case_id,
                "must_pass": record.must_pass,
                "segment": record.segment,
                "outcome": _outcome(record),
                "cells": [_cell(record, name) for name in run.evaluators],
                "baseline": ("pass" if other.passed else "fail") if other else "not run",
                "css": css,
            }
        )
    return rows


def _cell(record: CaseRecord, name: str) -> dict[str, str]:
    check = record.checks.get(name) or {}
    status = str(check.get("status") or "skip")
    return {"status": status, "mark": MARKS.get(status, "–"), "reason": str(check.get("reason"))}


def _outcome(record: CaseRecord) -> str:
    outcome = record.outcome
    parts = [outcome.get("action") or "no action", outcome.get("stage") or ""]
    parts.append(outcome.get("result") or f"failed: {record.error}")
    return " · ".join(part for part in parts if part)


def _changed(
    run: RunRecord, base: RunRecord | None, comparison: Comparison | None
) -> list[dict[str, Any]]:
    if base is None or comparison is None:
        return []
    pairs = []
    for case_id in comparison.changed_drafts:
        verdict, css = "changed", "muted"
        if case_id in comparison.regressed:
            verdict, css = "regressed", "fail"
        elif case_id in comparison.improved:
            verdict, css = "improved", "pass"
        pairs.append(
            {
                "case": case_id,
                "verdict": verdict,
                "css": css,
                "sides": [
                    _side(f"baseline {base.run_id}", base.cases[case_id]),
                    _side(f"this run {run.run_id}", run.cases[case_id]),
                ],
            }
        )
    return pairs


def _side(label: str, record: CaseRecord) -> dict[str, str]:
    outcome = record.outcome
    details = [outcome.get("action"), outcome.get("stage"), outcome.get("prompt_version")]
    return {
        "label": " · ".join([label, *(str(d) for d in details if d)]),
        "subject": outcome.get("subject") or "(no draft)",
        "body": outcome.get("body") or "",
    }


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _delta(old: float | None, new: float | None) -> Markup:
    if old is None or new is None:
        return Markup("<td></td>")
    points = (new - old) * 100
    style = "down" if points < -0.05 else "up" if points > 0.05 else "muted"
    return Markup('<td class="num {}">{}</td>').format(style, f"{points:+.1f} pts")


def _version(entry: Any) -> Markup | str:
    if not isinstance(entry, dict):
        return "—"
    return Markup('{} <span class="muted small">{}</span>').format(
        entry.get("version"), entry.get("sha256", "")
    )
