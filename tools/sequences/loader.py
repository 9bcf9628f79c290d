"""Read sequence definitions from YAML files; every error names the file and the field."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from tools.sequences.errors import SequenceError
from tools.sequences.model import SequenceDefinition, format_errors

LIBRARY_DIR = Path(__file__).with_name("library")


def parse_definition(data: Any, source: str = "definition") -> SequenceDefinition:
    """Validate one definition (a mapping, e.g. parsed YAML or a chat tool's JSON)."""
    if isinstance(data, SequenceDefinition):
        return data
    if not isinstance(data, Mapping):
        raise SequenceError(
            f"{source}: a sequence must be a mapping with name, enrol and steps, "
            f"not {type(data).__name__}"
        )
    try:
        return SequenceDefinition.model_validate(dict(data))
    except ValidationError as exc:
        raise SequenceError(source, format_errors(exc, data)) from None


def load_sequence_file(path: Path | str) -> SequenceDefinition:
    """One sequence from a YAML file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SequenceError(f"{path}: cannot read the file ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise SequenceError(f"{path}: not valid YAML{where}: {problem}") from None
    if data is None:
        raise SequenceError(f"{path}: the file is empty; a sequence needs name, enrol and steps")
    return parse_definition(data, source=str(path))


def load_library(directory: Path | str = LIBRARY_DIR) -> list[SequenceDefinition]:
    """Every `*.yaml` sequence in a folder (sorted by file name); all problems at once."""
    directory = Path(directory)
    files = sorted(directory.glob("*.yaml")) if directory.is_dir() else []
    if not files:
        raise SequenceError(f"{directory}: no .yaml sequence files found")
    definitions: list[SequenceDefinition] = []
    problems: list[str] = []
    seen: dict[str, Path] = {}
    for path in files:
        try:
            definition = load_sequence_file(path)
        except SequenceError as exc:
            problems.append(str(exc))
            continue
        if definition.name in seen:
            problems.append(
                f"{path}: name {definition.name!r} is already used by {seen[definition.name]}"
            )
            continue
        seen[definition.name] = path
        definitions.append(definition)
    if problems:
        raise SequenceError(f"{directory}", problems)
    return definitions
