"""`nurture agent run` and `nurture approvals list|approve|reject`: the agent without Slack."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agent.runtime import open_runtime
from store.db import session_scope

if TYPE_CHECKING:
    from agent.nurture.run import Verdict

# The agent's imports (models, Chroma, scikit-learn) load inside the commands that use them,
# so `nurture --help` and the other commands start fast.

agent_app = typer.Typer(help="Run the per-lead nurture agent.", no_args_is_help=True)
approvals_app = typer.Typer(help="Review drafts waiting for approval.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="print the result as JSON")]
ByOpt = Annotated[str | None, typer.Option("--by", help="who decides (default: your user name)")]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


@agent_app.command("run")
def run(
    lead: Annotated[int | None, typer.Option("--lead", help="run one lead by id")] = None,
    all_due: Annotated[bool, typer.Option("--all-due", help="run every lead that is due")] = False,
    trigger: Annotated[str | None, typer.Option(help="the event type that woke it")] = None,
    limit: Annotated[int | None, typer.Option(help="at most this many leads")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score, segment, decide, draft, queue for approval, schedule or hand off."""
    if (lead is None) == (not all_due):
        raise _fail("give either --lead ID or --all-due")
    from agent.wiring import WiringError, nurture_agent

    runtime = open_runtime()
    try:
        with nurture_agent(runtime) as agent:
            if lead is not None:
                results = [agent.run_lead(lead, trigger=trigger)]
            else:
                results = agent.run_due(limit=limit)
    except (WiringError, KeyError) as exc:
        raise _fail(str(exc).strip("'\"")) from None
    if as_json:
        typer.echo(json.dumps(results, default=str))
        return
    if not results:
        typer.echo("no lead is due")
    for result in results:
        typer.echo(_line(result))
    _tally(results)


def _line(result: dict[str, Any]) -> str:
    extra = ""
    if result.get("approval_id"):
        extra = f" (approval #{result['approval_id']})"
    elif result.get("handoff_id"):
        extra = f" (hand-off #{result['handoff_id']})"
    reason = f": {result['reason']}" if result.get("reason") else ""
    return f"lead #{result['lead_id']}: {result.get('result')}{extra}{reason}"


def _tally(results: list[dict[str, Any]]) -> None:
    counts: dict[str, int] = {}
    for result in results:
        counts[str(result.get("result"))] = counts.get(str(result.get("result")), 0) + 1
    if len(results) > 1:
        typer.echo("total: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))


@approvals_app.command("list")
def list_(
    status: Annotated[str, typer.Option(help="pending|approved|edited|rejected|all")] = "pending",
    as_json: JsonOpt = False,
) -> None:
    """Drafts waiting for a decision (or decided ones, with --status)."""
    from agent.approvals import ApprovalError, list_approvals

    runtime = open_runtime()
    try:
        with session_scope(runtime.engine) as session:
            items = list_approvals(session, status=status)
    except ApprovalError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(items, default=str))
        return
    if not items:
        typer.echo(f"no {status} approvals")
    for item in items:
        lead, draft = item["lead"], item["draft"]
        typer.echo(
            f"#{item['id']} [{item['status']}] {lead['name']} ({lead['role'] or '?'}, "
            f"{lead['company'] or '?'}) score {lead['score']}, decile {lead['decile']}"
        )
        typer.echo(f"    {draft['kind']}: {draft['subject']}")
        if lead["factors"]:
            typer.echo(f"    why: {'; '.join(map(str, lead['factors']))}")


@approvals_app.command("approve")
def approve(
    approval_id: Annotated[int, typer.Argument(help="the approval id")],
    edit: Annotated[
        Path | None,
        typer.Option("--edit", help="a text file: 'Subject: ...' on the first line, then the body"),
    ] = None,
    by: ByOpt = None,
) -> None:
    """Approve a draft (optionally with your edited text); it is scheduled in the lead's hours."""
    from agent.nurture.run import Verdict

    if edit is None:
        verdict = Verdict(status="approved", by=by or getpass.getuser())
    else:
        subject, body = _read_edit(edit)
        verdict = Verdict(status="edited", by=by or getpass.getuser(), subject=subject, body=body)
    _decide(approval_id, verdict)


@approvals_app.command("reject")
def reject(
    approval_id: Annotated[int, typer.Argument(help="the approval id")],
    reason: Annotated[str, typer.Option("--reason", help="why: it feeds evals and scoring")] = "",
    by: ByOpt = None,
) -> None:
    """Reject a draft with a reason; it is never sent."""
    from agent.nurture.run import Verdict

    _decide(approval_id, Verdict(status="rejected", by=by or getpass.getuser(), reason=reason))


def _read_edit(path: Path) -> tuple[str | None, str | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _fail(f"cannot read --edit file {path}: {exc.strerror}") from None
    first, _, rest = text.partition("\n")
    if first.lower().startswith("subject:"):
        return first.split(":", 1)[1].strip() or None, rest.strip() or None
    return None, text.strip() or None


def _decide(approval_id: int, verdict: Verdict) -> None:
    from agent.approvals import ApprovalError, decide
    from agent.wiring import WiringError, nurture_agent

    runtime = open_runtime()
    try:
        with nurture_agent(runtime) as agent:
            outcome = decide(runtime.engine, agent, approval_id, verdict)
    except (ApprovalError, WiringError) as exc:
        raise _fail(str(exc)) from None
    if outcome.already_decided:
        typer.echo(
            f"approval #{approval_id} was already decided: {outcome.status} "
            f"by {outcome.decided_by}; nothing changed"
        )
        raise typer.Exit(3)
    typer.echo(f"approval #{approval_id} {verdict.status} by {verdict.by}: {outcome.result}")
