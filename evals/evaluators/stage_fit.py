"""Stage fit: the touch serves the expected funnel stage, and so does its call to action."""

from __future__ import annotations

from evals.evaluators.base import Verdict, failed, listed, passed, skipped
from evals.execute import CaseRun
from tools.decide import STAGES
from tools.guardrails.claims import normalize_url


class StageFitEvaluator:
    name = "stage_fit"
    description = "the touch and its call to action serve the stage the lead is at"

    def evaluate(self, run: CaseRun) -> Verdict:
        action, brief = run.action, run.brief
        expected = run.case.expect.stage
        if action is None or brief is None:
            return skipped("no decision was made")
        drafted = run.email or run.video
        if drafted is None and expected is None:
            return skipped(f"no draft and no expected stage (the agent chose {action.action})")
        problems: list[str] = []
        if expected is not None and action.stage != expected:
            problems.append(f"the touch is at the {action.stage} stage; expected {expected}")
        if action.action != "wait" and STAGES.index(action.stage) < STAGES.index(brief.stage):
            problems.append(
                f"the touch moves the lead back to the {action.stage} stage "
                f"(it is at {brief.stage})"
            )
        cta_stage = None
        if drafted is not None:
            by_url = {normalize_url(s.url): s for s in run.snippets}
            source = by_url.get(normalize_url(drafted.cta_url))
            if source is None:
                problems.append(f"the call to action {drafted.cta_url} is no retrieved content")
            else:
                cta_stage = source.stage
                if source.stage != action.stage:
                    problems.append(
                        f"the call to action ({drafted.cta_text!r}) is {source.stage}-stage "
                        f"content for a {action.stage}-stage touch"
                    )
        if problems:
            return failed(listed(problems), touch_stage=action.stage, cta_stage=cta_stage)
        return passed(touch_stage=action.stage, cta_stage=cta_stage)
