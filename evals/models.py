"""`--model` and `--judge` specs: offline | openai:NAME | compatible:URL:NAME, as settings."""

from __future__ import annotations

import re

from agent.settings import Settings

SPEC_HELP = (
    "offline | openai:NAME | compatible:URL:NAME (e.g. compatible:http://gpu:8000/v1:qwen2.5:7b)"
)
# host[:port][/path] then ':' then the model name, which may itself hold ':' (Ollama tags).
_COMPATIBLE = re.compile(r"^(?P<url>https?://[^/\s:]+(?::\d+)?(?:/[^:\s]*)?):(?P<name>\S+)$")


class ModelSpecError(ValueError):
    """A model spec that cannot be used; the message shows the accepted forms."""


def settings_for(settings: Settings, spec: str | None) -> Settings:
    """A copy of `settings` that makes the factory build the model `spec` names (None: the
    configured one)."""
    if spec is None or not spec.strip():
        return settings
    spec = spec.strip()
    if spec == "offline":
        return settings.model_copy(update={"openai_api_key": None, "openai_base_url": None})
    kind, _, rest = spec.partition(":")
    if kind == "openai" and rest:
        if not settings.openai_api_key:
            raise ModelSpecError(f"--model {spec} needs OPENAI_API_KEY set (in the env or .env)")
        return settings.model_copy(update={"openai_base_url": None, "openai_model": rest})
    if kind == "compatible":
        match = _COMPATIBLE.match(rest)
        if match is None:
            raise ModelSpecError(
                f"{spec!r}: write compatible:URL:NAME, e.g. compatible:http://localhost:8000/v1:"
                "Qwen/Qwen2.5-7B-Instruct"
            )
        return settings.model_copy(
            update={"openai_base_url": match["url"], "openai_model": match["name"]}
        )
    raise ModelSpecError(f"{spec!r} is not a model spec; use {SPEC_HELP}")


def describe(settings: Settings) -> str:
    """The spec that names the model these settings build."""
    provider = settings.model_provider
    if provider == "offline":
        return "offline"
    if provider == "openai":
        return f"openai:{settings.openai_model}"
    return f"compatible:{settings.openai_base_url}:{settings.openai_model}"
