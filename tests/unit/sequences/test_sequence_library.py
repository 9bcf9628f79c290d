"""The shipped sequences fit the content library, the product's segments and the cadence rules."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase

import pytest

from knowledge.library import Asset
from tools.segments.rules import default_definitions
from tools.sequences import SequenceDefinition, load_library
from tools.sequences.cadence import schedule_days
from tools.sequences.fit import content_problems

SHIPPED = ("core", "enterprise", "post-demo", "re-engagement")


@pytest.fixture(scope="module")
def library() -> dict[str, SequenceDefinition]:
    return {definition.name: definition for definition in load_library()}


def segment_examples() -> list[str]:
    """One example name per segment the product defines (`tofu:{industry}` -> `tofu:x`)."""
    definitions = default_definitions()
    names = [re.sub(r"\{[^}]+\}", "x", rule.name) for rule in definitions.rules]
    return [*names, definitions.excluded_segment]


def test_the_four_demo_sequences_ship(library: dict[str, SequenceDefinition]) -> None:
    assert sorted(library) == list(SHIPPED)


def test_track_priorities_route_demo_dormant_enterprise_then_core(
    library: dict[str, SequenceDefinition],
) -> None:
    order = sorted(library.values(), key=lambda d: -d.priority)
    assert [d.name for d in order] == ["post-demo", "re-engagement", "enterprise", "core"]


@pytest.mark.parametrize("name", ["core", "enterprise"])
def test_main_tracks_have_nine_to_twelve_touches_over_about_sixty_days(
    library: dict[str, SequenceDefinition], name: str
) -> None:
    definition = library[name]
    days = [step.day for step in definition.steps]
    assert 9 <= len(days) <= 12 and 45 <= days[-1] <= 65
    assert days == schedule_days(60, len(days))  # the default spacing
    assert definition.evergreen is not None and definition.evergreen.every_days == 30


@pytest.mark.parametrize("name", ["post-demo", "re-engagement"])
def test_short_tracks_use_the_fibonacci_days(
    library: dict[str, SequenceDefinition], name: str
) -> None:
    assert [s.day for s in library[name].steps] == [1, 3, 6, 11, 19, 32]


def test_every_link_is_library_content_of_the_steps_stage(
    library: dict[str, SequenceDefinition], assets: list[Asset]
) -> None:
    problems = [p for d in library.values() for p in content_problems(d, assets)]
    assert problems == []
    emails = [s for d in library.values() for s in d.steps if s.channel == "email"]
    # every email carries library content, except the re-engagement's closing note
    assert [s.theme for s in emails if not s.content] == ["should we stop writing?"]


def test_each_track_uses_content_tagged_for_its_audience(
    library: dict[str, SequenceDefinition], assets: list[Asset]
) -> None:
    by_url = {asset.url: asset for asset in assets}
    for definition in library.values():
        tagged = [
            step
            for step in definition.steps
            if step.content
            and any(
                fnmatchcase(segment, pattern)
                for segment in by_url[step.content].segments
                for pattern in definition.enrol.segments
            )
        ]
        with_content = [step for step in definition.steps if step.content]
        assert len(tagged) * 2 >= len(with_content), definition.name


def test_enrol_and_exit_patterns_name_real_segments(
    library: dict[str, SequenceDefinition],
) -> None:
    examples = segment_examples()
    for definition in library.values():
        patterns = [*definition.enrol.segments, *definition.exit.segments]
        for pattern in patterns:
            assert any(fnmatchcase(name, pattern) for name in examples), (definition.name, pattern)


def test_stages_move_towards_a_decision(library: dict[str, SequenceDefinition]) -> None:
    order = {"problem": 0, "solution": 1, "vendor": 2, "decision": 3}
    for name in ("core", "enterprise"):
        stages = [order[s.stage] for s in library[name].steps]
        assert stages[0] == 0 and max(stages[-3:]) >= 2  # starts on the problem, ends on a decision
        assert sum(stages[: len(stages) // 2]) < sum(stages[len(stages) // 2 :])


def test_branches_point_to_existing_steps_or_sequences(
    library: dict[str, SequenceDefinition],
) -> None:
    branches = [(d, s.branch) for d in library.values() for s in d.steps if s.branch]
    assert branches  # the demo shows behaviour branching
    for definition, branch in branches:
        for target in (branch.then, branch.otherwise):
            if target is not None and target.sequence is not None:
                assert target.sequence in library
            if target is not None and target.step is not None:
                assert definition.steps[target.step - 1].theme
