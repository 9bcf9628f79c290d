"""Ingestion: validate leads, events and outcomes from files or the webhook, then write them whole.

Every row is validated before anything is written. A bad file raises `ImportRejected` with one
message per bad row, unless the caller asks to skip invalid rows (they go to a reject file).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine

from agent.experiments import reward_variants
from agent.trigger_rules import trigger_rules
from store import crud
from store.db import session_scope
from store.schemas import EventCreate, LeadCreate, OutcomeCreate
from tools.triggers import evaluate
from tools.triggers.rules import RuleSet, TriggerError

# Column names people use for lead fields, normalised (lower case, non-alphanumerics to "_").
LEAD_ALIASES = {
    "e_mail": "email",
    "email_address": "email",
    "id": "external_id",
    "lead_id": "external_id",
    "crm_id": "external_id",
    "first": "first_name",
    "firstname": "first_name",
    "given_name": "first_name",
    "last": "last_name",
    "lastname": "last_name",
    "surname": "last_name",
    "family_name": "last_name",
    "company_name": "company",
    "account": "company",
    "account_name": "company",
    "organization": "company",
    "employees": "company_size",
    "number_of_employees": "company_size",
    "employee_count": "company_size",
    "title": "role",
    "job_title": "role",
    "lead_source": "source",
    "stage": "lifecycle_stage",
    "lifecycle": "lifecycle_stage",
    "tz": "timezone",
    "time_zone": "timezone",
    "lead_owner": "owner",
    "unsubscribed": "do_not_email",
}
LEAD_FIELDS = [name for name in LeadCreate.model_fields if name != "attributes"]
EVENT_ALIASES = {
    "event_id": "id",
    "email": "lead_email",
    "external_id": "lead_external_id",
    "event_type": "type",
    "event": "type",
    "timestamp": "occurred_at",
    "time": "occurred_at",
}
EVENT_FIELDS = set(EventCreate.model_fields)
SEPARATORS = ",;\t|"


class IngestError(ValueError):
    """A file or request that cannot be read at all (not a row problem)."""


@dataclass(frozen=True)
class RowError:
    line: int  # line in the file (CSV header is line 1), or item index for API batches
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column '{self.column}'" if self.column else "")
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "message": self.message}


class ImportRejected(ValueError):
    """The input had bad rows and nothing was written."""

    def __init__(self, errors: list[RowError], *, hint: str = ""):
        self.errors = errors
        self.hint = hint
        super().__init__(f"{len(errors)} invalid row(s); nothing was written")


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    rejected: int = 0
    reject_file: Path | None = None
    errors: list[RowError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "errors"}
        data["reject_file"] = str(self.reject_file) if self.reject_file else None
        return data


# --- reading files -----------------------------------------------------------------------


@lru_cache(maxsize=4096)
def normalise_column(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def read_records(path: Path, *, sep: str | None = None) -> tuple[list[str], list[tuple[int, dict]]]:
    """Read a CSV (separator sniffed unless given) or JSONL file into (columns, [(line, row)])."""
    if not path.exists():
        raise IngestError(f"{path}: no such file")
    text = path.read_text(encoding="utf-8-sig")
    if not text.strip():
        raise IngestError(f"{path} is empty: expected a header row (CSV) or JSON lines")
    if path.suffix.lower() in {".jsonl", ".ndjson", ".json"} or text.lstrip().startswith("{"):
        return _read_jsonl(path, text)
    return _read_csv(path, text, sep)


def _read_jsonl(path: Path, text: str) -> tuple[list[str], list[tuple[int, dict]]]:
    rows: list[tuple[int, dict]] = []
    bad: list[RowError] = []
    columns: dict[str, None] = {}
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            bad.append(RowError(line_no, None, f"not valid JSON ({exc.msg})"))
            continue
        if not isinstance(item, dict):
            bad.append(RowError(line_no, None, "each line must be a JSON object"))
            continue
        columns.update(dict.fromkeys(item))
        rows.append((line_no, item))
    if bad:
        raise ImportRejected(bad, hint=f"{path}: fix the lines above")
    return list(columns), rows


def _read_csv(path: Path, text: str, sep: str | None) -> tuple[list[str], list[tuple[int, dict]]]:
    header = text.splitlines()[0]
    if sep is None:
        sep = max(SEPARATORS, key=header.count) if any(s in header for s in SEPARATORS) else ","
    reader = csv.reader(text.splitlines(), delimiter=sep)
    columns = [c.strip() for c in next(reader)]
    if len(set(columns)) != len(columns):
        dupes = sorted({c for c in columns if columns.count(c) > 1})
        raise IngestError(f"{path}: duplicate column name(s) {dupes}; rename them")
    rows: list[tuple[int, dict]] = []
    bad: list[RowError] = []
    for line_no, values in enumerate(reader, start=2):
        if not values or not any(v.strip() for v in values):
            continue
        if len(values) != len(columns):
            bad.append(
                RowError(line_no, None, f"has {len(values)} fields, the header has {len(columns)}")
            )
            continue
        rows.append((line_no, dict(zip(columns, values, strict=True))))
    if bad:
        raise ImportRejected(bad, hint=f"{path}: check quoting and the separator ({sep!r})")
    return columns, rows


def _coerce_attribute(value: Any) -> Any:
    """Numbers in free columns become numbers, so scoring can use them."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text else number


# --- leads -------------------------------------------------------------------------------


def lead_column_map(columns: Sequence[str], overrides: dict[str, str]) -> dict[str, str]:
    """Decide which file column feeds which lead field: explicit --map first, then names."""
    unknown_fields = sorted(set(overrides) - set(LEAD_FIELDS))
    if unknown_fields:
        raise IngestError(
            f"--map names unknown field(s) {unknown_fields}; "
            f"lead fields are: {', '.join(LEAD_FIELDS)}"
        )
    missing = sorted(c for c in overrides.values() if c not in columns)
    if missing:
        raise IngestError(
            f"--map names column(s) {missing} not in the file; columns: {list(columns)}"
        )
    mapping = dict(overrides)
    taken = set(mapping.values())
    for column in columns:
        if column in taken:
            continue
        key = normalise_column(column)
        target = key if key in LEAD_FIELDS else LEAD_ALIASES.get(key)
        if target and target not in mapping:
            mapping[target] = column
            taken.add(column)
    if "email" not in mapping:
        raise IngestError(
            f"no email column found in {list(columns)}; name one with --map email=COLUMN"
        )
    return mapping


def _lead_record(row: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    record: dict[str, Any] = {fld: row.get(column) for fld, column in mapping.items()}
    used = set(mapping.values())
    record["attributes"] = {
        normalise_column(column): _coerce_attribute(value)
        for column, value in row.items()
        if column not in used
    }
    return record


def import_leads(
    engine: Engine,
    path: Path,
    *,
    mapping: dict[str, str] | None = None,
    sep: str | None = None,
    skip_invalid: bool = False,
    reject_path: Path | None = None,
) -> ImportReport:
    columns, rows = read_records(path, sep=sep)
    field_map = lead_column_map(columns, mapping or {})
    column_of = field_map.copy()
    good: list[LeadCreate] = []
    good_lines: list[int] = []
    errors: list[RowError] = []
    bad_rows: list[tuple[dict, RowError]] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        item = _validate(LeadCreate, _lead_record(row, field_map), line, column_of)
        if isinstance(item, list):
            errors.extend(item)
            bad_rows.append((row, item[0]))
            continue
        assert isinstance(item, LeadCreate)
        if item.email in seen:
            err = RowError(
                line, field_map["email"], f"{item.email} already on line {seen[item.email]}"
            )
            errors.append(err)
            bad_rows.append((row, err))
            continue
        seen[item.email] = line
        good.append(item)
        good_lines.append(line)
    report = ImportReport(kind="leads", rows=len(rows))
    _reject_or_continue(report, errors, bad_rows, skip_invalid, reject_path, path, columns)
    with session_scope(engine) as session:
        counts = crud.upsert_leads(session, leads=good)
    report.inserted, report.updated, report.unchanged = (
        counts["inserted"],
        counts["updated"],
        counts["unchanged"],
    )
    return report


# --- events ------------------------------------------------------------------------------


def _event_record(row: dict[str, Any]) -> dict[str, Any]:
    """Known columns become event fields; any other column becomes a property."""
    record: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for column, value in row.items():
        key = normalise_column(column) if isinstance(column, str) else column
        key = EVENT_ALIASES.get(key, key)
        if key in EVENT_FIELDS and key not in record:
            record[key] = value
        elif value not in (None, ""):
            extra[key] = _coerce_attribute(value)
    props = record.get("properties")
    if isinstance(props, str) and props.strip():
        try:
            props = json.loads(props)
        except json.JSONDecodeError:
            return record  # left as text: validation reports it with its line
    if extra or props:
        record["properties"] = {**extra, **props} if isinstance(props, dict) else props or extra
    return record


def validate_events(
    engine: Engine, items: Sequence[tuple[int, dict[str, Any]]]
) -> tuple[list[tuple[int, dict[str, Any]]], list[tuple[int, RowError]]]:
    """Validate events and resolve their leads: ([(line, row-to-insert)], [(line, error)])."""
    parsed: list[tuple[int, EventCreate]] = []
    errors: list[tuple[int, RowError]] = []
    for line, raw in items:
        record = _event_record(raw) if isinstance(raw, dict) else raw
        item = _validate(EventCreate, record, line, {})
        if isinstance(item, list):
            errors.extend((line, e) for e in item)
            continue
        assert isinstance(item, EventCreate)
        parsed.append((line, item))
    with session_scope(engine) as session:
        by_email, by_external = crud.resolve_lead_ids(
            session,
            emails=[e.lead_email for _, e in parsed if e.lead_email],
            external_ids=[e.lead_external_id for _, e in parsed if e.lead_external_id],
        )
    rows: list[tuple[int, dict[str, Any]]] = []
    for line, event in parsed:
        lead_id = (
            by_email.get(event.lead_email)
            if event.lead_email
            else by_external.get(event.lead_external_id or "")
        )
        if lead_id is None:
            who = event.lead_email or event.lead_external_id
            column = "lead_email" if event.lead_email else "lead_external_id"
            errors.append(
                (line, RowError(line, column, f"unknown lead {who!r}; import the lead first"))
            )
            continue
        rows.append(
            (
                line,
                {
                    "source_event_id": event.dedupe_key(),
                    "lead_id": lead_id,
                    "type": event.type,
                    "properties": event.properties,
                    "occurred_at": event.occurred_at,
                    "source": event.source,
                },
            )
        )
    return rows, errors


def write_events(
    engine: Engine,
    rows: Sequence[dict[str, Any]],
    *,
    rules: RuleSet | None = None,
    now: datetime | None = None,
) -> int:
    """Store events (idempotent by source event id) and apply what must happen at once:
    an unsubscribe or bounce puts the address on the suppression list in the same transaction,
    and the trigger rules fire on the new events there too (a replayed event fires nothing).
    `now` (default: the clock) is what trigger freshness and scheduled actions count from."""
    try:
        rules = rules if rules is not None else trigger_rules()
    except TriggerError as exc:
        raise IngestError(f"the trigger rules cannot be used: {exc}") from None
    with session_scope(engine) as session:
        before = evaluate.snapshot(session, rows, rules)
        fresh: list[dict[str, Any]] = []
        inserted = crud.insert_events(session, rows=rows, fresh_rows=fresh)
        stop_ids = {r["lead_id"]: r["type"] for r in rows if r["type"] in ("unsubscribe", "bounce")}
        crud.opt_out(session, kinds=stop_ids)
        evaluate.on_events(session, fresh, rules=rules, before=before, now=now)
        reward_variants(session, fresh)
    return inserted


def import_events(
    engine: Engine,
    path: Path,
    *,
    sep: str | None = None,
    skip_invalid: bool = False,
    reject_path: Path | None = None,
) -> ImportReport:
    columns, records = read_records(path, sep=sep)
    rows, errors = validate_events(engine, records)
    raw_by_line = dict(records)
    bad_lines = sorted({line for line, _ in errors})
    first_error: dict[int, RowError] = {}
    for line, err in errors:
        first_error.setdefault(line, err)
    report = ImportReport(kind="events", rows=len(records))
    _reject_or_continue(
        report,
        [err for _, err in errors],
        [(raw_by_line[line], first_error[line]) for line in bad_lines],
        skip_invalid,
        reject_path,
        path,
        columns,
    )
    report.inserted = write_events(engine, [row for _, row in rows])
    report.duplicates = len(rows) - report.inserted
    return report


# --- outcomes ----------------------------------------------------------------------------


def import_outcomes(
    engine: Engine,
    path: Path,
    *,
    sep: str | None = None,
    skip_invalid: bool = False,
    reject_path: Path | None = None,
) -> ImportReport:
    columns, records = read_records(path, sep=sep)
    parsed: list[tuple[int, OutcomeCreate]] = []
    errors: list[RowError] = []
    bad_rows: list[tuple[dict, RowError]] = []
    for line, raw in records:
        record = {
            EVENT_ALIASES.get(normalise_column(k), normalise_column(k)): v for k, v in raw.items()
        }
        item = _validate(OutcomeCreate, record, line, {})
        if isinstance(item, list):
            errors.extend(item)
            bad_rows.append((raw, item[0]))
        else:
            assert isinstance(item, OutcomeCreate)
            parsed.append((line, item))
    with session_scope(engine) as session:
        by_email, _ = crud.resolve_lead_ids(session, emails=[o.lead_email for _, o in parsed])
    good: list[dict[str, Any]] = []
    for line, outcome in parsed:
        lead_id = by_email.get(outcome.lead_email)
        if lead_id is None:
            err = RowError(
                line, "lead_email", f"unknown lead {outcome.lead_email!r}; import it first"
            )
            errors.append(err)
            bad_rows.append((dict(records)[line], err))
            continue
        good.append(outcome.model_dump(exclude={"lead_email"}) | {"lead_id": lead_id})
    report = ImportReport(kind="outcomes", rows=len(records))
    _reject_or_continue(report, errors, bad_rows, skip_invalid, reject_path, path, columns)
    with session_scope(engine) as session:
        report.inserted = crud.add_outcomes(session, rows=good)
    report.duplicates = len(good) - report.inserted
    return report


# --- shared ------------------------------------------------------------------------------


def _validate(
    model: type[BaseModel], record: Any, line: int, column_of: dict[str, str]
) -> BaseModel | list[RowError]:
    try:
        return model.model_validate(record)
    except ValidationError as exc:
        out = []
        for err in exc.errors():
            loc = [str(part) for part in err["loc"]]
            name = loc[0] if loc else None
            column = column_of.get(name, name) if name else None
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "missing":
                message = "is required"
            elif err["type"] == "extra_forbidden":
                message = "is not a known field"
            out.append(RowError(line, column, message))
        return out


def _reject_or_continue(
    report: ImportReport,
    errors: list[RowError],
    bad_rows: list[tuple[dict, RowError]],
    skip_invalid: bool,
    reject_path: Path | None,
    source: Path,
    columns: list[str],
) -> None:
    """All-or-nothing by default; with skip_invalid the bad rows go to a reject file."""
    if not errors:
        return
    if not skip_invalid:
        raise ImportRejected(
            errors, hint="fix these rows, or pass --skip-invalid to import the rest"
        )
    report.errors = errors
    report.rejected = len(bad_rows)
    target = reject_path or source.with_name(source.stem + ".rejected" + source.suffix)
    write_rejects(target, bad_rows, columns)
    report.reject_file = target


def write_rejects(target: Path, bad_rows: list[tuple[dict, RowError]], columns: list[str]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.suffix.lower() in {".jsonl", ".ndjson", ".json"}:
        with target.open("w", encoding="utf-8") as fh:
            for row, err in bad_rows:
                fh.write(json.dumps({**row, "_error": str(err)}, default=str) + "\n")
        return
    with target.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=[*columns, "_error"], extrasaction="ignore")
        writer.writeheader()
        for row, err in bad_rows:
            writer.writerow({**row, "_error": str(err)})


def iter_lines(errors: Sequence[RowError], limit: int = 50) -> Iterator[str]:
    for err in errors[:limit]:
        yield str(err)
    if len(errors) > limit:
        yield f"... and {len(errors) - limit} more"
