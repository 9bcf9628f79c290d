"""Guardrails every draft passes before it is queued: facts, privacy, tone, length, compliance."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from html import unescape
from pathlib import Path

import yaml
from pydantic import BaseModel, computed_field

from knowledge.tokens import count_tokens
from tools.guardrails.claims import (
    Sources,
    emails_in,
    mentions,
    normalize_url,
    sources_of,
    ungrounded_names,
    ungrounded_numbers,
    urls_in,
)
from tools.guardrails.injection import injection_signals
from tools.schemas import DecisionContext, EmailDraft, VideoScript

BANNED_PATH = Path(__file__).parent / "banned_phrases.yaml"
_FAKE_REPLY = re.compile(r"^\s*(?:re|fw|fwd)\s*:", re.IGNORECASE)
# Traces of the prompt that must never reach a lead.
_PROMPT_TRACES = re.compile(
    r"</?\s*(?:context|lead_text)\s*>|\"lead_id\"\s*:|\"snippets\"\s*:|\bEmailDraft\b|\bVideoScript\b"
)
_TAG = re.compile(r"<[^>]+>")


class GuardrailError(ValueError):
    """The banned-phrase list cannot be loaded."""


class Issue(BaseModel):
    """One reason a draft may not be sent, with the field to fix."""

    code: str
    message: str
    field: str | None = None


class GuardrailReport(BaseModel):
    """The verdict on one draft: ok only when no issue was found."""

    issues: list[Issue] = []

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        return not self.issues

    @property
    def codes(self) -> list[str]:
        return [issue.code for issue in self.issues]

    def summary(self) -> str:
        if self.ok:
            return "all guardrails passed"
        return "; ".join(f"{issue.code}: {issue.message}" for issue in self.issues)

    def merged(self, other: GuardrailReport) -> GuardrailReport:
        return GuardrailReport(issues=[*self.issues, *other.issues])


@dataclass(frozen=True)
class Limits:
    """Length limits (DOMAIN.md: 2-3 short paragraphs, one CTA; video 30-60 s)."""

    subject_chars: int = 90
    preview_chars: int = 140
    body_words: int = 180
    paragraph_words: int = 90
    min_paragraphs: int = 2
    max_paragraphs: int = 3
    body_tokens: int = 320
    cta_chars: int = 60
    video_min_s: int = 30
    video_max_s: int = 60
    words_per_second: float = 3.2  # faster than that is a rushed read


DEFAULT_LIMITS = Limits()


def load_banned_phrases(path: Path | str = BANNED_PATH) -> tuple[str, ...]:
    """The phrases from a YAML file with a `phrases:` list; a clear error if it is malformed."""
    return _load_banned(str(path))


@lru_cache(maxsize=8)
def _load_banned(path: str) -> tuple[str, ...]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise GuardrailError(f"{path}: cannot read the banned-phrase list ({exc})") from exc
    phrases = data.get("phrases") if isinstance(data, dict) else None
    if not isinstance(phrases, list) or not all(isinstance(p, str) and p.strip() for p in phrases):
        raise GuardrailError(f"{path}: expected 'phrases:' followed by a list of phrases")
    return tuple(" ".join(p.lower().split()) for p in phrases)


def check_email(
    draft: EmailDraft,
    ctx: DecisionContext,
    *,
    rendered: tuple[str, str, str | None] | None = None,
    unsubscribe_url: str | None = None,
    other_leads: Sequence[str] = (),
    banned: Sequence[str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> GuardrailReport:
    """Every guardrail on an email draft; with `rendered` (subject, text, html) also the
    compliance lines of the message as it would be sent."""
    sources = sources_of(ctx)
    body = "\n\n".join(draft.paragraphs)
    parts = {
        "subject": draft.subject,
        "preview": draft.preview,
        "paragraphs": body,
        "cta_text": draft.cta_text,
    }
    issues = _content_issues(parts, ctx, sources, other_leads, banned)
    issues += _email_shape(draft, body, limits)
    issues += _links(draft.cta_url, body, draft.sources, sources, field="cta_url")
    report = GuardrailReport(issues=issues)
    if rendered is not None:
        report = report.merged(check_rendered_email(rendered, ctx, unsubscribe_url))
    return report


def check_video_script(
    script: VideoScript,
    ctx: DecisionContext,
    *,
    other_leads: Sequence[str] = (),
    banned: Sequence[str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> GuardrailReport:
    """Every guardrail on a video script: facts, privacy, tone, 30-60 s, greeting, one CTA."""
    sources = sources_of(ctx)
    spoken = "\n".join(shot.line for shot in script.shots)
    parts = {
        "title": script.title,
        "shots.line": spoken,
        "shots.shot": "\n".join(shot.shot for shot in script.shots),
        "cta_text": script.cta_text,
    }
    issues = _content_issues(parts, ctx, sources, other_leads, banned)
    duration = script.duration_s
    if not limits.video_min_s <= duration <= limits.video_max_s:
        issues.append(
            Issue(
                code="video_length",
                message=f"the script runs {duration} s; keep it between "
                f"{limits.video_min_s} and {limits.video_max_s} s",
                field="shots",
            )
        )
    for index, shot in enumerate(script.shots):
        words = len(shot.line.split())
        if words > shot.seconds * limits.words_per_second:
            issues.append(
                Issue(
                    code="shot_too_fast",
                    message=f"shot {index + 1} has {words} words for {shot.seconds} s; "
                    "give it more seconds or fewer words",
                    field=f"shots[{index}]",
                )
            )
    first = (ctx.lead.first_name or "").strip()
    # a "name" that is really an instruction is never greeted, so it is not required either
    if first and not injection_signals(first) and not mentions(script.shots[0].line, first):
        issues.append(
            Issue(
                code="greeting_missing",
                message=f"the first shot should greet {first} by name",
                field="shots[0].line",
            )
        )
    if script.background_url:
        lead_site = normalize_url(ctx.lead.website) if ctx.lead.website else None
        if normalize_url(script.background_url) != lead_site:
            issues.append(
                Issue(
                    code="background_not_lead_site",
                    message=f"background {script.background_url} is not the lead's website "
                    f"({ctx.lead.website or 'unknown'}); use their site or none",
                    field="background_url",
                )
            )
    issues += _links(script.cta_url, spoken, script.sources, sources, field="cta_url")
    return GuardrailReport(issues=issues)


def check_rendered_email(
    rendered: tuple[str, str, str | None],
    ctx: DecisionContext,
    unsubscribe_url: str | None = None,
) -> GuardrailReport:
    """The message as sent names its sender (name, company, postal address) and has a working
    unsubscribe line, in the text part and in the HTML part."""
    _subject, text, html = rendered
    issues: list[Issue] = []
    sender = ctx.sender
    if sender is None:
        issues.append(
            Issue(
                code="sender_missing",
                message="no sender in the context; every message needs a real sender identity",
                field="sender",
            )
        )
    readable_html = None if html is None else _html_text(html)
    for part_name, part in (("text", text), ("html", readable_html)):
        if part is None:
            continue
        if sender is not None:
            for label, value in (
                ("name", sender.name),
                ("company", sender.company),
                ("postal address", sender.address),
            ):
                if value.strip() and not _contains(part, value):
                    issues.append(
                        Issue(
                            code="sender_identity",
                            message=f"the {part_name} part does not show the sender's {label}",
                            field=part_name,
                        )
                    )
        if "unsubscribe" not in part.lower() or (
            unsubscribe_url is not None and unsubscribe_url not in part
        ):
            issues.append(
                Issue(
                    code="unsubscribe_missing",
                    message=f"the {part_name} part has no unsubscribe line with its link",
                    field=part_name,
                )
            )
    return GuardrailReport(issues=issues)


def _content_issues(
    parts: dict[str, str],
    ctx: DecisionContext,
    sources: Sources,
    other_leads: Sequence[str],
    banned: Sequence[str] | None,
) -> list[Issue]:
    """Checks every text field shares: facts, names, privacy, banned phrases, injections."""
    phrases = load_banned_phrases() if banned is None else banned
    issues: list[Issue] = []
    for name, text in parts.items():
        for number in ungrounded_numbers(text, sources):
            issues.append(
                Issue(
                    code="ungrounded_number",
                    message=f"{number!r} is not in the content or the lead record; "
                    "remove it or quote the source exactly",
                    field=name,
                )
            )
        for word in ungrounded_names(text, sources):
            issues.append(
                Issue(
                    code="ungrounded_name",
                    message=f"{word!r} is not in the content or the lead record; names of "
                    "people, companies or products must come from the sources",
                    field=name,
                )
            )
        for email in emails_in(text):
            if email not in sources.emails:
                issues.append(
                    Issue(
                        code="foreign_email",
                        message=f"{email} is neither the sender's address nor in the content",
                        field=name,
                    )
                )
        for other in other_leads:
            if other.strip().lower() not in sources.own_names and mentions(text, other):
                issues.append(
                    Issue(
                        code="other_lead_data",
                        message=f"mentions {other!r}, who is another lead; only this lead's "
                        "own details may appear",
                        field=name,
                    )
                )
        normal = _normalize(text)
        for phrase in _banned_in(normal, tuple(phrases)):
            issues.append(
                Issue(
                    code="banned_phrase",
                    message=f"contains the banned phrase {phrase!r}",
                    field=name,
                )
            )
        if _PROMPT_TRACES.search(text):
            issues.append(
                Issue(
                    code="prompt_leak",
                    message="contains text of the prompt or the context; rewrite the field",
                    field=name,
                )
            )
        for signal in injection_signals(text):
            if signal.code == "hidden_characters" or name != "shots.shot":
                issues.append(
                    Issue(
                        code="injection_echo",
                        message=f"repeats an instruction-like text ({signal.code}: "
                        f"{signal.excerpt!r}); never pass lead text on as instructions",
                        field=name,
                    )
                )
        if text.count("!") > 1:
            issues.append(
                Issue(
                    code="hype",
                    message="more than one exclamation mark; keep the tone calm",
                    field=name,
                )
            )
    return issues


def _banned_in(normal: str, phrases: tuple[str, ...]) -> list[str]:
    """The banned phrases in already-normalized text, each once, in list order."""
    found = {match.group(0) for match in _banned_pattern(phrases).finditer(normal)}
    return [phrase for phrase in phrases if phrase in found]


@lru_cache(maxsize=8)
def _banned_pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern for the whole list (longest first, so 'guaranteed' wins over 'guarantee')."""
    ordered = sorted(phrases, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, ordered)) + r")(?!\w)")


def _email_shape(draft: EmailDraft, body: str, limits: Limits) -> list[Issue]:
    issues: list[Issue] = []

    def add(code: str, message: str, field: str) -> None:
        issues.append(Issue(code=code, message=message, field=field))

    subject = draft.subject.strip()
    if not subject:
        add("subject_empty", "the subject is empty", "subject")
    if len(subject) > limits.subject_chars:
        add(
            "subject_too_long",
            f"the subject has {len(subject)} characters; keep it to {limits.subject_chars}",
            "subject",
        )
    if _FAKE_REPLY.match(subject):
        add("fake_reply", "the subject pretends to be a reply or forward (RE:/FW:)", "subject")
    if len(draft.preview) > limits.preview_chars:
        add(
            "preview_too_long",
            f"the preview has {len(draft.preview)} characters; keep it to {limits.preview_chars}",
            "preview",
        )
    if len(draft.cta_text) > limits.cta_chars:
        add("cta_too_long", f"the button label is over {limits.cta_chars} characters", "cta_text")
    count = len([p for p in draft.paragraphs if p.strip()])
    if not limits.min_paragraphs <= count <= limits.max_paragraphs:
        add(
            "paragraph_count",
            f"{count} paragraphs; write {limits.min_paragraphs}-{limits.max_paragraphs} short ones",
            "paragraphs",
        )
    words = len(body.split())
    if words > limits.body_words:
        add(
            "too_long",
            f"the body has {words} words; keep it under {limits.body_words}",
            "paragraphs",
        )
    for index, paragraph in enumerate(draft.paragraphs):
        if len(paragraph.split()) > limits.paragraph_words:
            add(
                "paragraph_too_long",
                f"paragraph {index + 1} has {len(paragraph.split())} words; keep each under "
                f"{limits.paragraph_words}",
                f"paragraphs[{index}]",
            )
    tokens = count_tokens(f"{draft.subject}\n{draft.preview}\n{body}\n{draft.cta_text}")
    if tokens > limits.body_tokens:
        add(
            "too_many_tokens",
            f"{tokens} tokens; keep the email under {limits.body_tokens}",
            "paragraphs",
        )
    return issues


def _links(
    cta_url: str, body: str, used: Sequence[str], sources: Sources, *, field: str
) -> list[Issue]:
    issues: list[Issue] = []
    if not re.match(r"^https?://[^\s]+$", cta_url.strip(), re.IGNORECASE):
        issues.append(
            Issue(code="bad_url", message=f"{cta_url!r} is not an http(s) link", field=field)
        )
    elif normalize_url(cta_url) not in sources.snippet_urls:
        issues.append(
            Issue(
                code="ungrounded_link",
                message=f"{cta_url} is not the url of any retrieved content; link to a source",
                field=field,
            )
        )
    others = sorted({url for url in urls_in(body) if url != normalize_url(cta_url)})
    if others:
        issues.append(
            Issue(
                code="extra_link",
                message=f"links other than the one call to action: {', '.join(others)}",
                field="body",
            )
        )
    unknown = [url for url in used if normalize_url(url) not in sources.snippet_urls]
    if unknown:
        issues.append(
            Issue(
                code="unknown_source",
                message=f"sources not among the retrieved content: {', '.join(unknown)}",
                field="sources",
            )
        )
    return issues


def _html_text(html: str) -> str:
    """The visible text of an HTML part plus its link targets (unescaped)."""
    targets = " ".join(re.findall(r"href=\"([^\"]*)\"", html))
    return unescape(_TAG.sub(" ", html) + " " + targets)


def _contains(text: str, value: str) -> bool:
    return " ".join(value.split()).lower() in " ".join(text.split()).lower()


def _normalize(text: str) -> str:
    text = text.lower().replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return " ".join(text.split())
