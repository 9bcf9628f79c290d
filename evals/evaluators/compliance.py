"""Compliance: nothing for leads we may not email; sender, address, unsubscribe in each email."""

from __future__ import annotations

import re

from evals.evaluators.base import Verdict, failed, listed, passed, skipped
from evals.execute import CaseRun
from tools.guardrails import check_rendered_email

_UNSUBSCRIBE_LINK = re.compile(r"unsubscribe[^\n]*https?://\S+", re.IGNORECASE)
QUEUED = ("scheduled", "awaiting_approval")


class ComplianceEvaluator:
    name = "compliance"
    description = "no touch for leads we may not email; sender, address and unsubscribe line"

    def evaluate(self, run: CaseRun) -> Verdict:
        case = run.case
        opted_out = (
            not run.may_email
            or case.lead.do_not_email
            or not case.lead.consent
            or case.lead.suppressed
            or case.expect.no_email
        )
        if opted_out:
            if run.draft or run.result in QUEUED:
                return failed(
                    f"a {run.draft.get('kind') if run.draft else 'touch'} was prepared "
                    f"({run.result}) for a lead we may not email"
                )
            return passed(reason="nothing prepared for a lead we may not email")
        if run.video is not None:
            return skipped("video scripts are recorded and sent by a person")
        email, ctx = run.email, run.context()
        if email is None or ctx is None or not run.draft:
            return skipped("no email was drafted")
        body = str(run.draft.get("body") or "")
        report = check_rendered_email((email.subject, body, None), ctx)
        problems = [issue.message for issue in report.issues]
        if not _UNSUBSCRIBE_LINK.search(body):
            problems.append("no unsubscribe line with a link in the message as sent")
        if problems:
            return failed(listed(list(dict.fromkeys(problems))))
        return passed()
