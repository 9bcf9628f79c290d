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
