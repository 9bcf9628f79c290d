"""Lead-provided text is data: fence it for prompts and spot prompt-injection attempts in it."""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from dataclasses import dataclass

FENCE_OPEN, FENCE_CLOSE = "<lead_text>", "</lead_text>"
MAX_LEAD_TEXT = 2000
EXCERPT = 80

_IGNORE = r"(?:ignore|disregard|forget|skip|override|bypass|drop|abandon)"
_PRIOR = (
    r"(?:all\s+|any\s+|the\s+|your\s+|of\s+the\s+|every\s+)*"
    r"(?:previous|prior|above|earlier|preceding|original|initial|system|existing|old|former|"
    r"developer)?"
)
_RULES = (
    r"(?:instructions?|prompts?|rules|directions|guidelines|context|messages|orders|commands|"
    r"constraints|guardrails|programming|policies)"
)
_TOOL_NAMES = (
    r"hand_off_to_sdr|schedule_touch|find_leads|save_sequence|set_sequence_status|draft_email|"
    r"draft_video_script|pipeline_summary|score_lead|segment_lead|search_content|list_approvals"
)

# (code, pattern): each a kind of attempt the agent records; patterns are case-insensitive.
PATTERNS: tuple[tuple[str, str], ...] = (
    ("override_instructions", rf"\b{_IGNORE}\s+{_PRIOR}\s*{_RULES}"),
    (
        "override_instructions",
        r"\b(?:new|updated|real|actual|revised)\s+(?:system\s+)?instructions?\s*:",
    ),
    ("override_instructions", r"\bfrom\s+now\s+on\s*,?\s+(?:you|always|never|only|respond|reply)"),
    ("override_instructions", r"\bdo\s+not\s+follow\s+(?:the|your|any)\s+(?:rules|instructions)"),
    (
        "override_instructions",
        r"\b(?:forget|ignore|disregard)\s+(?:everything|all|anything)\s+(?:you\s+(?:were|have\s+"
        r"been|are)\s+told|above|before|previously|said\s+before)",
    ),
    # the same in French, Spanish and German
    (
        "override_instructions",
        r"\bignorez?\s+(?:toutes\s+)?les\s+instructions"
        r"|\bignora(?:r)?\s+(?:todas\s+)?las\s+instrucciones"
        r"|\bignorier(?:e|en)\s+(?:alle\s+)?(?:vorherigen\s+)?anweisungen",
    ),
    (
        "role_marker",
        r"(?:^|\n)\s*(?:#+\s*)?(?:system|assistant|developer|human|user|tool)"
        r"\s*(?:message|prompt)?\s*[:>]",
    ),
    (
        "role_marker",
        r"<\|?(?:im_start|im_end|system|endoftext|eot_id|start_header_id)\|?>"
        r"|\[/?INST\]|<</?SYS>>|</s>",
    ),
    (
        "role_marker",
        r"</?\s*(?:system|assistant|instructions?|context|lead_text|tool_call|function_call)\s*>",
    ),
    (
        "prompt_leak",
        r"\b(?:reveal|show|print|repeat|output|display|tell\s+me|give\s+me|leak|dump)\b"
        r"[^.\n]{0,40}\b(?:system\s+prompt|your\s+(?:prompt|instructions|rules|guidelines)"
        r"|initial\s+prompt|hidden\s+prompt|the\s+prompt\s+above)",
    ),
    ("prompt_leak", r"\bwhat\s+(?:are|were)\s+your\s+(?:instructions|rules|system\s+prompt)"),
    (
        "prompt_leak",
        r"\b(?:repeat|print|output|spell-check|translate)\s+(?:the\s+|all\s+)?"
        r"(?:words|text|everything|instructions|prompt)\s+(?:above|before\s+this)"
        r"|\b(?:print|repeat|output|show|reveal)\s+(?:the\s+)?(?:above|previous|preceding)\s+"
        r"(?:prompt|instructions|text)",
    ),
    ("role_marker", r"(?:={4,}|-{4,}|#{4,})\s*(?:END|BEGIN|STOP)\b"),
    (
        "tool_call",
        r"[{,]\s*\"(?:tool_calls?|function_call|tool|name|function|arguments|action|"
        r"recipient_name)\"\s*:\s*[\"{\[]",
    ),
    (
        "tool_call",
        r"\b(?:call|invoke|execute|trigger)\s+(?:the\s+)?(?:\w+\s+)?(?:tool|function)\b"
        rf"|\b(?:{_TOOL_NAMES})\s*\(",
    ),
    (
        "data_exfiltration",
        r"\b(?:send|give|show|list|share|email|forward|export|dump|tell)\b[^.\n]{0,30}"
        r"\b(?:other|all|every|your|the\s+other)\s+(?:leads?|customers?|contacts?|prospects?|"
        r"users?|clients?|people'?s?|email\s+addresses|records|data\s*base|database)",
    ),
    (
        "data_exfiltration",
        r"\b(?:export|dump|download|extract|leak|copy)\b[^.\n]{0,30}\b(?:database|data\s*base|crm"
        r"|lead\s+list|customer\s+list|contact\s+list|mailing\s+list)\b",
    ),
    (
        "data_exfiltration",
        r"\b(?:api\s+keys?|credentials|secret\s+keys?|access\s+tokens?"
        r"|env(?:ironment)?\s+variables?)\b",
    ),
    (
        "role_play",
        r"\b(?:you\s+are\s+now\s+(?:a|an|my|in|no\s+longer|free|unrestricted|jailbroken)\b"
        r"|act\s+as\s+(?:an?\s+)?(?:unrestricted|different|new|evil|system|admin|developer|"
        r"jailbroken|dan\b)|pretend\s+(?:to\s+be|you\s+are)|role-?\s?play\s+as"
        r"|from\s+now\s+on\s+you\s+are|simulate\s+(?:a|an)\s+)",
    ),
    (
        "role_play",
        r"(?-i:\bDAN\b)|\b(?:do\s+anything\s+now|developer\s+mode|jailbreak|jailbroken"
        r"|god\s+mode|sudo\s+mode|no\s+restrictions|without\s+(?:any\s+)?restrictions)\b",
    ),
    (
        "instruction_to_writer",
        r"\b(?:in\s+your\s+(?:reply|email|answer|response)|when\s+you\s+(?:write|reply|answer"
        r"|draft))\b[^.\n]{0,60}\b(?:include|say|write|offer|promise|add|mention|tell)\b",
    ),
)
_COMPILED = tuple((code, re.compile(pattern, re.IGNORECASE)) for code, pattern in PATTERNS)
# Invisible characters used to hide text from a human reviewer (zero-width, bidi controls, tags).
_HIDDEN = re.compile(
    "[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]"
)
_BASE64_BLOB = re.compile(r"(?:[A-Za-z0-9+/]{4}){8,}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_TAG_LIKE = re.compile(
    r"</?\s*(?:lead_text|context|system|assistant|human|user|developer|tool[_a-z]*|"
    r"function[_a-z]*|instructions?)\b[^>]*>",
    re.IGNORECASE,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class InjectionSignal:
    """One sign of a prompt-injection attempt: its kind and the text that matched."""

    code: str
    excerpt: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "excerpt": self.excerpt}


def injection_signals(text: str | None) -> list[InjectionSignal]:
    """Every kind of injection attempt found in `text` (one signal per kind, first match)."""
    if not text:
        return []
    signals: list[InjectionSignal] = []
    if _HIDDEN.search(text):
        signals.append(InjectionSignal("hidden_characters", "invisible or direction characters"))
    normal = _HIDDEN.sub("", _normalize(text))
    seen: set[str] = set()
    for code, pattern in _COMPILED:
        if code in seen:
            continue
        match = pattern.search(normal)
        if match:
            seen.add(code)
            signals.append(InjectionSignal(code, _excerpt(normal, match.start(), match.end())))
    for blob in _BASE64_BLOB.finditer(normal):
        if _decodes_to_text(blob.group(0)):
            signals.append(InjectionSignal("encoded_payload", _excerpt(normal, *blob.span())))
            break
    return signals


def sanitize_lead_text(text: str | None, limit: int = MAX_LEAD_TEXT) -> str:
    """`text` as inert data for a prompt: cleaned, cut to `limit`, fenced in <lead_text>.

    Hidden and control characters go, look-alike letters are folded, and tags that could close
    the fence or open a role section are defanged, so the text cannot escape its fence.
    """
    if not text:
        return f"{FENCE_OPEN}{FENCE_CLOSE}"
    clean = _HIDDEN.sub("", _normalize(text))
    clean = _CONTROL.sub(" ", clean)
    clean = _TAG_LIKE.sub(lambda m: m.group(0).replace("<", "‹").replace(">", "›"), clean)
    clean = clean.strip()
    if len(clean) > limit:
        clean = clean[:limit].rstrip() + " […]"
    return f"{FENCE_OPEN}{clean}{FENCE_CLOSE}"


def _decodes_to_text(blob: str) -> bool:
    """Base64 that decodes to readable text is a hidden message (a hash or an id is not)."""
    try:
        decoded = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=True)
        text = decoded.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    readable = sum(ch.isprintable() or ch.isspace() for ch in text)
    return len(text) >= 16 and readable / len(text) > 0.95 and " " in text


def _normalize(text: str) -> str:
    """NFKC folds full-width and other look-alike forms ('ｉｇｎｏｒｅ' -> 'ignore')."""
    return unicodedata.normalize("NFKC", text)


def _excerpt(text: str, start: int, end: int) -> str:
    piece = " ".join(text[start:end].split())
    return piece if len(piece) <= EXCERPT else piece[: EXCERPT - 1] + "…"
