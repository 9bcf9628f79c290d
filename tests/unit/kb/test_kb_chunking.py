"""Chunking: token bounds, headings, long passages split at sentences or overlapping windows."""

from __future__ import annotations

import pytest

from knowledge.chunking import chunk_markdown
from knowledge.library import load_library
from knowledge.tokens import encoding


def _words(text: str) -> list[str]:
    """The words of the text outside its heading lines."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    return " ".join(lines).split()


def test_the_shipped_library_chunks_within_the_limit_and_keeps_every_word() -> None:
    for asset in load_library():
        chunks = chunk_markdown(asset.body, max_tokens=96, overlap=16)
        assert chunks, asset.path
        assert [c.index for c in chunks] == list(range(len(chunks)))
        for chunk in chunks:
            assert 0 < chunk.tokens <= 96, (asset.path, chunk.index)
            assert chunk.tokens == len(encoding().encode_ordinary(chunk.text))
        # No sentence of the library is longer than the limit, so nothing overlaps or is lost.
        rejoined = [w for c in chunks for w in _words(c.text)]
        assert rejoined == _words(asset.body), asset.path
        # A heading that did not fit beside its text still labels the chunk.
        headings = {
            line.lstrip("# ").strip() for line in asset.body.splitlines() if line.startswith("#")
        }
        assert headings <= {c.heading for c in chunks} | {
            line.lstrip("# ").strip() for c in chunks for line in c.text.splitlines()
        }, asset.path


def test_headings_open_chunks_and_label_them() -> None:
    text = "\n\n".join(
        [
            "# Fees",
            "The programme costs 1,60,000 rupees. " * 6,
            "## Instalments",
            "Pay in three or six instalments at no extra cost. " * 4,
            "## Scholarships",
            "Up to 30 percent off for returning professionals. " * 4,
        ]
    )
    chunks = chunk_markdown(text, max_tokens=80, overlap=8)
    assert [c.heading for c in chunks] == ["Fees", "Instalments", "Scholarships"]
    assert chunks[1].text.startswith("## Instalments")
    # A heading is never left alone at the end of a chunk.
    assert not any(c.text.rstrip().endswith(("Instalments", "Scholarships")) for c in chunks)


def test_long_paragraphs_split_at_sentence_ends() -> None:
    sentences = [f"Sentence number {i} talks about study plans for busy people." for i in range(40)]
    chunks = chunk_markdown(" ".join(sentences), max_tokens=60, overlap=8)
    assert len(chunks) > 3
    for chunk in chunks:
        assert chunk.tokens <= 60
        assert chunk.text.endswith("people.")


def test_a_sentence_longer_than_the_limit_becomes_overlapping_windows() -> None:
    enc = encoding()
    text = " ".join(f"w{i}" for i in range(400))
    chunks = chunk_markdown(text, max_tokens=50, overlap=10)
    assert len(chunks) > 5 and all(c.tokens <= 50 for c in chunks)
    first, second = (enc.encode_ordinary(c.text) for c in chunks[:2])
    # The next window starts 10 tokens before the previous one ended.
    assert enc.decode(first[-10:]).strip() in chunks[1].text
    assert len(second) <= 50


def test_small_lead_in_lines_are_filled_rather_than_left_alone() -> None:
    items = "\n".join(f"- item {i}: a benefit of the programme for your team" for i in range(30))
    chunks = chunk_markdown(f"## For a team\n\n**Inputs**\n\n{items}", max_tokens=60, overlap=8)
    assert chunks[0].text.startswith("## For a team\n\n**Inputs**\n\n- item 0")
    assert all(c.tokens >= 20 for c in chunks[:-1])


@pytest.mark.parametrize(("max_tokens", "overlap"), [(4, 0), (50, 30), (50, -1)])
def test_bad_settings_are_refused(max_tokens: int, overlap: int) -> None:
    with pytest.raises(ValueError, match=r"max_tokens|overlap"):
        chunk_markdown("text", max_tokens=max_tokens, overlap=overlap)
