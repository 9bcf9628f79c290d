"""Plain sentences and facts out of Markdown snippets, and the small words drafts are made of."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Abbreviations whose full stop does not end a sentence.
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "Dr.", "Mr.", "Ms.", "Mrs.", "approx.")
_DOT = "\u2024"  # one-dot leader: stands in for a protected full stop while splitting
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[\"“‘(]?[A-Z0-9₹$€£])")
_LINK = re.compile(r"\[([^\]]+)\]\((?:[^)]+)\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_OPENERS = (
    "The|A|An|This|These|That|Those|It|Its|Every|Each|Most|Many|Some|All|No|Our|Your|You|We|"
    "They|In|On|At|For|From|If|When|While|After|Before|Because|One|Two|Three|Four|Five|There|"
    "Compare|Download|Book|Check|Watch|Use|Pick|Run|Ask|Start|Join|See|Read|Employers|Learners|"
    "Not|Nothing|Nobody|Everyone|Everything|Few|Here"
)
# A heading then its text: '... your own industry Your domain ...' (or 'industry: Your domain',
# a heading read as a lead-in) or '... the title "Data scientist" covers ...' (a capitalised
# quote opening a sentence).
_SEAM = re.compile(
    rf"(?:(?<=[a-z0-9)”\"’])|(?<=[a-z0-9]:))\s+(?:[–—]\s+)?(?=(?:{_OPENERS})\b)"
    r"|(?<=[a-z])\s+(?=[\"“][A-Z][a-z]+(?:\s[a-z]+)*[\"”]\s[a-z])"
)
_TRAILING_NUMBER = re.compile(r"\s+\d{1,2}\.$")
_REPEATED_HEAD = re.compile(r"^([A-Z][\w'-]*(?:\s+[\w'-]+){0,3})\s+(?=\1\b)")
_TERMINAL = re.compile(r"[.!?][\"”’)]*$")
_PLACEHOLDER = re.compile(r"\[[^\]]*\]")  # "[your team size]" in templates
_ENUMERATOR = re.compile(r"^\d+[.)]\s+")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}")
_WORD = re.compile(r"[A-Za-z0-9₹$€£%][\w'’%.,-]*")
# Sentences that lean on text around them read badly on their own.
_DANGLING_START = re.compile(
    r"^(?:and|but|so|or|it|this|that|these|those|they|them|here|there|also|then|which|"
    r"such|both|each|its|their|few|fewer|more|less|others|another|however|instead|yet|"
    r"still|even|otherwise|meanwhile|she|he|his|her|ours|theirs|yes|no|"
    r"what|how|why|where|who)\b",  # a wh- opener that is no question is a headline
    re.IGNORECASE,
)
# Calls to action and instructions: a draft has exactly one CTA, its own.
_IMPERATIVE = re.compile(
    r"^(?:compare|download|book|watch|check|run|pick|see|read|ask|request|save|open|take|join|"
    r"register|sign|start|choose|tell|list|map|score|get|try|reply|call|visit|learn|bring|"
    r"contact|apply|enrol|reserve|find|explore|use|click)\b",
    re.IGNORECASE,
)
_DEICTIC = re.compile(
    r"\b(?:below|above|this (?:guide|page|article|post|video|pack|template|worksheet|webinar)|"
    r"the following|see table|click)\b",
    re.IGNORECASE,
)

# Words that start a title or a call to action and are never part of a name.
_LOWER_STARTS = {
    "the", "a", "an", "how", "what", "why", "when", "where", "which", "who", "see", "download",
    "book", "check", "watch", "open", "request", "save", "compare", "start", "talk", "read",
    "your", "our", "from", "is", "are", "still", "reply", "run", "take", "join", "get", "try",
}  # fmt: skip
ACRONYMS = {"hr", "mba", "ai", "ml", "pm", "roi", "sql", "l&d", "it", "gst", "emi", "faq"}


@dataclass(frozen=True)
class Fact:
    """A sentence (or a table row put into words) quoted verbatim from a snippet."""

    text: str
    kind: str  # sentence | row | answer (to a question before it) | item (a bare list entry)
    listed: bool = False  # from a bullet list: fine as a detail, often a fragment as an opener

    @property
    def words(self) -> int:
        return len(self.text.split())


def words_of(text: str) -> list[str]:
    """Lowercase word tokens (for keyword overlap)."""
    return [w.strip(".,'’%-").lower() for w in _WORD.findall(text) if w.strip(".,'’%-")]


def facts(markdown: str) -> list[Fact]:
    """Every usable sentence and table row of a Markdown snippet, in reading order."""
    found: list[Fact] = []
    block: list[str] = []
    header: list[str] | None = None

    listed = False

    def flush() -> None:
        if block:
            found.extend(_block_facts(" ".join(block), listed=listed))
            block.clear()

    for raw in markdown.splitlines():
        line = raw.strip()
        if line.startswith("|"):
            flush()
            cells = [_clean(cell) for cell in line.strip("|").split("|")]
            if _TABLE_RULE.match(line):
                continue
            if header is None:
                header = cells
            else:
                row = _row_fact(header, cells)
                if row:
                    found.append(Fact(row, "row"))
            continue
        header = None
        if not line or line.startswith("#") or line == "---":
            flush()
            continue
        if _BULLET.match(line):
            flush()  # a list item is its own block; its wrapped lines follow below
            listed = not _ENUMERATOR.match(line)  # "3. A new track" is a numbered section
            line = _BULLET.sub("", line)
        elif not block:
            listed = False
        block.append(line.lstrip("> "))
    flush()
    return found


def _block_facts(text: str, *, listed: bool = False) -> list[Fact]:
    """A paragraph's sentences; an answer to a question in it, or a piece without its own full
    stop (a heading run into the text, a list entry, a cut-off end) is marked so."""
    block_facts: list[Fact] = []
    after_question = False
    for sentence, complete in sentence_pieces(text):
        # the first sentence after a question answers it ("30 minutes, by phone ...")
        kind = "answer" if after_question else ("sentence" if complete else "item")
        block_facts.append(Fact(sentence, kind, listed=listed))
        after_question = sentence.endswith("?")
    return block_facts


def split_sentences(text: str) -> list[str]:
    """Sentences of one paragraph of Markdown-free text, each ending with punctuation."""
    return [sentence for sentence, _ in sentence_pieces(text)]


def sentence_pieces(text: str) -> list[tuple[str, bool]]:
    """(sentence, had its own closing punctuation) for each piece of `text`.

    Text flattened from Markdown runs headings into the sentence after them ('Next step
    Compare our programmes ...'); a capitalised sentence opener right after a lowercase word
    marks that seam, and the heading becomes a piece of its own without a full stop."""
    text = _ENUMERATOR.sub("", _clean(text))
    for abbreviation in _ABBREVIATIONS:
        text = text.replace(abbreviation, abbreviation.replace(".", _DOT))
    pieces: list[tuple[str, bool]] = []
    for part in _SENTENCE_END.split(text):
        for piece in _SEAM.split(part):
            sentence = _ENUMERATOR.sub("", piece.replace(_DOT, ".").strip())
            sentence = _REPEATED_HEAD.sub("", sentence)  # "Scholarships Scholarships are ..."
            if not sentence:
                continue
            complete = sentence[-1] in ".!?" or bool(_TERMINAL.search(sentence))
            if _TRAILING_NUMBER.search(sentence):  # "What we cover every session 1."
                sentence, complete = _TRAILING_NUMBER.sub("", sentence), False
            if not complete:
                if sentence.endswith(":"):
                    continue  # a lead-in to a list, not a statement
                sentence += "."
            pieces.append((sentence, complete))
    return pieces


def standalone(fact: Fact, *, min_words: int = 6, max_words: int = 40) -> bool:
    """Can this fact be quoted on its own in an email without its surroundings?"""
    if fact.kind == "row":
        return True
    if fact.kind != "sentence":
        return False
    text = fact.text
    if not (min_words <= fact.words <= max_words):
        return False
    if not text[0].isupper() and not text[0].isdigit() and text[0] not in '“"₹$':
        return False
    words = text.split()
    if sum(word[:1].isupper() for word in words) > len(words) / 2:
        return False  # a title or a list of names, not a statement
    if text.count(":") > 1 or "·" in text or _IMPERATIVE.match(text) or _PLACEHOLDER.search(text):
        return False  # metadata lines and calls to action are not facts
    return not (_DANGLING_START.match(text) or _DEICTIC.search(text) or text.endswith("?"))


def is_label(fact: Fact) -> bool:
    """'Instalments: three or six ...': a list entry, fine as a detail, weak as an opener."""
    head, colon, _ = fact.text.partition(":")
    return fact.kind == "row" or (bool(colon) and len(head.split()) <= 4)


def topic_name(theme: str | None) -> str | None:
    """'data-science' -> 'data science', 'hr-analytics' -> 'HR analytics'."""
    if not theme or theme == "general":
        return None
    return " ".join(
        part.upper() if part in ACRONYMS else part for part in theme.replace("_", "-").split("-")
    )


# Words a cut label must not end on.
_DANGLING = frozenset({
    "a", "an", "the", "and", "or", "but", "to", "for", "of", "with", "about", "in", "on", "at",
    "by", "from", "into", "your", "our", "their", "my", "its", "this", "that", "these", "those",
})  # fmt: skip


def short_label(cta: str, limit: int = 60) -> str:
    """A button label from a call to action: its first clause, at most `limit` characters.

    'Still unsure? Reply to this email or book a call' -> 'Book a call' (a button cannot
    take a reply)."""
    cta = cta.rsplit("?", 1)[-1].strip() or cta
    choices = [c.strip() for c in re.split(r"\s+or\s+", cta) if c.strip()]
    if len(choices) > 1 and choices[0].lower().startswith("reply"):
        cta = choices[1][:1].upper() + choices[1][1:]
    label = re.split(r"\s*(?:\(|;|: | - | – | — |, then | and then )", cta, maxsplit=1)[0]
    label = label.strip().rstrip(".")
    if len(label) <= limit:
        return label
    words = label[: limit + 1].rsplit(" ", 1)[0].rstrip(",;: ").split()
    # End on a whole phrase: '... a private cohort for your' -> '... a private cohort'.
    while len(words) > 2 and words[-1].lower().strip(",;:") in _DANGLING:
        words.pop()
    return " ".join(words).rstrip(",;: ")


def lower_first(text: str) -> str:
    """'Download the guide' -> 'download the guide'; keeps 'ROI ...' and 'Data Science ...'."""
    words = text.split()
    if words and words[0].lower() in _LOWER_STARTS:
        return text[0].lower() + text[1:]
    if len(words) > 1 and words[1][:1].isupper():
        return text  # a title or a name: 'Data Science Career Guide'
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def truncate(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _clean(text: str) -> str:
    text = _LINK.sub(r"\1", text)
    text = _EMPHASIS.sub("", text)
    text = " ".join(text.split())
    return re.sub(r"\s+([:;,])(?=\s)", r"\1", text)  # "easily : engineering" from markup


def _row_fact(header: list[str], cells: list[str]) -> str | None:
    """'| PG Diploma | 11 months | ₹2,45,000 |' -> 'PG Diploma: duration 11 months; fee ...'."""
    if len(cells) < 2 or not cells[0] or len(header) != len(cells):
        return None
    parts = [
        f"{lower_first(name)} {value}"
        for name, value in zip(header[1:], cells[1:], strict=True)
        if value and value not in ("—", "-", "–")
    ]
    if not parts:
        return None
    return f"{cells[0]}: {'; '.join(parts)}."
