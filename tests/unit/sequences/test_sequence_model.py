"""Sequence definitions: validation, and errors that name the file and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tools.sequences import SequenceError, load_library, load_sequence_file, parse_definition

GOOD = """
name: test-track
priority: 15
enrol:
  segments: ["mofu:*", enterprise]
steps:
  - {day: 1, stage: problem, theme: welcome, goal: open}
  - {day: 3, stage: solution, theme: guide, goal: teach, channel: video}
  - day: 6
    stage: vendor
    theme: case study
    goal: prove
    branch: {when: email_click, within_days: 5, then: {step: 4}}
  - {day: 11, stage: vendor, theme: call, goal: ask, channel: sdr_task}
"""


def write(tmp_path: Path, text: str, name: str = "track.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def errors_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(SequenceError) as info:
        load_sequence_file(write(tmp_path, text))
    return str(info.value)


def test_a_valid_file_loads_with_defaults(tmp_path: Path) -> None:
    definition = load_sequence_file(write(tmp_path, GOOD))
    assert definition.name == "test-track" and definition.priority == 15
    assert [s.channel for s in definition.steps] == ["email", "video", "email", "sdr_task"]
    assert definition.enrol.lifecycle == ["lead", "mql"]
    assert definition.exit.events == ["unsubscribe", "bounce"]
    assert definition.span_days == 11
    again = parse_definition(definition.as_data())
    assert again == definition


def test_errors_name_the_file_the_step_and_the_field(tmp_path: Path) -> None:
    text = GOOD.replace("channel: video", "channel: sms").replace("theme: welcome", "thme: hi")
    message = errors_of(tmp_path, text)
    assert str(tmp_path / "track.yaml") in message and "3 problems" in message
    assert "steps[2] (day 3).channel: Input should be 'email', 'video' or 'sdr_task'" in message
    assert "(got 'sms')" in message
    assert "steps[1] (day 1).thme: unknown field" in message
    assert "steps[1] (day 1).theme: required field is missing" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("day: 6", "day: 2"), "step 3 (day 2) must come after step 2 (day 3)"),
        (("then: {step: 4}", "then: {step: 2}"), "step 3 branches to step 2; it must be a later"),
        (("then: {step: 4}", "then: {sequence: test-track}"), "branches to its own sequence"),
        (("then: {step: 4}", "then: {}"), "give exactly one of step"),
        (("when: email_click", "when: email_clik"), "'email_clik' is not an event type"),
        (('"mofu:*"', '"Mofu Leads"'), "'Mofu Leads' is not a segment name or pattern"),
        (("name: test-track", "name: Test Track"), "'Test Track' is not a sequence name"),
        (("stage: problem", "stage: awareness"), "steps[1] (day 1).stage: Input should be"),
        (("  segments:", "  company_size: {min: 500, max: 100}\n  segments:"), "min (500) must"),
        (("  segments:", "  company_size: {}\n  segments:"), "give min, max or both"),
        (("  segments:", "  industries: [Financial Services]\n  segments:"), "industry slug"),
    ],
)
def test_rules_are_checked(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    assert expected in errors_of(tmp_path, GOOD.replace(*change, 1))


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    assert "not valid YAML at line 2" in errors_of(tmp_path, "name: x\n  bad: [\n")
    assert "the file is empty" in errors_of(tmp_path, "")
    assert "must be a mapping" in errors_of(tmp_path, "- a\n- b\n")
    with pytest.raises(SequenceError, match="cannot read the file"):
        load_sequence_file(tmp_path / "missing.yaml")


def test_library_reports_every_problem_and_duplicate_names(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.yaml")
    write(tmp_path, GOOD, "b.yaml")
    write(tmp_path, GOOD.replace("stage: problem", "stage: nope"), "c.yaml")
    with pytest.raises(SequenceError) as info:
        load_library(tmp_path)
    message = str(info.value)
    assert "b.yaml: name 'test-track' is already used by" in message
    assert "c.yaml" in message and "stage" in message
    with pytest.raises(SequenceError, match=r"no \.yaml sequence files"):
        load_library(tmp_path / "empty")


def test_definitions_from_chat_are_validated_like_files() -> None:
    data: dict[str, Any] = {"name": "x", "enrol": {"segments": []}, "steps": []}
    with pytest.raises(SequenceError) as info:
        parse_definition(data, source="chat")
    message = str(info.value)
    assert message.startswith("chat: 2 problems")
    assert "enrol.segments: List should have at least 1 item" in message
    with pytest.raises(SequenceError, match="must be a mapping"):
        parse_definition(["not", "a", "mapping"])
