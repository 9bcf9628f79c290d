"""Slot extraction for the offline model: lead ids, names, segments, stages, periods, names.

Every extractor reads the user's words only (never tool results) and returns what it found;
`extract_slots` runs them all. Segment and stage words are tables so new phrasings are one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import date

from agent.models.periods import MONTHS, WEEKDAYS, period, send_time

# --- tables --------------------------------------------------------------------------------

# Words -> the product's segment names (tools/segments/segments.yaml); first match wins.
SEGMENT_WORDS: tuple[tuple[str, str], ...] = (
    (r"\b(?:tofu|mofu|late|cluster):(?:[a-z0-9][a-z0-9-]*|\*)", ""),  # a name, as written
    (r"\bre-?engage(?:ment)?\b|\bdormant\b|\bwin[- ]?back\b|\bsilent\b", "re-engage"),
    (r"\b(?:asked for|requested|booked) (?:a )?demos?\b|\bdemo request", "late:demo"),
    (r"\btrial(?:ist)?s?\b(?! of)", "late:trial"),
    (r"\bpricing[- ]page\b|\b(?:looked at|viewed|visited) pricing\b", "late:pricing"),
    (r"\breplied\b|\brepl(?:y|ies) to (?:an |our )?emails?\b", "late:reply"),
    (
        r"\bfin-?tech\b|\bfinancial services\b|\bbanking\b|\binsurance\b|\bbanks\b",
        "tofu:financial-services",
    ),
    (r"\bhealth-?care\b|\bhospitals?\b", "tofu:healthcare"),
    (r"\bsaas\b|\bsoftware\b|\btech(?:nology)? (?:companies|firms|leads)\b", "tofu:technology"),
    (r"\bmanufactur(?:ing|ers)\b", "tofu:manufacturing"),
    (r"\blogistics\b|\bsupply[- ]chain (?:companies|firms|leads)\b", "tofu:logistics-supply-chain"),
    (r"\bretail(?:ers)?\b|\be-?commerce\b", "tofu:retail-e-commerce"),
    (r"\bagencies\b|\badvertising\b", "tofu:marketing-advertising"),
    (r"\bprofessional services\b|\bconsultanc(?:y|ies)\b", "tofu:professional-services"),
    (r"\benterprises?\b|\blarge (?:companies|accounts)\b|\b500\+", "enterprise"),
)

# Course themes of the demo company (knowledge/content front matter); "data science" -> slug.
THEME_WORDS: tuple[tuple[str, str], ...] = (
    (r"\bdata[- ]scien(?:ce|tists?)\b", "data-science"),
    (r"\bproduct[- ]manage(?:ment|rs?)\b", "product-management"),
    (r"\bdigital[- ]marketing\b", "digital-marketing"),
    (r"\bbusiness[- ]analytics\b", "business-analytics"),
    (r"\bfinance[- ]for[- ]managers\b", "finance-for-managers"),
    (r"\bhr[- ]analytics\b|\bpeople analytics\b", "hr-analytics"),
    (r"\bsupply[- ]chain(?: analytics)?\b", "supply-chain-analytics"),
    (r"\bhealthcare[- ]management\b", "healthcare-management"),
    (r"\bmba\b", "mba-essentials"),
)

STAGE_WORDS: tuple[tuple[str, str], ...] = (
    (
        r"\bproblem(?:[- ]aware| stage)\b|\bawareness\b|\btop of (?:the )?funnel\b|\btofu\b(?!:)",
        "problem",
    ),
    (
        r"\bsolution(?:[- ]aware| stage)\b|\bconsideration\b|\bmofu\b(?!:)|"
        r"\bmid(?:dle)?[- ](?:of[- ](?:the[- ])?)?funnel\b",
        "solution",
    ),
    (r"\bvendor(?: stage| comparison)?\b|\bevaluation\b|\bcomparing\b", "vendor"),
    (
        r"\bdecision(?: stage)?\b|\bbottom of (?:the )?funnel\b|\bbofu\b|\blate[- ]stage\b|"
        r"\bready to buy\b",
        "decision",
    ),
)

SEQUENCE_STATUS_WORDS: tuple[tuple[str, str], ...] = (
    (r"\b(?:pause|suspend|hold)\b", "paused"),
    (r"\b(?:resume|unpause|activate|reactivate|restart|turn on|enable)\b", "active"),
    (r"\b(?:archive|retire|kill|delete|remove)\b", "archived"),
)

APPROVAL_STATUS_WORDS: tuple[tuple[str, str], ...] = (
    (r"\brejected\b|\bdeclined\b", "rejected"),
    (r"\bapproved\b", "approved"),
    (r"\bpending\b|\bwaiting\b|\bawaiting\b|\bqueue\b|\bto (?:approve|review)\b", "pending"),
)

ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3,
    "fourth": 4, "4th": 4, "fifth": 5, "5th": 5,
}  # fmt: skip


# Capitalised words that start or fill sentences but never name a lead or a company.
_NOT_NAME_WORDS = """a an and any are can could design did do does draft find for give hand how i
is it its lead leads let list me my nurture of on or our pause please resume save schedule score
segment send sequence show tell that the their them then there these this those to today
tomorrow us we what when which who whose why will with write yes no you your yesterday pipeline
month week year quarter mql mqls sql sqls sdr sdrs vp ceo cto cfo cmo coo hr slack email emails
video okay ok thanks thank hi hello hey"""
NOT_NAMES = frozenset(_NOT_NAME_WORDS.split()) | frozenset(MONTHS) | frozenset(WEEKDAYS)

ROLE = (
    r"(?:vp|svp|evp|vice president|head|director|chief \w+ officer|c[etfmo]o|founder|"
    r"co-?founder|manager|partner|president|analyst|engineer|recruiter)"
)
STOP = r"(?=\s+(?:for|about|at|on|in|with|and|to|from|who|that|which|because|please)\b|[,.;:?!]|$)"
NAME_WORD = r"[A-Z][\w&.\-]*"


@dataclass(frozen=True)
class Slots:
    """What the user's words name; None where they name nothing."""

    lead_id: int | None = None
    lead_name: str | None = None  # name, company or email to look the lead up by
    role: str | None = None  # "VP", "head of data": narrows several matches
    person: str | None = None  # "Ana" in "Ana at Acme": narrows the company's leads
    ordinal: int | None = None  # "the second one": a pick among matches shown before
    segment: str | None = None  # a segment name, written out or inferred from words
    segment_name: str | None = None  # only a segment name written out ("mofu:data-science")
    audience: str | None = None  # "mid-market fintech leads who downloaded ..."
    goal: str | None = None  # the request without the command words and the save clause
    stage: str | None = None
    theme: str | None = None
    topic: str | None = None  # what content to search for
    days: int | None = None
    touches: int | None = None
    since: date | None = None
    until: date | None = None
    name: str | None = None  # a sequence name
    save_as: str | None = None  # "... and save it as X"
    wants_save: bool = False
    status: str | None = None  # sequence status
    approval_status: str | None = None
    draft_id: int | None = None
    send_at: str | None = None
    reason: str | None = None
    k: int | None = None

    def merged(self, newer: Slots) -> Slots:
        """These slots with every slot `newer` fills replacing ours."""
        updates = {
            f.name: getattr(newer, f.name)
            for f in fields(self)
            if getattr(newer, f.name) not in (None, False)
        }
        return replace(self, **updates)

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) in (None, False) for f in fields(self))


def extract_slots(text: str, today: date) -> Slots:
    """Every slot the words fill."""
    lowered = text.lower()
    lead_name, role = lead_reference(text)
    person, company = person_at_company(text)
    lead_name = company or lead_name
    since, until = period(lowered, today)
    save_as = _save_name(text)
    return Slots(
        lead_id=lead_id(lowered),
        lead_name=lead_name,
        role=role,
        person=person,
        ordinal=ordinal(lowered),
        segment=first_match(SEGMENT_WORDS, lowered),
        segment_name=first_match(SEGMENT_WORDS[:1], lowered),
        audience=audience(text),
        goal=goal(text),
        stage=first_match(STAGE_WORDS, lowered),
        theme=first_match(THEME_WORDS, lowered),
        topic=topic(text),
        days=duration_days(lowered),
        touches=_int(r"\b(\d{1,2})\s+(?:touch(?:es|points)?|emails|steps|messages)\b", lowered),
        since=since,
        until=until,
        name=sequence_name(text) or save_as,
        save_as=save_as,
        wants_save=bool(re.search(r"\bsave\b", lowered)),
        status=first_match(SEQUENCE_STATUS_WORDS, lowered),
        approval_status=first_match(APPROVAL_STATUS_WORDS, lowered),
        draft_id=_int(r"\bdraft\s*(?:#|no\.?|number|id)?\s*(\d+)\b", lowered),
        send_at=send_time(lowered, today),
        reason=reason(text),
        k=_int(r"\btop\s+(\d{1,2})\b|\b(\d{1,2})\s+(?:pieces|assets|results|items|snippets)\b",
               lowered),
    )  # fmt: skip


def first_match(table: tuple[tuple[str, str], ...], text: str) -> str | None:
    for pattern, value in table:
        found = re.search(pattern, text)
        if found:
            return value or found.group(0)
    return None


def _int(pattern: str, text: str) -> int | None:
    found = re.search(pattern, text)
    if not found:
        return None
    return int(next(group for group in found.groups() if group is not None))


# --- leads ---------------------------------------------------------------------------------


def lead_id(text: str) -> int | None:
    """'lead 4411', 'lead #4411', 'lead id 4411', '#4411' (not 'draft #12')."""
    without_drafts = re.sub(r"\bdraft\s*(?:#|no\.?|number|id)?\s*\d+", "", text)
    return _int(
        r"\blead\s*(?:#|no\.?|number|id)?\s*(\d+)\b|\bid\s*#?\s*(\d+)\b|(?<![\w&])#(\d+)\b",
        without_drafts,
    )


def lead_reference(text: str) -> tuple[str | None, str | None]:
    """(name, company or email to search by; the role that narrows it), from the words."""
    email = re.search(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", text)
    role_found = re.search(rf"\b({ROLE}(?:\s+of\s+\w+)?)\b", text, re.IGNORECASE)
    role = role_found.group(1) if role_found else None
    if email:
        return email.group(0).rstrip("."), role
    possessive = re.search(rf"\b({NAME_WORD}(?:\s+{NAME_WORD}){{0,3}})['’]s\s+(.+?){STOP}", text)
    if possessive and _is_name(possessive.group(1)):
        after = possessive.group(2).strip()
        return possessive.group(1), role or (" ".join(after.split()[:4]) or None)
    for found in re.finditer(
        rf"\b(?:for|to|at|from|with|about|named|called|is|me)\s+((?:{NAME_WORD})(?:\s+{NAME_WORD}){{0,3}})",
        text,
    ):
        name = _strip_non_names(found.group(1))
        if name:
            return name, role
    return None, role


def person_at_company(text: str) -> tuple[str | None, str | None]:
    """('Ana', 'Acme') for 'email Ana at Acme'; the company is what to search by."""
    for found in re.finditer(
        rf"\b({NAME_WORD}(?:\s+{NAME_WORD})?)\s+(?:at|from)\s+({NAME_WORD}(?:\s+{NAME_WORD}){{0,3}})",
        text,
    ):
        person, company = _strip_non_names(found.group(1)), _strip_non_names(found.group(2))
        if person and company and not re.fullmatch(ROLE, person, re.IGNORECASE):
            return person, company
    return None, None


def _strip_non_names(words: str) -> str | None:
    kept = [word for word in words.split() if _is_name(word)]
    return " ".join(kept) or None


def _is_name(words: str) -> bool:
    first = words.split()[0].lower().strip(".")
    return first not in NOT_NAMES and not re.match(rf"^{ROLE}$", first, re.IGNORECASE)


def ordinal(text: str) -> int | None:
    """'the second one', '2nd', 'number 2', or a bare '2' answering 'which one?'."""
    found = re.search(r"\b(first|second|third|fourth|fifth|1st|2nd|3rd|4th|5th)\b", text)
    if found:
        return ORDINALS[found.group(1)]
    number = re.fullmatch(r"\s*(?:number\s*|no\.?\s*|option\s*)?(\d)\s*[.!]?\s*", text)
    return int(number.group(1)) if number else None


# --- sequences -----------------------------------------------------------------------------


def audience(text: str) -> str | None:
    """Who a nurture is for: 'for mid-market fintech leads who downloaded the whitepaper'."""
    found = re.search(
        r"\bfor\s+(.+?)(?=\s+(?:and\s+)?(?:save|call|name)\b|\s*[.;!?]|\s*,\s*(?:and|then)\b|$)",
        text,
        re.IGNORECASE,
    )
    return found.group(1).strip() if found else None


def goal(text: str) -> str | None:
    """'Please design a 60-day nurture for X and save it as Y' -> '60-day nurture for X'."""
    stripped = re.sub(
        r"[,;]?\s*(?:and\s+|then\s+)?(?:save (?:it|this|that)\b|call it\b|name it\b).*$",
        "",
        text.strip(),
        flags=re.IGNORECASE | re.DOTALL,
    )
    stripped = re.sub(
        r"^(?:(?:please|can you|could you|let'?s|(?:i|we) (?:want|need|would like)(?: to)?|"
        r"i'd like(?: to)?|help me)\s+)*"
        r"(?:(?:design|build|create|plan|propose|set up|make|put together|draft|sketch)\s+)?"
        r"(?:me\s+|us\s+)?(?:an?\s+|the\s+)?",
        "",
        stripped,
        flags=re.IGNORECASE,
    )
    return stripped.strip(" .?!") or None


def _save_name(text: str) -> str | None:
    found = re.search(
        r"\b(?:save (?:it|this|that|the sequence)?\s*as|call it|name it)\s+"
        r"[\"“'‘]?(.+?)[\"”'’]?\s*(?:[.?!]|$)",
        text,
        re.IGNORECASE,
    )
    return _clean_name(found.group(1)) if found else None


def sequence_name(text: str) -> str | None:
    """A quoted name, or 'sequence X' / 'the X sequence' / 'named X'."""
    quoted = re.search(r"[\"“'‘]([^\"”'’]{2,80})[\"”'’]", text)
    if quoted:
        return _clean_name(quoted.group(1))
    after = re.search(
        r"\b(?:sequence|track)\s+(?:called\s+|named\s+)?([\w:.\-]+(?:\s+[\w:.\-]+){0,4}?)"
        r"(?=\s+(?:to|for|and|now|please|is|as)\b|\s*[.,;?!]|$)",
        text,
        re.IGNORECASE,
    )
    if after and after.group(1).lower().split()[0] not in _FILLER:
        return _clean_name(after.group(1))
    before = re.search(r"\b([\w:.\-]+(?:\s+[\w:.\-]+){0,2})\s+(?:sequence|track)\b", text)
    if before:
        words = [w for w in before.group(1).split() if w.lower() not in _FILLER | _VERBS]
        if words:
            return _clean_name(" ".join(words))
    return None


_FILLER_WORDS = "a an the my our this that which what these those its new all of"
_FILLER = frozenset(_FILLER_WORDS.split())
_VERB_WORDS = """show open describe display pause resume unpause activate reactivate archive retire
kill delete remove restart enable suspend hold stop me see view"""
_VERBS = frozenset(_VERB_WORDS.split())


def _clean_name(raw: str) -> str | None:
    name = raw.strip().strip("\"'“”‘’").strip()
    return name or None


_QUIET_WORDS = "silent inactive dormant quiet idle unengaged"
_QUIET = frozenset(_QUIET_WORDS.split())


def duration_days(text: str) -> int | None:
    """'60-day' -> 60, '8-week' -> 56, '3 month' -> 90; not 'last 30 days' (a period)."""
    for found in re.finditer(r"\b(\d{1,3})\s*-?\s*(day|week|month)s?\b", text):
        before = text[: found.start()].rstrip().split()[-2:]
        if before and before[-1] in ("last", "past", "previous", "in", "within", "every"):
            continue
        if before[-2:-1] and before[-2] in _QUIET and before[-1] == "for":
            continue  # "silent for 90 days" says who, not how long the nurture runs
        return int(found.group(1)) * {"day": 1, "week": 7, "month": 30}[found.group(2)]
    return None


# --- content -------------------------------------------------------------------------------


def topic(text: str) -> str | None:
    """What to search the content library for: 'content about ROI for finance teams' -> 'ROI';
    'send lead 12 the ROI calculator' -> 'ROI calculator'."""
    sent = re.search(
        r"\bsend\s+(?:lead\s*#?\s*\d+|#\d+|him|her|them)\s+(?:the\s+|our\s+|an?\s+|some\s+)?"
        r"(.+?)(?=\s+(?:for|in|at|to|with|from)\s|[?.!,;]|$)",
        text,
        re.IGNORECASE,
    )
    if sent:
        return sent.group(1).strip()
    found = re.search(
        r"\b(?:about|on|covering|regarding|around|related to|that explains?)\s+(.+?)"
        r"(?=\s+(?:for|in|at|to|with|from)\s|[?.!,;]|$)",
        text,
        re.IGNORECASE,
    )
    if found:
        words = [w for w in found.group(1).split() if w.lower() not in _FILLER]
        return " ".join(words) or None
    return None


def reason(text: str) -> str | None:
    """Why to hand off: the words after 'because', 'reason:', 'due to', 'since they'."""
    found = re.search(
        r"(?:\bbecause\b|\breason:?|\bdue to\b|\bsince (?=they|she|he)|[—–:]\s+(?=they|she|he))\s*"
        r"(.+?)\s*[.!]*$",
        text,
        re.IGNORECASE,
    )
    return found.group(1).strip() if found else None
