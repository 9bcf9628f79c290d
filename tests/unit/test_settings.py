"""Settings: defaults, production refusals, and the documented variables."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from agent.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_are_embedded() -> None:
    settings = Settings(_env_file=None, NURTURE_VAR_DIR=Path("/tmp/x"))
    assert settings.resolved_database_url == "sqlite:////tmp/x/nurture.db"
    assert settings.model_provider == "offline"


def test_postgres_urls_get_the_psycopg_driver() -> None:
    settings = Settings(_env_file=None, DATABASE_URL="postgres://u@h:5432/db")
    assert settings.resolved_database_url == "postgresql+psycopg://u@h:5432/db"


def test_model_provider_follows_the_keys() -> None:
    assert Settings(_env_file=None, OPENAI_API_KEY="sk-x").model_provider == "openai"
    assert (
        Settings(_env_file=None, OPENAI_BASE_URL="http://localhost:8000/v1").model_provider
        == "openai-compatible"
    )


def test_production_refuses_insecure_defaults() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, NURTURE_ENV="production")
    text = str(caught.value)
    assert "NURTURE_WEBHOOK_SECRET" in text and "NURTURE_SESSION_SECRET" in text
    ok = Settings(
        _env_file=None,
        NURTURE_ENV="production",
        NURTURE_WEBHOOK_SECRET="a" * 32,
        NURTURE_SESSION_SECRET="b" * 32,
    )
    assert ok.env == "production"


def test_env_example_documents_every_variable() -> None:
    text = (ROOT / ".env.example").read_text()
    documented = {line.split("=", 1)[0] for line in text.splitlines() if "=" in line and
                  not line.startswith("#")}
    aliases = {field.alias for field in Settings.model_fields.values()}
    assert aliases == documented
