"""Trajectory: the action, the outcome, and the graph steps and tools in the expected order."""

from __future__ import annotations

from evals.cases import Expect
from evals.evaluators.base import Verdict, failed, listed, passed
from evals.execute import CaseRun

SENDS = ("send_email", "send_video")
# What each action implies when a case names no steps of its own.
STEPS_OF = {
    "hand_off": ["decide", "hand_off"],
    "wait": ["decide", "wait"],
    "send_email": ["decide", "draft", "queue"],
    "send_video": ["decide", "draft", "queue"],
}
FORBIDDEN_OF = {
    "hand_off": ["draft", "queue", "schedule_touch"],
    "wait": ["search_content", "draft", "queue", "schedule_touch", "hand_off"],
    "send_email": ["hand_off", "wait", "draft_video_script"],
    "send_video": ["hand_off", "wait", "draft_email"],
}


class TrajectoryEvaluator:
    name = "trajectory"
    description = "the action, the outcome, and the graph steps and tools in the expected order"

    def evaluate(self, run: CaseRun) -> Verdict:
        if run.error:
            return failed(f"the pass failed: {run.error}")
        expect = run.case.expect
        problems: list[str] = []
        checks = 0
        action = run.action
        kind = action.action if action else None
        if expect.action is not None:
            checks += 1
            if kind != expect.action:
                why = f" ({action.reason})" if action else ""
                problems.append(f"expected the action {expect.action}, got {kind}{why}")
        if expect.result is not None:
            checks += 1
            if run.result != expect.result:
                problems.append(f"expected the pass to end {expect.result}, it ended {run.result}")
        steps, forbidden = expected_path(expect)
        trail = run.steps + run.tools
        shown = " -> ".join(run.steps) or "nothing"
        for wanted, label in ((steps, "step"), (expect.tools, "tool")):
            if not wanted:
                continue
            checks += 1
            missing = _first_missing(wanted, run.steps if label == "step" else run.tools)
            if missing is not None:
                problems.append(f"{label} {missing!r} missing or out of order (ran {shown})")
        for name in forbidden:
            checks += 1
            if name in trail:
                problems.append(f"forbidden {name!r} ran ({shown})")
        if problems:
            return failed(listed(problems), score=1 - len(problems) / max(checks, 1))
        return passed(steps=run.steps, tools=run.tools)


def expected_path(expect: Expect) -> tuple[list[str], list[str]]:
    """(steps that must run in order, steps or tools that must not run) for these expectations."""
    kind = expect.action
    if expect.hand_off:
        kind = "hand_off"
    steps = list(expect.steps) or list(STEPS_OF.get(kind or "", []))
    forbidden = list(expect.forbidden) or list(FORBIDDEN_OF.get(kind or "", []))
    if expect.approval and not expect.steps:
        steps.append("approval")
    if expect.approval:
        forbidden.append("schedule_touch")
    elif expect.approval is False:
        forbidden.append("approval")
    if expect.hand_off is False:
        forbidden.append("hand_off")
    if expect.no_email:
        forbidden += ["draft", "queue", "schedule_touch"]
    return steps, list(dict.fromkeys(forbidden))


def _first_missing(wanted: list[str], ran: list[str]) -> str | None:
    """The first wanted name not found after the previous one (an in-order subsequence)."""
    position = 0
    for name in wanted:
        try:
            position = ran.index(name, position) + 1
        except ValueError:
            return name
    return None
