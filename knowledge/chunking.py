"""Token-bounded chunks of Markdown: paragraphs packed under their section heading."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from knowledge.tokens import encoding

# Short enough for MiniLM to embed fast and to cite one point; long enough to carry it.
DEFAULT_MAX_TOKENS = 96
# Tokens repeated between the windows of a passage too long to split at sentence ends.
DEFAULT_OVERLAP = 16
# A section heading closes the chunk before it, unless that chunk is still this small.
MIN_TOKENS_BEFORE_HEADING = 24

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
# Where a long block may be cut: after a sentence, or before a list item or table row (a
# plain line break inside a paragraph is only wrapping).
_UNIT = re.compile(r"((?<=[.!?])\s+|\n(?=[ \t]*(?:[-*+]\s|\d+[.)]\s|\|)))")


_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$", re.MULTILINE)
_MARKUP = re.compile(r"(^|\s)#{1,6}\s+|\*\*|__|`|^\s*[-*+]\s+|\|", re.MULTILINE)


def plain_text(markdown: str) -> str:
    """Markdown as one plain line: no heading marks, emphasis, bullets or table rules and bars.

    Used for what is embedded (the model was trained on prose, and markup costs tokens) and
    for snippets quoted in prompts.
    """
    return " ".join(_MARKUP.sub(" ", _TABLE_RULE.sub(" ", markdown)).split())


def opening_heading(markdown: str) -> tuple[str, str] | None:
    """(the heading's text, the rest) when `markdown` opens with a heading line, else None."""
    first, _, rest = markdown.lstrip().partition("\n")
    match = _HEADING.match(first)
    return (match.group(2), rest) if match else None


@dataclass(frozen=True)
class Chunk:
    """One passage: its position in the asset, its text and the section it sits in."""

    index: int
    text: str
    heading: str | None
    tokens: int


@dataclass(frozen=True)
class _Piece:
    text: str
    heading: str | None
    is_heading: bool


def chunk_markdown(
    text: str,
    *,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    overlap: int = DEFAULT_OVERLAP,
    model: str | None = None,
) -> list[Chunk]:
    """Split Markdown into chunks of at most `max_tokens` tiktoken tokens, in reading order.

    Blank-line blocks are packed together; a heading starts a new chunk; a block longer than
    the limit is split at sentence ends, and a sentence longer than the limit into windows
    that overlap by `overlap` tokens.
    """
    if max_tokens < 8:
        raise ValueError(f"max_tokens must be at least 8, got {max_tokens}")
    if not 0 <= overlap < max_tokens // 2:
        raise ValueError(f"overlap must be between 0 and {max_tokens // 2 - 1}, got {overlap}")
    enc = encoding(model)

    def count(part: str) -> int:
        return len(enc.encode_ordinary(part))

    pieces = [
        piece
        for block in _blocks(text)
        for piece in _fit(block, max_tokens=max_tokens, overlap=overlap, model=model)
    ]
    chunks: list[Chunk] = []
    current: list[str] = []
    pending_headings: list[str] = []
    heading: str | None = None

    def size(parts: list[str]) -> int:
        return count("\n\n".join(parts))

    def flush() -> None:
        if current:
            joined = "\n\n".join(current)
            chunks.append(Chunk(len(chunks), joined, heading, count(joined)))
            current.clear()

    for piece in pieces:
        if piece.is_heading:
            # A heading opens a new chunk and is kept with the text below it, never alone.
            if current and size(current) >= MIN_TOKENS_BEFORE_HEADING:
                flush()
            pending_headings.append(piece.text)
            continue
        texts = [*pending_headings, piece.text]
        pending_headings.clear()
        if not current:
            heading = piece.heading
        if size([*current, *texts]) <= max_tokens:
            current.extend(texts)
            continue
        if current and size(current) < MIN_TOKENS_BEFORE_HEADING:
            # Too little to stand alone (a lead-in line): fill it with the start of the block.
            room = max_tokens - size([*current, *texts[:-1]]) - 2
            head, rest = _take(piece.text, room, count)
            if head:
                current.extend([*texts[:-1], head])
                flush()
                heading = piece.heading
                if rest:
                    current.append(rest)
                continue
        flush()
        heading = piece.heading
        if size(texts) > max_tokens:
            texts = [piece.text]  # the heading still travels in Chunk.heading
        current.extend(texts)
    if pending_headings and size([*current, *pending_headings]) <= max_tokens:
        current.extend(pending_headings)
    flush()
    return chunks


def _take(text: str, room: int, count: Callable[[str], int]) -> tuple[str, str]:
    """The longest run of whole sentences or list items from the start of `text` in `room`."""
    parts = _UNIT.split(text)
    head = ""
    for end in range(1, len(parts) + 1, 2):
        candidate = "".join(parts[:end]).strip()
        if count(candidate) > room:
            break
        head = candidate
    return head, text[len(head) :].strip() if head else text


def _blocks(text: str) -> list[_Piece]:
    """Blank-line separated blocks, each with the nearest heading above it."""
    blocks: list[_Piece] = []
    heading: str | None = None
    for raw in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        block = raw.strip()
        if not block:
            continue
        lines = block.split("\n")
        match = _HEADING.match(lines[0])
        if match:
            heading = match.group(2) or None
            blocks.append(_Piece(lines[0].strip(), heading, True))
            rest = "\n".join(lines[1:]).strip()
            if rest:
                blocks.append(_Piece(rest, heading, False))
        else:
            blocks.append(_Piece(block, heading, False))
    return blocks


def _fit(piece: _Piece, *, max_tokens: int, overlap: int, model: str | None) -> list[_Piece]:
    """The piece itself when it fits, else runs of whole sentences or list items that fit."""
    enc = encoding(model)

    def count(part: str) -> int:
        return len(enc.encode_ordinary(part))

    if count(piece.text) <= max_tokens:
        return [piece]
    parts: list[str] = []
    rest = piece.text.strip()
    while rest:
        head, rest = _take(rest, max_tokens, count)
        if head:
            parts.append(head)
            continue
        # One sentence longer than the limit: overlapping token windows.
        first, *tail = _UNIT.split(rest, maxsplit=1)
        parts.extend(_windows(first, max_tokens=max_tokens, overlap=overlap, model=model))
        rest = tail[-1].strip() if tail else ""
    return [
        _Piece(part, piece.heading, piece.is_heading and i == 0) for i, part in enumerate(parts)
    ]


def _windows(text: str, *, max_tokens: int, overlap: int, model: str | None) -> list[str]:
    enc = encoding(model)
    tokens = enc.encode_ordinary(text)
    windows: list[str] = []
    for start in range(0, max(len(tokens) - overlap, 1), max_tokens - overlap):
        end = start + max_tokens
        window = enc.decode(tokens[start:end]).strip()
        # A cut inside a multi-byte character decodes to U+FFFD, which costs more tokens.
        while end > start + 1 and len(enc.encode_ordinary(window)) > max_tokens:
            end -= 1
            window = enc.decode(tokens[start:end]).strip()
        if window:
            windows.append(window)
    return windows
