"""The offline model's answers about the pipeline and sequences, from the tools' JSON."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from agent.models.conversation import ToolRun, pick, records
from agent.models.formatting import MAX_LISTED, as_list, compact, inline, inner, label, number

SAVE_HINT = 'Say **save it as "NAME"** to save it as a sequence, or tell me what to change.'


# --- pipeline ------------------------------------------------------------------------------


def pipeline(run: ToolRun) -> str:
    result = run.result if isinstance(run.result, dict) else {}
    if isinstance(result.get("totals"), dict) and isinstance(result.get("conversion"), dict):
        return pipeline_report(run, result)
    args = run.args
    span = (
        f"since {args['since']}" + (f" until {args['until']}" if args.get("until") else "")
        if args.get("since")
        else "all time"
    )
    scope = f", segment `{args['segment']}`" if args.get("segment") else ""
    lines = [f"**Pipeline, {span}{scope}**"]
    lines += [f"- {label(key)}: {number(key, value)}" for key, value in _scalars(result)]
    for key, value in result.items():
        if key.startswith("by_") and value:
            lines.append(f"\nBy {key.removeprefix('by_').replace('_', ' ')}:")
            lines += _breakdown(value)
    if len(lines) == 1:
        lines.append(compact(result))
    return "\n".join(lines)


def pipeline_report(run: ToolRun, result: dict[str, Any]) -> str:
    """The numbers that matter from a full pipeline report (tools/analytics.py), in lines a
    manager reads in ten seconds; by segment and by sequence after."""
    period = inner(result, "period")
    since, until = period.get("since") or run.args.get("since"), run.args.get("until")
    span = f"since {str(since)[:10]}" if since else "all time"
    span += f" until {until}" if until else ""
    segment = period.get("segment") or run.args.get("segment")
    lines = [f"**Pipeline, {span}**" + (f", segment `{segment}`" if segment else "")]
    totals, conversion = inner(result, "totals"), inner(result, "conversion")
    lines.append(
        f"- **In nurture:** {_count(totals.get('in_nurture'))} leads"
        + (f", counted as {result['nurture_basis']}" if result.get("nurture_basis") else "")
        + f" · {_count(totals.get('new_leads'))} new"
    )
    lines.append(_conversion_line(totals, conversion))
    lines.append(
        f"- **SQLs per 1,000 in nurture:** {_plain(conversion.get('sqls_per_1000_in_nurture'))}"
        f" · **time to MQL:** {_days(conversion.get('median_days_to_mql'))}"
        f" · **MQL → SQL:** {_days(conversion.get('median_days_mql_to_sql'))}"
    )
    handoffs = result.get("handoffs")
    if isinstance(handoffs, dict):
        lines.append(_handoff_line(handoffs))
    revenue = result.get("revenue")
    if isinstance(revenue, dict):
        lines.append(
            f"- **Revenue:** {_count(revenue.get('won_deals'))} won deals, "
            f"{_money(revenue.get('won_amount'))}; influenced by nurture: "
            f"{_count(revenue.get('influenced_deals'))} deals, "
            f"{_money(revenue.get('influenced_amount'))}"
        )
    email = result.get("email")
    if isinstance(email, dict):
        lines.append(
            f"- **Email:** {_count(email.get('emails_sent'))} sent · opens "
            f"{_pct(email.get('open_rate'))} · clicks {_pct(email.get('click_rate'))} · "
            f"replies {_pct(email.get('reply_rate'))} · unsubscribes "
            f"{_pct(email.get('unsubscribe_rate'), 2)}"
        )
    holdout = result.get("holdout")
    if isinstance(holdout, dict):
        lines.append(_holdout_line(holdout))
    lines += _group_lines("By segment", result.get("by_segment"), "segment", "leads")
    lines += _group_lines("By sequence", result.get("by_sequence"), "sequence", "enrolled")
    weeks = result.get("trend")
    if isinstance(weeks, list) and weeks:
        lines.append(
            f"\nThe weekly trend covers {len(weeks)} weeks from {weeks[0].get('week_start')}."
        )
    return "\n".join(lines)


def _conversion_line(totals: dict[str, Any], conversion: dict[str, Any]) -> str:
    line = (
        f"- **Lead → MQL:** {_pct(conversion.get('lead_to_mql'))} "
        f"({_count(totals.get('mqls'))} MQLs) · **MQL → SQL:** "
        f"{_pct(conversion.get('mql_to_sql'))} ({_count(totals.get('sqls'))} SQLs"
    )
    benchmark = conversion.get("mql_to_sql_benchmark")
    versus = conversion.get("mql_to_sql_vs_benchmark")
    if benchmark is not None:
        top = conversion.get("mql_to_sql_top_quartile")
        top_text = f"top quartile {_pct(top, 0)}" if top is not None else ""
        known = bool(versus) and conversion.get("mql_to_sql") is not None
        if known and versus == "top quartile":
            line += f"; in the {top_text}, benchmark {_pct(benchmark, 0)}"
        else:
            where = f"{versus} the" if known else "the"
            line += f"; {where} {_pct(benchmark, 0)} benchmark" + (
                f", {top_text}" if top_text else ""
            )
    return line + ")"


def _holdout_line(holdout: dict[str, Any]) -> str:
    """Nurtured leads against the holdout on the plain drip, with the verdict in words."""
    return (
        f"- **Nurture vs holdout** ({holdout.get('conversion', 'conversion')}): "
        f"{_pct(holdout.get('nurtured_rate'))} of {_count(holdout.get('nurtured'))} nurtured "
        f"leads vs {_pct(holdout.get('holdout_rate'))} of {_count(holdout.get('holdout'))} "
        f"held out. {holdout.get('verdict_text') or ''}"
    ).rstrip()


def _handoff_line(handoffs: dict[str, Any]) -> str:
    line = (
        f"- **Hand-offs:** {_count(handoffs.get('created'))} created, "
        f"{_count(handoffs.get('accepted'))} accepted, {_count(handoffs.get('rejected'))} "
        f"rejected, {_count(handoffs.get('pending'))} pending"
    )
    if handoffs.get("pending_past_sla"):
        line += f" (**{handoffs['pending_past_sla']} past the SLA**)"
    if handoffs.get("median_latency_hours") is not None:
        line += f"; decided in a median {_plain(handoffs['median_latency_hours'])} h"
    if handoffs.get("within_sla") is not None:
        line += f", {_pct(handoffs['within_sla'], 0)} within the SLA"
    return line


def _group_lines(title: str, rows: Any, key: str, size: str) -> list[str]:
    if not isinstance(rows, list) or not rows:
        return []
    lines = [f"\n{title}:"]
    for row in rows[:MAX_LISTED]:
        if not isinstance(row, dict):
            continue
        bits = [f"{_count(row.get(size))} {size}"]
        if row.get("lead_to_mql") is not None:
            bits.append(f"lead → MQL {_pct(row['lead_to_mql'])}")
        if row.get("mql_to_sql") is not None:
            bits.append(f"MQL → SQL {_pct(row['mql_to_sql'])}")
        if row.get("close_rate") is not None:
            bits.append(f"close rate {_pct(row['close_rate'])}")
        bits.append(f"{_count(row.get('won_deals'))} won ({_money(row.get('won_amount'))})")
        status = f" ({row['status']})" if row.get("status") else ""
        lines.append(f"- `{row.get(key)}`{status}: " + ", ".join(bits))
    if len(rows) > MAX_LISTED:
        lines.append(f"- ... and {len(rows) - MAX_LISTED} more")
    return lines


def _pct(value: Any, digits: int = 1) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "n/a"
    return f"{value * 100:.{digits}f} %"


def _count(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else "n/a"


def _money(value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "n/a"
    return f"{value:,.0f}"


def _plain(value: Any) -> str:
    if isinstance(value, float):
        return f"{value + 0.0:g}"  # + 0.0 turns -0.0 into 0
    return "n/a" if value is None else str(value)


def _days(value: Any) -> str:
    return "n/a" if value is None else f"median {_plain(value)} days"


def _scalars(result: Mapping[str, Any]) -> Iterable[tuple[str, Any]]:
    for key, value in result.items():
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            if key not in ("since", "until", "segment", "generated_at"):
                yield key, value
        elif isinstance(value, dict) and not key.startswith("by_") and key != "trend":
            for sub, figure in value.items():
                if isinstance(figure, int | float) and not isinstance(figure, bool):
                    yield f"{key} {sub}", figure


def _breakdown(value: Any) -> list[str]:
    rows = value.items() if isinstance(value, dict) else enumerate(value)
    lines = []
    for name, row in list(rows)[:MAX_LISTED]:
        if isinstance(row, dict):
            row_name = pick(row, "name", "segment", "sequence") or name
            numbers = ", ".join(
                f"{label(k)} {number(k, v)}"
                for k, v in row.items()
                if isinstance(v, int | float) and not isinstance(v, bool)
            )
            lines.append(f"- `{row_name}`: {numbers}")
        else:
            lines.append(f"- `{name}`: {row}")
    return lines


# --- sequences -----------------------------------------------------------------------------


def design(run: ToolRun) -> str:
    result = run.result if isinstance(run.result, dict) else {}
    merged = {**inner(result, "definition"), **result}
    goal = pick(merged, "goal", "description") or run.args.get("goal")
    lines = ["**Proposed nurture**" + (f": {goal}" if goal else "")]
    targets = pick(merged, "segments") or pick(inner(merged, "enrol"), "segments")
    if targets:
        lines.append("- Who: " + ", ".join(f"`{t}`" for t in as_list(targets)))
    events = pick(merged, "enrol_on_events", "on_events")
    if events:
        lines.append("- Also enrols on: " + ", ".join(str(e) for e in as_list(events)))
    cadence = merged.get("cadence")
    if isinstance(cadence, dict):
        lines.append("- Cadence: " + _cadence_line(cadence))
    elif cadence:
        lines.append(f"- Cadence: {cadence}")
    steps = pick(cadence if isinstance(cadence, dict) else {}, "steps") or pick(
        merged, "steps", "touches"
    )
    if isinstance(steps, list) and steps:
        lines.append(f"- {len(steps)} touches:")
        lines += [f"  {i}. {_step_line(step)}" for i, step in enumerate(steps, start=1)]
    content_map = pick(merged, "content_map", "content_by_stage")
    if isinstance(content_map, dict) and content_map:
        lines.append("- Content by stage:")
        for stage, items in content_map.items():
            lines.append(f"  - {stage}: {_links(items)}")
    triggers = pick(merged, "triggers")
    if triggers:
        lines.append("- Triggers:")
        lines += [f"  - {_trigger_line(trigger)}" for trigger in as_list(triggers)]
    handoff = pick(merged, "handoff_rule", "hand_off_rule", "handoff", "hand_off")
    if handoff:
        text = pick(handoff, "description") if isinstance(handoff, dict) else handoff
        lines.append(f"- Hand-off: {inline(text or handoff)}")
    missing = pick(merged, "missing", "questions", "open_questions")
    if missing:
        lines.append("\nTo finish it I need to know:")
        lines += [f"- {inline(question)}" for question in as_list(missing)]
    return "\n".join(lines)


def _cadence_line(cadence: dict[str, Any]) -> str:
    touches, days = cadence.get("touches"), cadence.get("days")
    parts = []
    if touches and days:
        parts.append(f"{touches} touches over {days} days")
    parts += [str(cadence[key]) for key in ("spacing", "evergreen") if cadence.get(key)]
    return "; ".join(parts) or inline(cadence)


def _trigger_line(trigger: Any) -> str:
    if isinstance(trigger, dict) and trigger.get("when"):
        return f"{trigger['when']} → {trigger.get('then', '')}".rstrip(" →")
    return inline(trigger)


def _step_line(step: Any) -> str:
    if not isinstance(step, dict):
        return str(step)
    day = pick(step, "day", "day_offset", "offset_days")
    parts = [f"day {day}" if day is not None else None]
    parts += [str(step[key]) for key in ("channel", "stage", "theme") if step.get(key)]
    line = " · ".join(part for part in parts if part)
    if step.get("goal"):
        line += f": {step['goal']}"
    link = pick(step, "content", "url", "content_url")
    title = pick(step, "content_title", "title")
    if link and isinstance(link, str):
        line += f" ([{title}]({link}))" if title else f" ({link})"
    return line


def _links(items: Any) -> str:
    shown = []
    for item in as_list(items)[:4]:
        if isinstance(item, dict):
            title, url = pick(item, "title", "name"), pick(item, "url")
            shown.append(f"[{title}]({url})" if url else str(title))
        else:
            shown.append(str(item))
    return ", ".join(shown) or "nothing in the library yet"


def saved(run: ToolRun, name: str) -> str:
    result = run.result if isinstance(run.result, dict) else {}
    status = pick(result, "status")
    steps = pick(result, "steps", "touches")
    count = len(steps) if isinstance(steps, list) else steps
    text = f"Saved the sequence **{pick(result, 'name') or name}**"
    details = [f"{count} touches" if count else None, f"status {status}" if status else None]
    shown = ", ".join(d for d in details if d)
    text += f" ({shown})." if shown else "."
    if status and str(status) != "active":
        text += " Say *activate it* when it should start enrolling leads."
    return text


def sequence_list(run: ToolRun) -> str:
    found = records(run.result) or [
        {"name": n} for n in (run.result if isinstance(run.result, list) else [])
    ]
    if not found:
        return "There are no saved sequences yet. Ask me to design one."
    lines = [f"{len(found)} sequence{'s' if len(found) != 1 else ''}:"]
    for item in found:
        steps = pick(item, "steps", "touches", "step_count")
        count = len(steps) if isinstance(steps, list) else steps
        bits = [str(b) for b in (pick(item, "status"), f"{count} touches" if count else None) if b]
        line = f"- **{pick(item, 'name')}**" + (f" ({', '.join(bits)})" if bits else "")
        description = pick(item, "description", "goal")
        lines.append(line + (f": {description}" if description else ""))
    return "\n".join(lines)


def sequence(run: ToolRun) -> str:
    result = run.result if isinstance(run.result, dict) else {}
    merged = {**inner(result, "definition"), **result}
    lines = [f"**{pick(merged, 'name') or run.args.get('name')}**"]
    status = pick(merged, "status")
    if status:
        lines[0] += f" ({status})"
    description = pick(merged, "description", "goal")
    if description:
        lines.append(str(description))
    for key, title in (("enrol", "Enrols"), ("segments", "Segments"), ("exit", "Exits")):
        if merged.get(key):
            lines.append(f"- {title}: {inline(merged[key])}")
    steps = pick(merged, "steps", "touches")
    if isinstance(steps, list):
        lines.append(f"- {len(steps)} touches:")
        lines += [f"  {i}. {_step_line(step)}" for i, step in enumerate(steps, start=1)]
    return "\n".join(lines)


def status_changed(run: ToolRun, name: str, status: str) -> str:
    result = run.result if isinstance(run.result, dict) else {}
    now = pick(result, "status") or status
    return f"The sequence **{pick(result, 'name') or name}** is now **{now}**."


# --- leads and experiments -----------------------------------------------------------------


def top_leads(run: ToolRun) -> str:
    found = records(run.result)
    if not found:
        return "No open lead has a score yet: import events and run `nurture score rescore`."
    lines = [f"The {len(found)} hottest open leads:"]
    for item in found[:MAX_LISTED]:
        who = ", ".join(str(b) for b in (pick(item, "role"), pick(item, "company")) if b)
        why = "; ".join(str(f) for f in as_list(pick(item, "factors") or [])[:3])
        lines.append(
            f"- **#{pick(item, 'lead_id')} {pick(item, 'name')}**"
            + (f" ({who})" if who else "")
            + f": score {number('score', pick(item, 'score'))}, decile {pick(item, 'decile')}"
            + (f"; why: {why}" if why else "")
        )
    return "\n".join(lines)


def experiments(run: ToolRun) -> str:
    result = run.result if isinstance(run.result, dict) else {}
    found = [dict(e) for e in as_list(result.get("experiments")) if isinstance(e, Mapping)]
    if not found:
        lines = ["No experiments yet: `nurture experiment create` starts one."]
    else:
        lines = [f"**{len(found)} experiment{'s' if len(found) != 1 else ''}**"]
    for item in found[:MAX_LISTED]:
        lines.append(
            f"- **{pick(item, 'name') or pick(item, 'dimension')}** "
            f"({pick(item, 'segment')}, {pick(item, 'dimension')}, "
            f"objective {pick(item, 'objective')}, {pick(item, 'status')})"
        )
        for arm in [dict(a) for a in as_list(pick(item, "arms") or []) if isinstance(a, Mapping)]:
            best = pick(arm, "p_best")
            lines.append(
                f"  - {inline(pick(arm, 'value'))}: {pick(arm, 'successes')}/{pick(arm, 'trials')}"
                + (f", P(best) {number('share', best)}" if best is not None else "")
            )
    holdout = result.get("holdout")
    if isinstance(holdout, Mapping):
        lines.append("\n" + _holdout_line(dict(holdout)))
    return "\n".join(lines)
