"""Check a sequence against the content library: every linked asset exists at the step's stage."""

from __future__ import annotations

from collections.abc import Sequence

from knowledge.library import Asset
from tools.sequences.model import SequenceDefinition


def content_problems(definition: SequenceDefinition, assets: Sequence[Asset]) -> list[str]:
    """One line per step whose `content` is not a library asset or is one of another stage."""
    by_url = {asset.url: asset for asset in assets}
    problems = []
    for number, step in enumerate(definition.steps, 1):
        if step.content is None:
            continue
        where = f"{definition.name}: step {number} (day {step.day})"
        asset = by_url.get(step.content)
        if asset is None:
            problems.append(f"{where}: {step.content} is not in the content library")
        elif asset.stage != step.stage:
            problems.append(
                f"{where}: {asset.title!r} is {asset.stage}-stage content, the step is "
                f"{step.stage}-stage"
            )
    return problems
