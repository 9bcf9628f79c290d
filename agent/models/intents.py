"""Intent classification for the offline model: weighted keyword rules over the user's words.

Each rule names an intent, the patterns that must all match, and a weight; the intent with the
highest total wins, ties going to the one listed first. Tuning is editing this table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DESIGN_VERB = r"\b(?:design|build|create|plan|propose|set up|make|put together|draft|sketch)\b"
NURTURE_NOUN = (
    r"\b(?:nurture|sequence|track|cadence|campaign|drip|strategy|journey|program(?:me)?|playbook)\b"
)
SEQUENCE_NOUN = r"\b(?:sequences?|tracks?|nurtures?|campaigns?|drips?)\b"
CONTENT_NOUN = (
    r"\b(?:content|assets?|case stud(?:y|ies)|white ?papers?|articles?|resources?|materials?|"
    r"collateral|webinars?|guides?|blog posts?|ebooks?|one-pagers?)\b"
)
LEAD_NOUN = r"\b(?:leads?|contacts?|people|prospects?|persons?)\b"
STATUS_VERB = (
    r"\b(?:pause|suspend|resume|unpause|activate|reactivate|restart|archive|retire|kill|"
    r"turn on|enable)\b"
)

# The intents the offline model understands; each maps to one or more chat tools.
INTENTS = (
    "design_sequence", "save_sequence", "set_sequence_status", "show_sequence",
    "list_sequences", "list_approvals", "hand_off", "schedule_touch", "draft_video",
    "draft_email", "explain_score", "segment_lead", "pipeline_summary", "search_content",
    "find_leads", "top_leads", "report_experiments", "help",
)  # fmt: skip


@dataclass(frozen=True)
class Rule:
    intent: str
    patterns: tuple[str, ...]
    weight: int


RULES: tuple[Rule, ...] = (
    Rule("design_sequence", (DESIGN_VERB, NURTURE_NOUN), 4),
    Rule("design_sequence", (r"\b\d+\s*-?\s*(?:day|week)\b", NURTURE_NOUN), 3),
    Rule("design_sequence", (r"\b(?:need|want|looking for|would like)\b", NURTURE_NOUN), 4),
    Rule("save_sequence", (r"\bsave\b",), 3),
    Rule("save_sequence", (r"\b(?:call|name) (?:it|this|that)\b",), 3),
    Rule("set_sequence_status", (STATUS_VERB, SEQUENCE_NOUN), 5),
    Rule("set_sequence_status", (STATUS_VERB, r"[\"“'‘]"), 3),
    Rule("set_sequence_status", (STATUS_VERB, r"\b(?:it|this one|that one)\b"), 3),
    Rule(
        "show_sequence",
        (
            r"\b(?:show|open|describe|details?|display|what'?s in|look at|see)\b",
            r"\b(?:sequence|track)\b(?!s)",
        ),
        4,
    ),
    Rule(
        "show_sequence", (r"^\s*(?:show|open|describe|display)\s+(?:me\s+)?(?:it|this|that)\b",), 2
    ),
    Rule("list_sequences", (r"\bsequences\b",), 3),
    Rule(
        "list_sequences", (r"\b(?:list|which|what|all)\b", r"\b(?:sequences|tracks|nurtures)\b"), 1
    ),
    Rule("list_approvals", (r"\b(?:approved|rejected|pending|edited)\b", r"\bdrafts?\b"), 5),
    Rule(
        "list_approvals",
        (
            r"\bapprovals?\b|\bapprove\b|\bawaiting\b|\bto review\b|"
            r"\breview queue\b|\bwaiting for\b|\bsign[- ]off\b",
        ),
        4,
    ),
    Rule(
        "hand_off",
        (
            r"\bhand\b(?:\s+\S+){0,3}?\s+off\b|\bhand-?off\b|"
            r"\bescalate\b",
        ),
        5,
    ),
    Rule(
        "hand_off",
        (
            r"\b(?:pass|send|route|give|assign|move|escalate|push)\b",
            r"\bto (?:sales|(?:an |the )?sdrs?|(?:a |the )?rep|an? ae)\b",
        ),
        5,
    ),
    Rule(
        "schedule_touch",
        (
            r"\bschedule\b|\bqueue (?:it|this|that|the draft)\b|"
            r"\bsend (?:it|this|that|the draft|draft)\b",
        ),
        4,
    ),
    Rule("draft_video", (r"\bvideos?\b",), 3),
    Rule("draft_video", (r"\b(?:draft|write|make|record|prepare|create)\b", r"\bvideos?\b"), 2),
    Rule("draft_email", (r"\b(?:draft|write|compose|prepare|create)\b",), 2),
    Rule("draft_email", (r"\bnext (?:best )?(?:touch|email|message|step)\b|\bfollow[- ]?up\b",), 3),
    Rule("draft_email", (r"\bemail\b",), 1),
    Rule("draft_email", (r"\bsend\b", r"\blead\s*#?\s*\d+|#\d+|\b(?:him|her|them)\b"), 3),
    Rule("explain_score", (r"\bscor(?:e|es|ed|ing)\b|\bdeciles?\b",), 3),
    Rule(
        "explain_score",
        (
            r"\bwhy\b",
            r"\b(?:hot|warm|cold|top|high|low|rank(?:ed)?|mql|"
            r"qualified|priority|ready)\b",
        ),
        3,
    ),
    Rule("explain_score", (r"\bhow (?:hot|warm|good|engaged|likely|ready|qualified)\b",), 3),
    Rule("explain_score", (r"\bsales[- ]ready\b|\bready for (?:sales|a call)\b",), 3),
    Rule(
        "explain_score",
        (r"\blead\s*#?\s*\d+|#\d+", r"\bhow (?:is|are)\b.*\b(?:doing|looking)\b"),
        4,
    ),
    Rule("segment_lead", (r"\bsegments?\b|\bwhich (?:track|bucket|cluster)\b|\bclusters?\b",), 3),
    Rule("pipeline_summary", (r"\bpipeline\b|\bfunnel\b",), 3),
    Rule(
        "pipeline_summary",
        (
            r"\b(?:mqls?|sqls?|conversions?|conversion rates?|revenue|win rate|"
            r"metrics|kpis?|performance|numbers|hand-?off latency)\b",
        ),
        2,
    ),
    Rule(
        "pipeline_summary",
        (
            r"\bhow (?:are|is|did|were|was)\b.*\b(?:doing|going|perform(?:ed|ing)?|"
            r"look(?:ing)?|trending)\b",
        ),
        3,
    ),
    Rule(
        "pipeline_summary", (r"\bhow many\b", r"\b(?:leads?|mqls?|sqls?|deals?|hand-?offs?)\b"), 3
    ),
    Rule(
        "top_leads",
        (r"\b(?:best|hottest|hot|top|warmest|priority)\b", r"\b(?:leads|prospects)\b"),
        7,
    ),
    Rule(
        "report_experiments",
        (
            r"\bexperiments?\b|\bbandits?\b|\ba/b(?: tests?)?\b|\bvariants?\b"
            r"|\bholdout\b|\buplift\b",
        ),
        4,
    ),
    Rule("top_leads", (r"\bwhich\b", LEAD_NOUN, r"\b(?:call|contact|focus|prioriti[sz]e)\b"), 5),
    Rule("search_content", (CONTENT_NOUN,), 2),
    Rule(
        "search_content",
        (r"\b(?:find|search|suggest|recommend|what|which|show|have|got)\b", CONTENT_NOUN),
        1,
    ),
    Rule(
        "find_leads",
        (r"\b(?:find|search|look ?up|who is|who's|who are|show(?: me)?|list|any)\b", LEAD_NOUN),
        3,
    ),
    Rule("find_leads", (r"\bwho(?:'s| is| are)\b",), 2),
    Rule("find_leads", (r"\bwho\b",), 1),
    Rule(
        "help",
        (
            r"\bhelp\b|\bwhat can you do\b|\bwhat do you do\b|\bhow does this work\b|"
            r"\bcommands\b|\bcapabilities\b",
        ),
        6,
    ),
)

_COMPILED = tuple((rule, tuple(re.compile(p) for p in rule.patterns)) for rule in RULES)


def intent_scores(text: str) -> dict[str, int]:
    """Total rule weight per intent for these words (intents with no matching rule left out)."""
    lowered = text.lower()
    scores: dict[str, int] = {}
    for rule, patterns in _COMPILED:
        if all(pattern.search(lowered) for pattern in patterns):
            scores[rule.intent] = scores.get(rule.intent, 0) + rule.weight
    return scores


def classify(text: str) -> str | None:
    """The intent of the words, or None when no rule matches."""
    scores = intent_scores(text)
    if not scores:
        return None
    best = max(scores.values())
    return next(intent for intent in INTENTS if scores.get(intent) == best)
