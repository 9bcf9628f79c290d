"""Guardrails before anything is queued: grounded facts, no other lead's data, tone, length,
compliance lines, and lead-provided text kept as data (fenced, injection attempts spotted)."""

from tools.guardrails.checks import (
    DEFAULT_LIMITS,
    GuardrailError,
    GuardrailReport,
    Issue,
    Limits,
    check_email,
    check_rendered_email,
    check_video_script,
    load_banned_phrases,
)
from tools.guardrails.injection import InjectionSignal, injection_signals, sanitize_lead_text

__all__ = [
    "DEFAULT_LIMITS",
    "GuardrailError",
    "GuardrailReport",
    "InjectionSignal",
    "Issue",
    "Limits",
    "check_email",
    "check_rendered_email",
    "check_video_script",
    "injection_signals",
    "load_banned_phrases",
    "sanitize_lead_text",
]
