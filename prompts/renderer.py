"""Load versioned prompt files and render them with strict variable checking."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PROMPTS_DIR = Path(__file__).parent / "files"
FENCE = "---"
ROLES = ("system", "human", "ai")
ROLE_LINE = re.compile(r"^\[(?P<role>[a-z]+)\]\s*$")
PLACEHOLDER = re.compile(r"\{\{\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


class PromptError(ValueError):
    """A prompt file is malformed or was rendered with the wrong variables."""


@dataclass(frozen=True)
class Prompt:
    """One prompt file: its identity, declared variables and role sections (unrendered)."""

    id: str
    version: str
    description: str
    variables: tuple[str, ...]
    sections: tuple[tuple[str, str], ...]
    path: Path
    sha256: str

    @property
    def ref(self) -> str:
        """`id@version`, what a draft records so a result can be traced to its prompt."""
        return f"{self.id}@{self.version}"


@dataclass(frozen=True)
class RenderedPrompt:
    """A prompt with its variables filled in: role messages plus the identity to record."""

    id: str
    version: str
    messages: list[tuple[str, str]] = field(default_factory=list)
    sha256: str = ""

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

    @property
    def text(self) -> str:
        """Every message's text, in order (what token counts and logs look at)."""
        return "\n\n".join(content for _, content in self.messages)

    @property
    def system(self) -> str:
        return "\n\n".join(content for role, content in self.messages if role == "system")

    @property
    def human(self) -> str:
        return "\n\n".join(content for role, content in self.messages if role == "human")


def resolve_dir(prompts_dir: Path | str | None) -> Path:
    return DEFAULT_PROMPTS_DIR if prompts_dir is None else Path(prompts_dir)


def load_prompt(name: str, prompts_dir: Path | str | None = None) -> Prompt:
    """The prompt `name` (file `<name>.md`) from `prompts_dir` (default: the shipped files)."""
    folder = resolve_dir(prompts_dir)
    if not ID_PATTERN.match(name):
        raise PromptError(
            f"prompt name {name!r} is not valid; use lowercase letters, digits and '_' "
            "(the file name without .md)"
        )
    path = folder / f"{name}.md"
    if not path.is_file():
        available = ", ".join(sorted(p.stem for p in folder.glob("*.md"))) or "none"
        raise PromptError(
            f"no prompt {name!r} in {folder} (looked for {path.name}); available: {available}"
        )
    stat = path.stat()
    return _parse_cached(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _parse_cached(path: Path, mtime_ns: int, size: int) -> Prompt:
    """Parsed once per version of the file: every draft renders a prompt."""
    return _parse(path)


def list_prompts(prompts_dir: Path | str | None = None) -> list[Prompt]:
    """Every prompt in `prompts_dir`, sorted by id; a malformed file raises PromptError."""
    folder = resolve_dir(prompts_dir)
    if not folder.is_dir():
        raise PromptError(f"{folder}: not a folder of prompt files (*.md)")
    return [_parse(path) for path in sorted(folder.glob("*.md"))]


def render(
    name: str, /, *, prompts_dir: Path | str | None = None, **variables: Any
) -> RenderedPrompt:
    """Render the prompt `name`: every declared variable must be given, and nothing else.

    Values are inserted once, as text: a value that itself contains `{{ x }}` (lead-provided
    text, say) is never expanded.
    """
    prompt = load_prompt(name, prompts_dir)
    missing = [var for var in prompt.variables if var not in variables]
    if missing:
        raise PromptError(
            f"prompt {prompt.ref} ({prompt.path}): missing variable(s) "
            f"{', '.join(missing)}; pass them to render()"
        )
    unknown = sorted(set(variables) - set(prompt.variables))
    if unknown:
        raise PromptError(
            f"prompt {prompt.ref} ({prompt.path}): unknown variable(s) {', '.join(unknown)}; "
            f"it takes {', '.join(prompt.variables) or 'no variables'}"
        )
    values = {key: _as_text(key, value, prompt) for key, value in variables.items()}
    messages = [
        (role, PLACEHOLDER.sub(lambda match: values[match["name"]], body))
        for role, body in prompt.sections
    ]
    return RenderedPrompt(
        id=prompt.id, version=prompt.version, messages=messages, sha256=prompt.sha256
    )


def _as_text(key: str, value: Any, prompt: Prompt) -> str:
    if value is None:
        raise PromptError(
            f"prompt {prompt.ref}: variable {key!r} is None; pass text (use '' for nothing)"
        )
    return value if isinstance(value, str) else str(value)


def _parse(path: Path) -> Prompt:
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptError(f"{path}: cannot read the prompt file as UTF-8 text ({exc})") from exc
    header, body = _split_front_matter(path, text)
    try:
        meta = yaml.safe_load(header)
    except yaml.YAMLError as exc:
        raise PromptError(f"{path}: front matter is not valid YAML ({exc})") from exc
    if not isinstance(meta, dict):
        raise PromptError(f"{path}: front matter must be a mapping with id and version")
    prompt_id, version = meta.get("id"), meta.get("version")
    if not isinstance(prompt_id, str) or not ID_PATTERN.match(prompt_id):
        raise PromptError(f"{path}: 'id' must be a lowercase name such as draft_email")
    if prompt_id != path.stem:
        raise PromptError(f"{path}: id {prompt_id!r} must match the file name {path.stem!r}")
    if not isinstance(version, str | int) or isinstance(version, bool) or str(version) == "":
        raise PromptError(f"{path}: 'version' is required (e.g. version: 3); bump it on edits")
    declared = meta.get("variables") or []
    if not isinstance(declared, list) or not all(isinstance(v, str) for v in declared):
        raise PromptError(f"{path}: 'variables' must be a list of names, e.g. [context]")
    sections = _sections(path, body)
    used = {match["name"] for _, section in sections for match in PLACEHOLDER.finditer(section)}
    if undeclared := sorted(used - set(declared)):
        raise PromptError(
            f"{path}: placeholder(s) {', '.join(undeclared)} are not listed under 'variables'"
        )
    if unused := sorted(set(declared) - used):
        raise PromptError(
            f"{path}: variable(s) {', '.join(unused)} are declared but never used in the text"
        )
    return Prompt(
        id=prompt_id,
        version=str(version),
        description=str(meta.get("description") or ""),
        variables=tuple(declared),
        sections=tuple(sections),
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def _split_front_matter(path: Path, text: str) -> tuple[str, str]:
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != FENCE:
        raise PromptError(f"{path}: start the file with '---', then id and version, then '---'")
    for index in range(1, len(lines)):
        if lines[index].strip() == FENCE:
            return "".join(lines[1:index]), "".join(lines[index + 1 :])
    raise PromptError(f"{path}: front matter is not closed; add a '---' line after the keys")


def _sections(path: Path, body: str) -> list[tuple[str, str]]:
    """Split the body on `[system]` / `[human]` / `[ai]` lines; no marker means one system."""
    sections: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        marker = ROLE_LINE.match(line)
        if marker:
            role = marker["role"]
            if role not in ROLES:
                raise PromptError(
                    f"{path}: unknown section [{role}]; use one of "
                    + ", ".join(f"[{r}]" for r in ROLES)
                )
            sections.append((role, []))
        elif sections:
            sections[-1][1].append(line)
        elif line.strip():
            sections.append(("system", [line]))
    result = [(role, "\n".join(lines).strip()) for role, lines in sections]
    if not result or any(not content for _, content in result):
        raise PromptError(f"{path}: every section needs text after its [role] line")
    return result
