"""Settings: the only module that reads the environment (and `.env`)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values that are fine on a laptop and never acceptable in production.
DEV_WEBHOOK_SECRET = "dev-webhook-secret"
DEV_SESSION_SECRET = "dev-session-secret"


class Settings(BaseSettings):
    """Runtime configuration. Every field maps to an environment variable (see .env.example)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    env: Literal["development", "test", "production"] = Field(
        "development", alias="NURTURE_ENV", description="production refuses insecure defaults"
    )
    var_dir: Path = Field(
        Path("var"), alias="NURTURE_VAR_DIR", description="embedded state: SQLite, Chroma, outbox"
    )
    database_url: str | None = Field(
        None, alias="DATABASE_URL", description="SQLAlchemy URL; default SQLite under var/"
    )
    chroma_host: str | None = Field(None, alias="CHROMA_HOST")
    chroma_port: int = Field(8000, alias="CHROMA_PORT")
    openai_api_key: str | None = Field(None, alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(None, alias="OPENAI_BASE_URL")
    openai_model: str = Field("gpt-4o-mini", alias="NURTURE_MODEL")
    model_timeout_s: float = Field(
        60.0, gt=0, alias="NURTURE_MODEL_TIMEOUT", description="seconds per model request"
    )
    model_max_retries: int = Field(
        3, ge=0, alias="NURTURE_MODEL_MAX_RETRIES", description="retries on 429/5xx/timeouts"
    )
    run_token_budget: int = Field(
        50_000, ge=0, alias="NURTURE_RUN_TOKEN_BUDGET", description="tokens per run; 0 = no cap"
    )
    run_cost_budget_usd: float = Field(
        0.10, ge=0, alias="NURTURE_RUN_COST_BUDGET_USD", description="USD per run; 0 = no cap"
    )
    webhook_secret: str = Field(
        DEV_WEBHOOK_SECRET, alias="NURTURE_WEBHOOK_SECRET", description="HMAC key for POST /events"
    )
    session_secret: str = Field(DEV_SESSION_SECRET, alias="NURTURE_SESSION_SECRET")
    users_file: Path | None = Field(
        None, alias="NURTURE_USERS_FILE", description="web chat users (YAML); default var/"
    )
    users_json: str | None = Field(
        None, alias="NURTURE_USERS", description="web chat users as JSON, instead of the file"
    )
    max_body_bytes: int = Field(5_000_000, alias="NURTURE_MAX_BODY_BYTES")
    max_batch_events: int = Field(1000, alias="NURTURE_MAX_BATCH_EVENTS")
    host: str = Field("127.0.0.1", alias="NURTURE_HOST")
    port: int = Field(8080, alias="NURTURE_PORT")
    slack_bot_token: str | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_api_base_url: str = Field("https://slack.com/api/", alias="SLACK_API_BASE_URL")
    slack_sdr_channel: str | None = Field(
        None, alias="SLACK_SDR_CHANNEL", description="channel id for approval and hand-off cards"
    )
    slack_users: str | None = Field(
        None,
        alias="NURTURE_SLACK_USERS",
        description="Slack user id -> role (sdr | manager) and owner name: JSON, or a YAML file",
    )
    approval_remind_hours: float = Field(
        4.0, gt=0, alias="NURTURE_APPROVAL_REMIND_HOURS", description="business hours, then remind"
    )
    approval_escalate_hours: float = Field(
        8.0, gt=0, alias="NURTURE_APPROVAL_ESCALATE_HOURS", description="then tell the managers"
    )
    handoff_remind_hours: float = Field(
        1.0, gt=0, alias="NURTURE_HANDOFF_REMIND_HOURS", description="before the SLA runs out"
    )
    task_remind_hours: float = Field(
        4.0, gt=0, alias="NURTURE_TASK_REMIND_HOURS", description="business hours past due"
    )
    task_escalate_hours: float = Field(
        16.0, gt=0, alias="NURTURE_TASK_ESCALATE_HOURS", description="then tell the managers"
    )
    slack_interval_s: float = Field(
        60.0, gt=0, alias="NURTURE_SLACK_INTERVAL", description="seconds between Slack passes"
    )
    handoff_sla_hours: float = Field(
        4.0, gt=0, alias="NURTURE_HANDOFF_SLA_HOURS", description="business hours to decide"
    )
    business_timezone: str = Field(
        "UTC", alias="NURTURE_BUSINESS_TIMEZONE", description="the SDR team's zone (IANA name)"
    )
    # Who signs nurture emails: a real person and a postal address (anti-spam law).
    sender_name: str = Field("Priya Nair", alias="NURTURE_SENDER_NAME")
    sender_title: str = Field("Admissions counsellor", alias="NURTURE_SENDER_TITLE")
    sender_company: str = Field("X Education", alias="NURTURE_SENDER_COMPANY")
    sender_email: str = Field("priya@x-education.example", alias="NURTURE_SENDER_EMAIL")
    sender_address: str = Field(
        "12 MG Road, Bengaluru 560001, India", alias="NURTURE_SENDER_ADDRESS"
    )
    alt_senders: str | None = Field(
        None,
        alias="NURTURE_ALT_SENDERS",
        description="Name <address>, ...: colleagues who sign after an unopened streak's pause",
    )
    public_url: str = Field(
        "http://127.0.0.1:8080",
        alias="NURTURE_PUBLIC_URL",
        description="where leads reach nurture serve (unsubscribe links)",
    )
    # Triggers, scheduling and sending (`nurture worker`, `nurture serve --worker`).
    triggers_file: Path | None = Field(
        None, alias="NURTURE_TRIGGERS_FILE", description="trigger rules (YAML); default: shipped"
    )
    outbox: Literal["file", "smtp"] = Field(
        "file", alias="NURTURE_OUTBOX", description="file: .eml files under var/outbox; smtp"
    )
    outbox_dir: Path | None = Field(None, alias="NURTURE_OUTBOX_DIR")
    smtp_host: str | None = Field(None, alias="SMTP_HOST")
    smtp_port: int = Field(587, alias="SMTP_PORT")
    smtp_username: str | None = Field(None, alias="SMTP_USERNAME")
    smtp_password: str | None = Field(None, alias="SMTP_PASSWORD")
    smtp_security: Literal["starttls", "ssl", "none"] = Field("starttls", alias="SMTP_SECURITY")
    smtp_timeout_s: float = Field(30.0, gt=0, alias="SMTP_TIMEOUT")
    send_interval_s: float = Field(30.0, gt=0, alias="NURTURE_SEND_INTERVAL")
    agent_interval_s: float = Field(300.0, gt=0, alias="NURTURE_AGENT_INTERVAL")
    trigger_interval_s: float = Field(5.0, gt=0, alias="NURTURE_TRIGGER_INTERVAL")
    misfire_grace_s: int = Field(60, ge=1, alias="NURTURE_MISFIRE_GRACE")
    send_batch: int = Field(100, ge=1, alias="NURTURE_SEND_BATCH")
    send_lease_s: float = Field(300.0, gt=0, alias="NURTURE_SEND_LEASE")
    send_max_attempts: int = Field(5, ge=1, alias="NURTURE_SEND_MAX_ATTEMPTS")
    agent_batch: int = Field(200, ge=1, alias="NURTURE_AGENT_BATCH")
    min_gap_days: float = Field(4.0, ge=0, alias="NURTURE_MIN_GAP_DAYS")
    daily_send_cap: int = Field(2000, ge=0, alias="NURTURE_DAILY_SEND_CAP")
    send_window_start: time = Field(time(9, 0), alias="NURTURE_SEND_WINDOW_START")
    send_window_end: time = Field(time(17, 0), alias="NURTURE_SEND_WINDOW_END")
    send_on_weekends: bool = Field(False, alias="NURTURE_SEND_ON_WEEKENDS")
    holdout_share: float = Field(
        0.05, ge=0, le=0.5, alias="NURTURE_HOLDOUT_SHARE", description="leads on the plain drip"
    )
    holdout_salt: str = Field(
        "nurture-holdout", alias="NURTURE_HOLDOUT_SALT", description="changing it reshuffles"
    )

    @field_validator("users_file", "users_json", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # `NURTURE_USERS_FILE=` in a .env file means "the default", not the current directory.
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _sending_settings(self) -> Settings:
        if self.send_window_start >= self.send_window_end:
            raise ValueError(
                f"NURTURE_SEND_WINDOW_START ({self.send_window_start:%H:%M}) must be before "
                f"NURTURE_SEND_WINDOW_END ({self.send_window_end:%H:%M})"
            )
        if self.outbox == "smtp" and not self.smtp_host:
            raise ValueError("NURTURE_OUTBOX=smtp needs SMTP_HOST (and SMTP_PORT, credentials)")
        return self

    @model_validator(mode="after")
    def _alternate_senders(self) -> Settings:
        if self.alt_senders and self.alt_senders.strip():
            from tools.schemas import Sender  # only when set: settings load everywhere
            from tools.senders import parse_alternates

            main = Sender(
                name=self.sender_name,
                title=self.sender_title,
                company=self.sender_company,
                email=self.sender_email,
                address=self.sender_address,
            )
            parse_alternates(self.alt_senders, main)  # a SenderError names the entry
        return self

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Settings:
        if self.env != "production":
            return self
        problems = []
        if self.webhook_secret == DEV_WEBHOOK_SECRET or len(self.webhook_secret) < 16:
            problems.append("NURTURE_WEBHOOK_SECRET must be set to a random value of 16+ chars")
        if self.session_secret == DEV_SESSION_SECRET or len(self.session_secret) < 16:
            problems.append("NURTURE_SESSION_SECRET must be set to a random value of 16+ chars")
        if self.host == "0.0.0.0" and not self.database_url:
            problems.append(
                "DATABASE_URL should point at PostgreSQL when serving on all interfaces"
            )
        if problems:
            raise ValueError("insecure production settings: " + "; ".join(problems))
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            # Accept the common postgres:// spelling and pick the psycopg 3 driver.
            url = self.database_url
            for prefix in ("postgres://", "postgresql://"):
                if url.startswith(prefix):
                    return "postgresql+psycopg://" + url[len(prefix) :]
            return url
        return f"sqlite:///{self.var_dir / 'nurture.db'}"

    @property
    def resolved_users_file(self) -> Path:
        return self.users_file or self.var_dir / "users.yaml"

    @property
    def chat_auth_secret(self) -> str:
        """The web chat's session-token key, derived from NURTURE_SESSION_SECRET."""
        digest = hmac.new(self.session_secret.encode(), b"nurture web chat", hashlib.sha256)
        return digest.hexdigest()

    @property
    def resolved_outbox_dir(self) -> Path:
        return self.outbox_dir or self.var_dir / "outbox"

    @property
    def model_provider(self) -> str:
        if self.openai_base_url:
            return "openai-compatible"
        return "openai" if self.openai_api_key else "offline"


@lru_cache
def get_settings() -> Settings:
    return Settings()
