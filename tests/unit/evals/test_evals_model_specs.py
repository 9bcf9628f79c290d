"""`--model` specs become settings for the model factory; bad ones say what is accepted."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.settings import Settings
from evals.models import ModelSpecError, describe, settings_for


@pytest.fixture
def base(tmp_path: Path) -> Settings:
    return Settings(
        NURTURE_VAR_DIR=tmp_path, NURTURE_ENV="test", OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=None
    )


def test_offline_drops_every_model_server(base: Settings) -> None:
    chosen = settings_for(base, "offline")
    assert chosen.model_provider == "offline" and describe(chosen) == "offline"
    assert base.openai_api_key == "sk-test"  # the caller's settings are untouched


def test_openai_names_the_model(base: Settings) -> None:
    chosen = settings_for(base, "openai:gpt-4.1-mini")
    assert chosen.model_provider == "openai" and chosen.openai_model == "gpt-4.1-mini"
    assert describe(chosen) == "openai:gpt-4.1-mini"
    without_key = base.model_copy(update={"openai_api_key": None})
    with pytest.raises(ModelSpecError, match="needs OPENAI_API_KEY"):
        settings_for(without_key, "openai:gpt-4.1-mini")


@pytest.mark.parametrize(
    ("spec", "url", "name"),
    [
        ("compatible:http://gpu-box:8000/v1:Qwen/Qwen2.5-7B-Instruct", "http://gpu-box:8000/v1",
         "Qwen/Qwen2.5-7B-Instruct"),
        ("compatible:http://localhost:11434/v1:qwen2.5:7b", "http://localhost:11434/v1",
         "qwen2.5:7b"),
        ("compatible:https://llm.example:stub", "https://llm.example", "stub"),
    ],
)  # fmt: skip
def test_compatible_servers_keep_the_colons_of_ports_and_tags(
    base: Settings, spec: str, url: str, name: str
) -> None:
    chosen = settings_for(base, spec)
    assert (chosen.openai_base_url, chosen.openai_model) == (url, name)
    assert chosen.model_provider == "openai-compatible" and describe(chosen) == spec


@pytest.mark.parametrize("spec", ["gpt-4o", "openai:", "compatible:gpu-box:model", "vllm:x"])
def test_bad_specs_list_the_accepted_forms(base: Settings, spec: str) -> None:
    with pytest.raises(ModelSpecError, match="compatible"):
        settings_for(base, spec)


def test_no_spec_keeps_the_configured_model(base: Settings) -> None:
    assert settings_for(base, None) is base
