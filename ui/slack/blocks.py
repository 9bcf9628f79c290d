"""Block Kit for SDRs: the approval, hand-off and task cards, their decided states and modals."""

from __future__ import annotations

import json
from typing import Any

from tools.handoff import REJECT_REASONS
from ui.slack.text import (
    HEADER_LIMIT,
    chunks,
    clip,
    escape,
    link,
    markdown_to_mrkdwn,
    quote,
    when,
)
from ui.when import plain_when

Blocks = list[dict[str, Any]]

APPROVE, EDIT, REJECT = "approve_draft", "edit_draft", "reject_draft"
ACCEPT_HANDOFF, REJECT_HANDOFF = "accept_handoff", "reject_handoff"
TASK_DONE = "task_done"
EDIT_VIEW, REJECT_VIEW, REJECT_HANDOFF_VIEW = "edit_draft", "reject_draft", "reject_handoff"
# Why an SDR turns a draft down; the code leads the stored reason so evals can count them.
DRAFT_REJECT_REASONS: dict[str, str] = {
    "off_brand": "off-brand tone or style",
    "inaccurate": "inaccurate or unsupported claim",
    "wrong_content": "wrong content or link for this lead",
    "not_personal": "not personal enough",
    "wrong_timing": "wrong moment to contact this lead",
    "do_not_contact": "this lead should not get automated email",
    "other": "other (say why below)",
}
# Slack caps a plain-text input at 3,000 characters.
INPUT_LIMIT = 3000
VERDICT_WORDS = {
    "approved": (":white_check_mark:", "Approved"),
    "edited": (":pencil2:", "Approved with edits"),
    "rejected": (":no_entry_sign:", "Rejected"),
    "accepted": (":white_check_mark:", "Accepted"),
}


def _text(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _text(text)}


def _context(*parts: str) -> dict[str, Any]:
    return {"type": "context", "elements": [_text(p) for p in parts if p]}


def _button(label: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": _plain(label),
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def _who(lead: dict[str, Any]) -> str:
    role_company = " at ".join(escape(p) for p in (lead.get("role"), lead.get("company")) if p)
    parts = [f"*{escape(lead['name'])}*", role_company, escape(lead.get("email"))]
    return " · ".join(p for p in parts if p)


def _score(lead: dict[str, Any]) -> str:
    if lead.get("score") is None:
        return "not scored yet"
    decile = lead.get("decile")
    top = " (top 10 %)" if decile == 1 else ""
    return f"{lead['score']:.0f} · decile {decile}{top}" if decile else f"{lead['score']:.0f}"


def _segments(lead: dict[str, Any]) -> str:
    return ", ".join(f"`{escape(s)}`" for s in lead.get("segments") or []) or "none"


# --- approval card ---------------------------------------------------------------------------


def approval_card(record: dict[str, Any]) -> tuple[str, Blocks]:
    """The card for one draft: pending (with buttons) or decided (who, when, what happens)."""
    lead, draft = record["lead"], record["draft"]
    video = draft["kind"] == "video_script"
    kind = "Video script" if video else "Email"
    fallback = f"{kind} draft for {lead['name']} ({lead.get('company') or 'no company'})"
    if record["status"] == "pending":
        fallback += ", waiting for approval"
    header = f"{':movie_camera:' if video else ':envelope:'} {kind} for approval: {lead['name']}"
    fields = [
        _text(f"*Score*\n{_score(lead)}"),
        _text(f"*Segment*\n{_segments(lead)}"),
        _text(f"*Trigger*\n{escape(record.get('trigger')) or 'scheduled touch'}"),
        _text(f"*Owner*\n{escape(lead.get('owner')) or 'unassigned'}"),
    ]
    blocks: Blocks = [
        {"type": "header", "text": _plain(clip(header, HEADER_LIMIT))},
        _section(_who(lead)),
        {"type": "section", "fields": fields},
    ]
    factors = [escape(str(f)) for f in lead.get("factors") or []][:5]
    if factors:
        blocks.append(_section("*Why this lead*\n" + "\n".join(f"• {f}" for f in factors)))
    if record.get("why"):
        blocks.append(_section(f"*Why this touch*\n{escape(record['why'])}"))
    blocks.append({"type": "divider"})
    blocks += _draft_blocks(draft, video)
    blocks += _approval_footer(record)
    return fallback, blocks


def _draft_blocks(draft: dict[str, Any], video: bool) -> Blocks:
    title = "Title" if video else "Subject"
    head = f"*{title}:* {escape(draft.get('subject')) or '(none)'}"
    if draft.get("preview") and not video:
        head += f"\n*Preview:* {escape(draft['preview'])}"
    blocks: Blocks = [_section(head)]
    blocks += [_section(quote(piece)) for piece in chunks(escape(draft.get("body") or ""))]
    sources = [
        link(url, title)
        for url, title in zip(draft["sources"], draft["source_titles"], strict=True)
    ]
    notes = [
        "*Sources:* " + " · ".join(sources) if sources else "*Sources:* none (not grounded)",
        f"model {escape(draft.get('model')) or '?'} · prompt {escape(draft.get('prompt_version'))}",
    ]
    issues = draft.get("guardrail_issues") or []
    if issues:
        said = "; ".join(escape(str(i.get("message", i))) for i in issues[:3])
        notes.append(f":warning: guardrails: {said}")
    blocks.append(_context(*notes))
    return blocks


def _approval_footer(record: dict[str, Any]) -> Blocks:
    approval_id = str(record["id"])
    since = f"Approval #{approval_id} · queued {when(record.get('created_at_dt'))}"
    if record["status"] == "pending":
        return [
            {
                "type": "actions",
                "block_id": f"approval:{approval_id}",
                "elements": [
                    _button("Approve", APPROVE, approval_id, "primary"),
                    _button("Edit", EDIT, approval_id),
                    _button("Reject", REJECT, approval_id, "danger"),
                ],
            },
            _context(since + " · it is never sent without a decision"),
        ]
    return [_section(approval_verdict(record)), _context(since)]


def approval_verdict(record: dict[str, Any]) -> str:
    """One line: who decided, when, and what happens to the touch now."""
    emoji, word = VERDICT_WORDS.get(record["status"], (":grey_question:", record["status"]))
    line = f"{emoji} *{word}* by {escape(record.get('decided_by'))} {when(record['decided_at_dt'])}"
    touch = record.get("touch") or {}
    if record["status"] == "rejected":
        line += f"\n*Reason:* {escape(record.get('reason'))}. It will not be sent."
    elif touch.get("due_at") is not None:
        line += f"\nScheduled to send {when(touch['due_at'])} (the lead's business hours)."
    else:
        line += "\nIt goes out at the next send slot in the lead's business hours."
    return line


# --- hand-off card ---------------------------------------------------------------------------


def handoff_card(record: dict[str, Any]) -> tuple[str, Blocks]:
    lead = record["lead"]
    fallback = f"Hand-off: {lead['name']} ({lead.get('company') or 'no company'})"
    if record["status"] == "pending":
        fallback += f", decide by {plain_when(record.get('sla_due_at_dt'))}"
    sla = _sla_text(record)
    blocks: Blocks = [
        {"type": "header", "text": _plain(clip(f":handshake: Hand-off: {lead['name']}", 150))},
        _section(_who(lead)),
        _section(f"*Why now*\n{escape(record.get('why_now'))}"),
        {
            "type": "section",
            "fields": [
                _text(f"*Score*\n{_score(lead)}"),
                _text(f"*Segment*\n{_segments(lead)}"),
                _text(f"*Owner*\n{escape(lead.get('owner')) or 'unassigned'}"),
                _text(f"*SLA*\n{sla}"),
            ],
        },
        {"type": "divider"},
    ]
    track = markdown_to_mrkdwn(record.get("talk_track") or "(no talk track)")
    blocks += [_section(piece) for piece in chunks("*Talk track*\n" + track)]
    handoff_id = str(record["id"])
    footer = f"Hand-off #{handoff_id} · opened {when(record.get('created_at_dt'))}"
    if record["status"] == "pending":
        blocks.append(
            {
                "type": "actions",
                "block_id": f"handoff:{handoff_id}",
                "elements": [
                    _button("Accept", ACCEPT_HANDOFF, handoff_id, "primary"),
                    _button("Reject", REJECT_HANDOFF, handoff_id, "danger"),
                ],
            }
        )
    else:
        blocks.append(_section(handoff_verdict(record)))
    blocks.append(_context(footer))
    return fallback, blocks


def _sla_text(record: dict[str, Any]) -> str:
    due = record.get("sla_due_at_dt")
    if due is None:
        return "no deadline"
    if record["status"] == "pending" and record.get("sla") == "breached":
        return f":red_circle: overdue: was due {when(due)}"
    hours = f" ({record['sla_hours']:g} business hours)" if record.get("sla_hours") else ""
    soon = ":large_orange_circle: " if record.get("sla") == "due_soon" else ""
    return f"{soon}decide by {when(due)}{hours}"


def handoff_verdict(record: dict[str, Any]) -> str:
    emoji, word = VERDICT_WORDS.get(record["status"], (":no_entry_sign:", "Rejected"))
    line = f"{emoji} *{word}* by {escape(record.get('sdr'))} {when(record['decided_at_dt'])}"
    if record.get("within_sla") is not None:
        line += " · within the SLA" if record["within_sla"] else " · after the SLA ran out"
    if record["status"] == "accepted":
        line += "\nThe lead is now an SQL and has left its nurture sequence."
    else:
        note = f" ({escape(record['note'])})" if record.get("note") else ""
        line += f"\n*Reason:* {escape(record.get('reject_label'))}{note}."
        line += " Recorded as a rejected MQL for the next scoring model."
    return line


# --- task card -------------------------------------------------------------------------------

TASK_WORDS = {
    # kind: (emoji, short name, what the person does, the draft's subject and text labels)
    "video": (
        ":movie_camera:",
        "Video to record",
        "Record a personal video (about a minute)",
        "Title",
        "Script",
    ),
    "sdr_task": (
        ":telephone_receiver:",
        "SDR task",
        "Reach out in person: a call or a note",
        "About",
        "Suggested message (say it your way)",
    ),
}
OTHER_TASK = (":memo:", "Task", "A task", "About", "Notes")


def task_card(record: dict[str, Any]) -> tuple[str, Blocks]:
    """A touch a person delivers: what to do for which lead, by when, and a Done button."""
    lead = record["lead"]
    emoji, noun, what, subject_label, text_label = TASK_WORDS.get(record["kind"], OTHER_TASK)
    company = lead.get("company") or "no company"
    fallback = f"{noun} for {lead['name']} ({company})"
    if record["status"] == "open":
        fallback += f", due {plain_when(record.get('due_at_dt'))}"
    blocks: Blocks = [
        {"type": "header", "text": _plain(clip(f"{emoji} {record['title']}", HEADER_LIMIT))},
        _section(_who(lead)),
        {
            "type": "section",
            "fields": [
                _text(f"*Task*\n{what}"),
                _text(f"*Due*\n{when(record.get('due_at_dt'))}"),
                _text(f"*Owner*\n{escape(lead.get('owner')) or 'unassigned'}"),
                _text(f"*Score*\n{_score(lead)}"),
            ],
        },
        {"type": "divider"},
    ]
    script = record.get("script")
    if script:
        subject = escape(script["subject"]) or "(none)"
        blocks.append(_section(f"*{subject_label}:* {subject}\n*{text_label}*"))
        text = escape(script.get("text") or "")
    else:  # the draft is gone: the task as the outbox stored it
        text = escape(record.get("body") or "")
    blocks += [_section(quote(piece)) for piece in chunks(text)]
    task_id = str(record["id"])
    footer = (
        f"Task #{task_id} · delivered {when(record.get('created_at_dt'))} · nurture sends "
        "nothing for this touch: it is yours to do"
    )
    if record["status"] == "open":
        blocks.append(
            {
                "type": "actions",
                "block_id": f"task:{task_id}",
                "elements": [_button("Done", TASK_DONE, task_id, "primary")],
            }
        )
    else:
        blocks.append(_section(task_verdict(record)))
    blocks.append(_context(footer))
    return fallback, blocks


def task_verdict(record: dict[str, Any]) -> str:
    return (
        f":white_check_mark: *Done* by {escape(record.get('done_by')) or 'someone'} "
        f"{when(record.get('done_at_dt'))}"
    )


# --- modals ------------------------------------------------------------------------------


def _options(reasons: dict[str, str]) -> list[dict[str, Any]]:
    return [{"text": _plain(clip(label, 75)), "value": code} for code, label in reasons.items()]


def edit_modal(record: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
    """The draft's subject and body to edit; saving approves the edited text."""
    draft, lead = record["draft"], record["lead"]
    title = "Title" if draft["kind"] == "video_script" else "Subject"
    subject: dict[str, Any] = {"type": "plain_text_input", "action_id": "value"}
    if draft.get("subject"):
        subject["initial_value"] = clip(draft["subject"], 150)
    return {
        "type": "modal",
        "callback_id": EDIT_VIEW,
        "private_metadata": json.dumps(metadata),
        "title": _plain("Edit and approve"),
        "submit": _plain("Approve edited"),
        "close": _plain("Cancel"),
        "blocks": [
            _context(f"Draft for *{escape(lead['name'])}* · approval #{record['id']}"),
            {
                "type": "input",
                "block_id": "subject",
                "label": _plain(title),
                "element": {**subject, "max_length": 150},
            },
            {
                "type": "input",
                "block_id": "body",
                "label": _plain("Body"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "initial_value": clip(draft.get("body") or "", INPUT_LIMIT),
                    "max_length": INPUT_LIMIT,
                },
            },
        ],
    }


def reject_modal(
    callback_id: str, heading: str, reasons: dict[str, str], metadata: dict[str, Any]
) -> dict[str, Any]:
    """A reason from the list plus free text (required when the reason is `other`)."""
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": json.dumps(metadata),
        "title": _plain("Reject"),
        "submit": _plain("Reject"),
        "close": _plain("Cancel"),
        "blocks": [
            _context(heading),
            {
                "type": "input",
                "block_id": "reason",
                "label": _plain("Reason"),
                "element": {
                    "type": "static_select",
                    "action_id": "value",
                    "placeholder": _plain("Pick a reason"),
                    "options": _options(reasons),
                },
            },
            {
                "type": "input",
                "block_id": "note",
                "optional": True,
                "label": _plain("Note"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": 1000,
                },
            },
        ],
    }


def reject_draft_modal(record: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
    heading = (
        f"Reject the draft for *{escape(record['lead']['name'])}* (approval #{record['id']}). "
        "It will not be sent; the reason feeds evals and scoring."
    )
    return reject_modal(REJECT_VIEW, heading, DRAFT_REJECT_REASONS, metadata)


def reject_handoff_modal(record: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
    heading = (
        f"Reject the hand-off of *{escape(record['lead']['name'])}* (#{record['id']}). "
        "The reason goes back to scoring as a rejected-MQL label."
    )
    return reject_modal(REJECT_HANDOFF_VIEW, heading, REJECT_REASONS, metadata)
