"""Validated input records (the Create layer): what a row, JSON line or webhook item must be."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from store.models import LeadBase, LifecycleStage, OutcomeKind

KNOWN_EVENT_TYPES = frozenset(
    {
        "page_view",
        "content_download",
        "form_submit",
        "webinar_attended",
        "video_watched",
        "email_open",
        "email_click",
        "email_reply",
        "demo_request",
        "pricing_page_view",
        "trial_signup",
        "product_milestone",
        "unsubscribe",
        "bounce",
    }
)

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TRUE_WORDS = {"true", "t", "yes", "y", "1", "on"}
FALSE_WORDS = {"false", "f", "no", "n", "0", "off", ""}
_TIMEZONES = available_timezones()


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        raise ValueError("expected yes/no, true/false or 1/0")
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"{value!r} is not yes/no, true/false or 1/0")


def parse_timestamp(value: Any) -> datetime:
    """ISO-8601 (or epoch seconds) to an aware UTC datetime; no offset means UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        moment = datetime.fromtimestamp(value, UTC)
    else:
        text = str(value).strip()
        if not text:
            raise ValueError("a timestamp is required (ISO-8601, e.g. 2026-11-02T14:05:00Z)")
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"{text!r} is not an ISO-8601 timestamp (e.g. 2026-11-02T14:05:00Z)"
            ) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value.strip() if isinstance(value, str) else value


class LeadCreate(LeadBase):
    """One lead as it arrives from a file or API; unknown columns go to `attributes`."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]
    attributes: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _blanks(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: (v if k == "attributes" else _blank_to_none(v)) for k, v in data.items()}
        return data

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.strip().lower()
        if not EMAIL_RE.match(value):
            raise ValueError(f"{value!r} is not a valid email address")
        return value

    @field_validator("consent", "do_not_email", mode="before")
    @classmethod
    def _bool(cls, value: Any, info: ValidationInfo) -> Any:
        # A blank cell means "not stated": keep the field's default (consent yes, do-not-email no).
        if value is None:
            return info.field_name == "consent"
        return parse_bool(value)

    @field_validator("company_size", mode="before")
    @classmethod
    def _size(cls, value: Any) -> Any:
        if isinstance(value, str):
            cleaned = value.replace(",", "").replace("_", "").strip()
            if cleaned.endswith("+"):
                cleaned = cleaned[:-1]
            try:
                return int(float(cleaned))
            except ValueError:
                raise ValueError(f"{value!r} is not a whole number of employees") from None
        return value

    @field_validator("lifecycle_stage", mode="before")
    @classmethod
    def _stage(cls, value: Any) -> Any:
        if value is None:
            return LifecycleStage.lead
        word = str(value).strip().lower()
        if word not in LifecycleStage.__members__:
            allowed = ", ".join(LifecycleStage.__members__)
            raise ValueError(f"{value!r} is not a lifecycle stage ({allowed})")
        return word

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        if value is not None and value not in _TIMEZONES:
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Berlin)")
        if value is not None:
            ZoneInfo(value)
        return value


class EventCreate(BaseModel):
    """One behavioural event. The lead is named by email or by its external id."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, max_length=200, description="the sender's event id")
    lead_email: str | None = None
    lead_external_id: str | None = None
    type: str = Field(min_length=1, max_length=64)
    occurred_at: datetime
    properties: dict[str, Any] = Field(default_factory=dict)
    source: str | None = Field(default=None, max_length=64)

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError("an event must be a JSON object")
        data = {k: _blank_to_none(v) for k, v in data.items()}
        if isinstance(data.get("properties"), str):
            try:
                data["properties"] = json.loads(data["properties"])
            except json.JSONDecodeError:
                raise ValueError("properties must be a JSON object") from None
        if data.get("properties") is None:
            data["properties"] = {}
        if data.get("id") is not None:
            data["id"] = str(data["id"])
        return data

    _when = field_validator("occurred_at", mode="before")(lambda v: parse_timestamp(v))

    @model_validator(mode="after")
    def _check(self) -> EventCreate:
        if self.lead_email:
            self.lead_email = self.lead_email.lower()
        if not self.lead_email and not self.lead_external_id:
            raise ValueError("lead_email or lead_external_id is required")
        self.type = self.type.strip().lower()
        props = self.properties
        if self.type == "page_view" and not (props.get("url") or props.get("path")):
            raise ValueError("page_view needs properties.url or properties.path")
        if self.type == "video_watched":
            percent = props.get("percent")
            if not isinstance(percent, int | float) or not 0 <= percent <= 100:
                raise ValueError("video_watched needs properties.percent between 0 and 100")
        return self

    @property
    def known_type(self) -> bool:
        return self.type in KNOWN_EVENT_TYPES

    def dedupe_key(self) -> str:
        """The sender's id, else a hash of the content (so a re-sent line is the same event)."""
        if self.id:
            return self.id
        blob = json.dumps(
            [
                self.lead_email,
                self.lead_external_id,
                self.type,
                self.occurred_at.isoformat(),
                self.properties,
            ],
            sort_keys=True,
            default=str,
        )
        return "h:" + hashlib.sha256(blob.encode()).hexdigest()[:40]


class OutcomeCreate(BaseModel):
    """A closed outcome for a lead: won, lost, or an MQL the SDR rejected (with a reason)."""

    model_config = ConfigDict(extra="forbid")

    lead_email: str
    kind: OutcomeKind
    occurred_at: datetime
    amount: float | None = Field(default=None, ge=0)
    reason: str | None = None

    _when = field_validator("occurred_at", mode="before")(lambda v: parse_timestamp(v))

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = {k: _blank_to_none(v) for k, v in data.items()}
            if isinstance(data.get("kind"), str):
                data["kind"] = data["kind"].lower().replace("-", "_")
            if isinstance(data.get("lead_email"), str):
                data["lead_email"] = data["lead_email"].lower()
        return data
