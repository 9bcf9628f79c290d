"""Claims a message makes (numbers, names, links, addresses) and whether the sources back them.

The sources are the retrieved snippets, this lead's own record and the sender; lead-provided
free text (`notes`) is not a source, so nothing a lead writes can put a claim into a message.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from tools.schemas import DecisionContext

_CURRENCY = r"(?:₹|\$|€|£|Rs\.?\s?|INR\s?|USD\s?|EUR\s?|GBP\s?)"
NUMBER = re.compile(
    rf"(?<![\w.]){_CURRENCY}?(?P<num>\d+(?:,\d+)*(?:\.\d+)?)"
    r"(?P<pct>\s?(?:%|percent\b|per\s+cent\b))?"
)
NUMBER_WORDS = {
    "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13",
    "fourteen": "14", "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18",
    "nineteen": "19", "twenty": "20", "thirty": "30", "forty": "40", "fifty": "50",
    "sixty": "60", "seventy": "70", "eighty": "80", "ninety": "90", "hundred": "100",
    "thousand": "1000", "million": "1000000", "billion": "1000000000", "lakh": "100000",
    "crore": "10000000", "dozen": "12", "half": "word:half", "a third": "word:third",
    "one third": "word:third", "two thirds": "word:two-thirds", "a quarter": "word:quarter",
    "three quarters": "word:three-quarters", "double": "word:double", "triple": "word:triple",
}  # fmt: skip
_NUMBER_WORD = re.compile(
    r"\b("
    + "|".join(w.replace(" ", r"\s+") for w in sorted(NUMBER_WORDS, key=len, reverse=True))
    + r")\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'’&.-]*")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"')\]]+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_SENTENCE_BREAK = set(".!?:;\n")
_OPENERS = set("\"“‘'([*-–—•>#")
# Capitalised words any message may use: the writer's "I", greetings, sign-offs.
ALWAYS_OK = frozenset(
    ("i", "i'm", "i've", "i'll", "i'd", "ok", "hi", "hello", "thanks", "thank", "ps", "p.s")
)


@dataclass
class Sources:
    """What a message may draw on: words, numbers, links and addresses in the sources."""

    words: set[str] = field(default_factory=set)
    numbers: set[str] = field(default_factory=set)
    percents: set[str] = field(default_factory=set)
    measures: set[tuple[str, str]] = field(default_factory=set)  # (value, unit): "10 months"
    ratios: set[tuple[str, str]] = field(default_factory=set)  # "9 out of 10"
    urls: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    snippet_urls: set[str] = field(default_factory=set)
    own_names: set[str] = field(default_factory=set)

    def add(self, text: str | None) -> None:
        if not text:
            return
        parsed = _parse_source(text)
        self.words |= parsed.words
        self.numbers |= parsed.numbers
        self.percents |= parsed.percents
        self.measures |= parsed.measures
        self.ratios |= parsed.ratios
        self.urls |= parsed.urls
        self.emails |= parsed.emails


@dataclass(frozen=True)
class _Parsed:
    words: frozenset[str]
    numbers: frozenset[str]
    percents: frozenset[str]
    measures: frozenset[tuple[str, str]]
    ratios: frozenset[tuple[str, str]]
    urls: frozenset[str]
    emails: frozenset[str]


@lru_cache(maxsize=4096)
def _parse_source(text: str) -> _Parsed:
    """One source text, parsed once: the same snippets back many leads' drafts."""
    claims = number_claims(text)
    return _Parsed(
        words=frozenset(form for word in _WORD.findall(text) for form in _forms(word)),
        numbers=frozenset(claim.value for claim in claims),
        percents=frozenset(claim.value for claim in claims if claim.percent),
        measures=frozenset((claim.value, claim.unit) for claim in claims if claim.unit),
        ratios=frozenset(_ratios(text, claims)),
        urls=frozenset(normalize_url(url) for url in _URL.findall(text)),
        emails=frozenset(email.lower() for email in _EMAIL.findall(text)),
    )


def sources_of(ctx: DecisionContext) -> Sources:
    """The sources of a message for this context (snippets, the lead's record, the sender)."""
    sources = Sources()
    for snippet in ctx.snippets:
        for text in (snippet.title, snippet.text, snippet.cta, snippet.asset_type):
            sources.add(text)
        sources.add(snippet.url)
        sources.urls.add(normalize_url(snippet.url))
        sources.snippet_urls.add(normalize_url(snippet.url))
    lead = ctx.lead
    record = [
        lead.first_name, lead.last_name, lead.company, lead.role, lead.industry, lead.country,
        lead.website, lead.trigger, *lead.segments, *lead.factors, *lead.recent_activity,
        *(theme.replace("-", " ") for theme in lead.themes),
    ]  # fmt: skip
    if ctx.action is not None and ctx.action.theme:
        record.append(ctx.action.theme.replace("-", " "))
    for text in record:
        sources.add(text)
    if lead.website:
        sources.urls.add(normalize_url(lead.website))
    for name in (lead.first_name, lead.last_name, lead.company):
        if name and name.strip():
            sources.own_names.add(name.strip().lower())
    if ctx.sender is not None:
        sender = ctx.sender
        for text in (sender.name, sender.title, sender.company, sender.email, sender.address):
            sources.add(text)
        sources.emails.add(sender.email.lower())
    return sources


@dataclass(frozen=True)
class NumberClaim:
    """A number as written, its normalized value, and what it counts (%, months, learners)."""

    raw: str
    value: str
    percent: bool
    unit: str | None
    start: int
    end: int


def number_claims(text: str) -> list[NumberClaim]:
    """Every number in `text`, in digits or in words, in reading order."""
    claims = [
        NumberClaim(
            raw=match.group(0).strip(),
            value=_normal_number(match["num"]),
            percent=bool(match["pct"]),
            unit=None if match["pct"] else _unit_after(text, match.end()),
            start=match.start(),
            end=match.end(),
        )
        for match in NUMBER.finditer(text)
    ]
    claims += [
        NumberClaim(
            raw=match.group(1),
            value=_word_value(match),
            percent=False,
            unit=_unit_after(text, match.end()),
            start=match.start(),
            end=match.end(),
        )
        for match in _NUMBER_WORD.finditer(text)
    ]
    return sorted(claims, key=lambda claim: claim.start)


def ungrounded_numbers(text: str, sources: Sources) -> list[str]:
    """Numbers no source backs: the value must appear there, as a percentage when it is one,
    with the same unit when it counts something ('10 months' is not '10 learners'), and a
    ratio ('7 in 10') as that ratio."""
    problems: list[str] = []
    claims = number_claims(text)
    in_ratio: set[int] = set()
    for first, second in _ratio_pairs(text, claims):
        in_ratio.update((first.start, second.start))
        if (first.value, second.value) not in sources.ratios:
            problems.append(text[first.start : second.end])
    for claim in claims:
        if claim.start in in_ratio:
            continue
        if claim.percent:
            grounded = claim.value in sources.percents
        elif claim.unit:
            grounded = (claim.value, claim.unit) in sources.measures
        else:
            grounded = claim.value in sources.numbers
        if not grounded:
            problems.append(claim.raw if not claim.unit else f"{claim.raw} {claim.unit}")
    return _unique(problems)


# Units a number can count; for these the unit is part of the claim.
UNITS = {
    "minute", "hour", "day", "week", "month", "year", "weekend", "evening", "semester",
    "learner", "people", "person", "analyst", "seat", "graduate", "role", "manager", "customer",
    "company", "student", "alumni", "alumnus", "hire", "project", "module",
    "programme", "program", "course", "cohort", "class", "session", "question", "page",
    "employee", "team", "lakh", "crore", "k", "million", "billion", "x", "instalment",
    "certificate", "mentor", "respondent", "response", "job", "offer",
}  # fmt: skip
_UNIT_SYNONYMS = {"×": "x", "time": "x", "program": "programme", "yr": "year", "min": "minute"}
_UNIT_AFTER = re.compile(r"[\s-]?(?P<unit>[A-Za-z×]+)")
_RATIO_GAP = re.compile(r"^\s+(?:in|out\s+of)\s+$", re.IGNORECASE)


def _unit_after(text: str, end: int) -> str | None:
    match = _UNIT_AFTER.match(text, end)
    if match is None:
        return None
    unit = match["unit"].lower()
    if unit.endswith("ies") and len(unit) > 4:
        unit = unit[:-3] + "y"
    elif unit.endswith("s") and len(unit) > 2:
        unit = unit[:-1]
    unit = _UNIT_SYNONYMS.get(unit, unit)
    return unit if unit in UNITS else None


def _ratio_pairs(text: str, claims: list[NumberClaim]) -> list[tuple[NumberClaim, NumberClaim]]:
    return [
        (first, second)
        for first, second in itertools.pairwise(claims)
        if _RATIO_GAP.match(text[first.end : second.start])
    ]


def _ratios(text: str, claims: list[NumberClaim]) -> set[tuple[str, str]]:
    return {(first.value, second.value) for first, second in _ratio_pairs(text, claims)}


def ungrounded_names(text: str, sources: Sources) -> list[str]:
    """Capitalised, name-like words (mid-sentence, acronyms, multi-word names) no source has."""
    problems: list[str] = []
    for match in _WORD.finditer(text):
        word = match.group(0).rstrip(".-")
        if not word or not word[0].isupper():
            continue
        # A capital after a full stop says nothing, unless the word is an acronym or camel-case
        # (the next word of a two-word name is checked on its own).
        if _sentence_initial(text, match.start()) and not _acronym_or_camel(word):
            continue
        if not _grounded_word(word, sources):
            problems.append(word)
    return _unique(problems)


def urls_in(text: str) -> list[str]:
    return [normalize_url(url) for url in _URL.findall(text)]


def emails_in(text: str) -> list[str]:
    return [email.lower() for email in _EMAIL.findall(text)]


def normalize_url(url: str) -> str:
    url = url.strip().rstrip(".,;:!?")
    url = re.sub(r"^https?://", "", url, flags=re.IGNORECASE)
    url = re.sub(r"^www\.", "", url, flags=re.IGNORECASE)
    return url.rstrip("/").lower()


def mentions(text: str, name: str) -> bool:
    """Does `text` mention `name` as whole words (case-insensitive)?"""
    name = " ".join(name.split())
    if len(name) < 3:
        return False
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE) is not None


def _grounded_word(word: str, sources: Sources) -> bool:
    forms = _forms(word)
    if forms & ALWAYS_OK or forms & sources.words:
        return True
    parts = [part for part in re.split(r"[-&.]", word) if part]
    return len(parts) > 1 and all(_forms(part) & (sources.words | ALWAYS_OK) for part in parts)


def _forms(word: str) -> set[str]:
    """A word and its bare forms: 'Northwind's' -> {"northwind's", 'northwind'}."""
    lower = word.lower().replace("’", "'").strip("'.-&")
    forms = {lower}
    if lower.endswith("'s"):
        forms.add(lower[:-2])
    if lower.endswith("s'"):
        forms.add(lower[:-1])
    return {form for form in forms if form}


def _sentence_initial(text: str, start: int) -> bool:
    position = start - 1
    while position >= 0 and (text[position] in _OPENERS or text[position] in " \t"):
        position -= 1
    return position < 0 or text[position] in _SENTENCE_BREAK


def _acronym_or_camel(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    if len(letters) >= 2 and all(c.isupper() for c in letters):
        return True
    return any(c.isupper() for c in word[1:]) and not word.isupper()


def _word_value(match: re.Match[str]) -> str:
    return NUMBER_WORDS[" ".join(match.group(1).lower().split())]


def _normal_number(raw: str) -> str:
    value = raw.replace(",", "")
    if "." in value:
        whole, fraction = value.split(".", 1)
        fraction = fraction.rstrip("0")
        value = f"{int(whole)}.{fraction}" if fraction else str(int(whole))
    else:
        value = str(int(value))
    return value


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
