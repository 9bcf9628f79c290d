"""The content library: the shipped assets load and fit the segments; bad front matter is named."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from knowledge.library import DEFAULT_SOURCE, STAGES, Asset, LibraryError, load_library

COURSES = {
    "data-science", "product-management", "business-analytics", "digital-marketing",
    "finance-for-managers", "hr-analytics", "supply-chain-analytics", "mba-essentials",
    "healthcare-management", "general",
}  # fmt: skip
SEGMENT = re.compile(
    r"^(tofu:[a-z0-9]+(-[a-z0-9]+)*|mofu:(?P<course>[a-z0-9-]+)"
    r"|late:(demo|trial|pricing|reply)|re-engage|enterprise)$"
)
GOOD = """---
title: A guide
stage: solution
segments: [mofu:data-science]
asset_type: guide
url: https://www.x-education.example/a
cta: Read it
---

# A guide

Body text.
"""


@pytest.fixture(scope="module")
def shipped() -> list[Asset]:
    return load_library(DEFAULT_SOURCE)


def test_shipped_library_size_and_stage_spread(shipped: list[Asset]) -> None:
    assert 12 <= len(shipped) <= 18
    stages = Counter(asset.stage for asset in shipped)
    assert set(stages) == set(STAGES)
    assert min(stages.values()) >= 3, stages


def test_shipped_segments_exist(shipped: list[Asset]) -> None:
    for asset in shipped:
        assert asset.segments, asset.path
        for name in asset.segments:
            match = SEGMENT.match(name)
            assert match, f"{asset.path.name}: unknown segment {name!r}"
            course = match.group("course")
            assert course is None or course in COURSES, f"{asset.path.name}: {name!r}"


def test_shipped_urls_unique_and_on_site(shipped: list[Asset]) -> None:
    urls = [asset.url for asset in shipped]
    assert len(urls) == len(set(urls))
    assert all(url.startswith("https://www.x-education.example/") for url in urls)


def test_shipped_assets_are_real_content(shipped: list[Asset]) -> None:
    for asset in shipped:
        words = len(asset.body.split())
        assert 250 <= words <= 600, (asset.path.name, words)
        assert "lorem" not in asset.body.lower()
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*\.md", asset.path.name)
        assert len(asset.content_hash) == 64
    assert "enterprise" in {name for asset in shipped for name in asset.segments}
    types = {asset.asset_type.lower() for asset in shipped}
    for expected in ("case study", "security pack", "roi calculator", "webinar", "framework"):
        assert expected in types


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def errors_for(folder: Path) -> list[str]:
    with pytest.raises(LibraryError) as caught:
        load_library(folder)
    assert str(caught.value).count("\n") == len(caught.value.errors)
    return caught.value.errors


def test_good_file_loads(tmp_path: Path) -> None:
    path = write(tmp_path, "a.md", GOOD)
    [asset] = load_library(tmp_path)
    assert asset.path == path
    assert asset.stage == "solution"
    assert asset.segments == ["mofu:data-science"]
    assert asset.persona is None
    assert asset.body.startswith("# A guide")
    assert "---" not in asset.body


def test_hash_follows_content(tmp_path: Path) -> None:
    write(tmp_path, "a.md", GOOD)
    before = load_library(tmp_path)[0].content_hash
    assert load_library(tmp_path)[0].content_hash == before
    write(tmp_path, "a.md", GOOD.replace("Body text.", "Other text."))
    assert load_library(tmp_path)[0].content_hash != before


@pytest.mark.parametrize(
    ("text", "key", "hint"),
    [
        (GOOD.replace("cta: Read it\n", ""), "'cta'", "missing"),
        (GOOD.replace("stage: solution", "stage: middle"), "'stage'", "'middle' is not one of"),
        (GOOD.replace("cta: Read it", "cta: Read it\nowner: me"), "'owner'", "unknown key"),
        (GOOD.replace("segments: [mofu:data-science]", "segments: []"), "'segments'", "list"),
        (GOOD.replace("segments: [mofu:data-science]", "segments: x"), "'segments'", "list"),
        (GOOD.replace("https://www.x-education.example/a", "ftp://x/a"), "'url'", "http"),
    ],
)
def test_bad_key_names_file_and_key(tmp_path: Path, text: str, key: str, hint: str) -> None:
    path = write(tmp_path, "bad.md", text)
    [error] = errors_for(tmp_path)
    assert error.startswith(f"{path}: key {key}")
    assert hint in error


def test_no_front_matter(tmp_path: Path) -> None:
    path = write(tmp_path, "plain.md", "# Just a heading\n\nNo front matter here.\n")
    [error] = errors_for(tmp_path)
    assert error.startswith(f"{path}: no front matter")
    assert "'---'" in error and "title" in error


def test_unclosed_front_matter(tmp_path: Path) -> None:
    path = write(tmp_path, "open.md", GOOD.replace("cta: Read it\n---", "cta: Read it\n"))
    [error] = errors_for(tmp_path)
    assert error.startswith(f"{path}: front matter is not closed")


def test_malformed_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.md", GOOD.replace("[mofu:data-science]", "[mofu:data"))
    [error] = errors_for(tmp_path)
    assert error.startswith(f"{path}: front matter is not valid YAML at front-matter line")


def test_all_errors_collected_across_files(tmp_path: Path) -> None:
    write(tmp_path, "ok.md", GOOD)
    one = write(tmp_path, "one.md", GOOD.replace("title: A guide\n", "").replace("/a", "/1"))
    two = write(tmp_path, "two.md", GOOD.replace("solution", "middle").replace("Read it", ""))
    errors = errors_for(tmp_path)
    assert len(errors) == 3
    assert any(e.startswith(f"{one}: key 'title'") for e in errors)
    assert any(e.startswith(f"{two}: key 'stage'") for e in errors)
    assert any(e.startswith(f"{two}: key 'cta'") for e in errors)


def test_duplicate_url_names_both_files(tmp_path: Path) -> None:
    first = write(tmp_path, "a.md", GOOD)
    second = write(tmp_path, "b.md", GOOD)
    [error] = errors_for(tmp_path)
    assert error.startswith(f"{second}: key 'url'")
    assert str(first) in error


def test_missing_or_empty_folder(tmp_path: Path) -> None:
    assert "not a folder" in errors_for(tmp_path / "nope")[0]
    assert "no .md files" in errors_for(tmp_path)[0]
