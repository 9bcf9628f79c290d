"""A small content finder over the shipped content library, standing in for the search."""

from __future__ import annotations

import re
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Any

import pytest

from knowledge.library import Asset, load_library


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]{4,}", text.lower()))


def make_finder(assets: list[Asset]) -> Callable[[str, str | None, str | None], list[dict]]:
    """Assets of the stage, tagged for the segment when one is given, by shared words."""

    def find(query: str, stage: str | None, segment: str | None) -> list[dict[str, Any]]:
        wanted = _words(query)
        hits = []
        for asset in assets:
            if stage is not None and asset.stage != stage:
                continue
            if segment is not None and not any(fnmatchcase(s, segment) for s in asset.segments):
                continue
            overlap = len(wanted & _words(f"{asset.title} {asset.asset_type} {asset.body}"))
            hits.append((overlap, asset))
        hits.sort(key=lambda hit: (-hit[0], hit[1].url))
        return [
            {"title": a.title, "url": a.url, "stage": a.stage, "asset_type": a.asset_type}
            for _, a in hits
        ]

    return find


@pytest.fixture(scope="session")
def assets() -> list[Asset]:
    return load_library()


@pytest.fixture
def find_content(assets: list[Asset]) -> Callable[[str, str | None, str | None], list[dict]]:
    return make_finder(assets)
