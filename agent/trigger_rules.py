"""The trigger rules in force: the file named by NURTURE_TRIGGERS_FILE, or the shipped rules."""

from __future__ import annotations

from agent.settings import Settings, get_settings
from tools.triggers.rules import RuleSet, load_rules


def trigger_rules(settings: Settings | None = None) -> RuleSet:
    """Cached until the file changes; a bad file raises TriggerError naming the rule and field."""
    return load_rules((settings or get_settings()).triggers_file)
