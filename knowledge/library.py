"""The content library: Markdown assets with YAML front matter, loaded and validated."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict

Stage = Literal["problem", "solution", "vendor", "decision"]
STAGES: tuple[str, ...] = get_args(Stage)
REQUIRED_KEYS: tuple[str, ...] = ("title", "stage", "segments", "asset_type", "url", "cta")
OPTIONAL_KEYS: tuple[str, ...] = ("persona", "industry")
ALLOWED_KEYS: frozenset[str] = frozenset(REQUIRED_KEYS + OPTIONAL_KEYS)
DEFAULT_SOURCE = Path(__file__).parent / "content"
FENCE = "---"


class LibraryError(ValueError):
    """One or more assets could not be loaded; `errors` lists every problem, one per line."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        count = len(self.errors)
        head = f"{count} problem{'s' if count != 1 else ''} in the content library:"
        super().__init__("\n".join([head, *(f"  {error}" for error in self.errors)]))


class Asset(BaseModel):
    """One content asset: its front matter, its Markdown body and where it came from."""

    model_config = ConfigDict(frozen=True)

    title: str
    stage: Stage
    segments: list[str]
    asset_type: str
    url: str
    cta: str
    persona: str | None = None
    industry: str | None = None
    path: Path
    body: str
    content_hash: str


def load_library(source: Path = DEFAULT_SOURCE) -> list[Asset]:
    """Every `*.md` asset under `source` (recursively, sorted by path); all errors at once."""
    source = Path(source)
    if not source.is_dir():
        raise LibraryError(
            [f"{source}: not a folder; pass --source a folder of Markdown (.md) assets"]
        )
    files = sorted(path for path in source.rglob("*.md") if path.is_file())
    if not files:
        raise LibraryError(
            [f"{source}: no .md files found; add Markdown assets with YAML front matter"]
        )
    assets: list[Asset] = []
    errors: list[str] = []
    for path in files:
        asset, problems = _load_asset(path)
        errors.extend(problems)
        if asset is not None:
            assets.append(asset)
    errors.extend(_duplicate_urls(assets))
    if errors:
        raise LibraryError(errors)
    return assets


def _load_asset(path: Path) -> tuple[Asset | None, list[str]]:
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"{path}: cannot read the file as UTF-8 text ({exc})"]
    split = _split_front_matter(text)
    if isinstance(split, str):
        return None, [f"{path}: {split}"]
    header, body = split
    try:
        meta = yaml.safe_load(header)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at front-matter line {mark.line + 2}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        return None, [
            f"{path}: front matter is not valid YAML{where} ({problem}); "
            "fix the YAML between the '---' lines (quote values containing ': ' or '#')"
        ]
    if not isinstance(meta, dict):
        return None, [
            f"{path}: front matter must be a mapping of keys "
            f"({', '.join(REQUIRED_KEYS)}), got {type(meta).__name__}"
        ]
    errors = [f"{path}: {problem}" for problem in _check(meta)]
    if not body.strip():
        errors.append(
            f"{path}: the body is empty; write the asset's Markdown after the front matter"
        )
    if errors:
        return None, errors
    asset = Asset(
        **{key: meta.get(key) for key in ALLOWED_KEYS},
        path=path,
        body=body.strip() + "\n",
        content_hash=hashlib.sha256(raw).hexdigest(),
    )
    return asset, []


def _split_front_matter(text: str) -> tuple[str, str] | str:
    """(YAML header, body), or a message saying what is wrong with the front matter."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != FENCE:
        return (
            "no front matter; start the file with a '---' line, then the keys "
            f"({', '.join(REQUIRED_KEYS)}), then a closing '---' line"
        )
    for index in range(1, len(lines)):
        if lines[index].strip() in (FENCE, "..."):
            return "".join(lines[1:index]), "".join(lines[index + 1 :])
    return "front matter is not closed; add a '---' line after the last key"


def _check(meta: dict[Any, Any]) -> list[str]:
    problems: list[str] = []
    for key in meta:
        if key not in ALLOWED_KEYS:
            problems.append(
                f"key {key!r}: unknown key; allowed keys are {', '.join(sorted(ALLOWED_KEYS))} "
                "(remove it or fix its spelling)"
            )
    for key in REQUIRED_KEYS:
        if meta.get(key) is None:
            problems.append(f"key {key!r}: missing; add '{key}: ...' to the front matter")
    for key in ("title", "asset_type", "cta"):
        value = meta.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            problems.append(f"key {key!r}: must be non-empty text, got {value!r}")
    stage = meta.get("stage")
    if stage is not None and stage not in STAGES:
        problems.append(f"key 'stage': {stage!r} is not one of {', '.join(STAGES)}")
    segments = meta.get("segments")
    if segments is not None and (
        not isinstance(segments, list)
        or not segments
        or not all(isinstance(item, str) and item.strip() for item in segments)
    ):
        problems.append(
            f"key 'segments': must be a non-empty list of segment names, got {segments!r} "
            "(e.g. segments: [mofu:data-science, late:pricing])"
        )
    url = meta.get("url")
    if url is not None and (
        not isinstance(url, str)
        or not url.startswith(("http://", "https://"))
        or len(url.split("://", 1)[1].strip("/")) == 0
    ):
        problems.append(f"key 'url': {url!r} is not an http(s) URL; use https://...")
    for key in OPTIONAL_KEYS:
        value = meta.get(key)
        if value is not None and not isinstance(value, str):
            problems.append(f"key {key!r}: must be text, got {value!r}")
    return problems


def _duplicate_urls(assets: list[Asset]) -> list[str]:
    first: dict[str, Path] = {}
    problems: list[str] = []
    for asset in assets:
        if asset.url in first:
            problems.append(
                f"{asset.path}: key 'url': {asset.url!r} is already used by {first[asset.url]}; "
                "every asset needs its own url"
            )
        else:
            first[asset.url] = asset.path
    return problems
