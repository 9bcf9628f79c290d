"""Versioned prompt files (`prompts/files/*.md`) and the renderer that fills them in."""

from prompts.renderer import (
    DEFAULT_PROMPTS_DIR,
    Prompt,
    PromptError,
    RenderedPrompt,
    list_prompts,
    load_prompt,
    render,
)

__all__ = [
    "DEFAULT_PROMPTS_DIR",
    "Prompt",
    "PromptError",
    "RenderedPrompt",
    "list_prompts",
    "load_prompt",
    "render",
]
