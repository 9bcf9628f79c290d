"""Sequences in the store: save (validated; re-saving a name updates it), list, show, pause,
and sync the shipped library in."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from store import crud
from store.models import Sequence as SequenceRow
from tools.sequences.errors import SequenceError
from tools.sequences.loader import LIBRARY_DIR, load_library, parse_definition
from tools.sequences.model import STATUSES, SequenceDefinition


def save_sequence(
    session: Session,
    definition: Mapping[str, Any] | SequenceDefinition,
    *,
    name: str | None = None,
    status: str | None = None,
) -> SequenceRow:
    """Validate and store a sequence. `definition` may be a `design_sequence` proposal (its
    `definition` is saved). A stored name is updated in place and keeps its status unless
    `status` is given."""
    if isinstance(definition, Mapping) and isinstance(definition.get("definition"), Mapping):
        definition = definition["definition"]
    if name is not None:
        data = definition.as_data() if isinstance(definition, SequenceDefinition) else definition
        definition = {**data, "name": name}
    parsed = parse_definition(definition, source=f"sequence {name or _name_of(definition)!r}")
    if status is not None:
        _check_status(status)
    existing = crud.get_sequence_by_name(session, name=parsed.name)
    row = SequenceRow(
        name=parsed.name,
        description=parsed.description or None,
        definition=parsed.as_data(),
        status=status or (existing.status if existing is not None else "active"),
    )
    return crud.save_sequence(session, sequence=row)


def get_sequence(session: Session, name: str) -> SequenceRow:
    row = crud.get_sequence_by_name(session, name=name)
    if row is None:
        raise SequenceError(_unknown(session, name))
    return row


def list_sequences(session: Session, *, status: str | None = None) -> list[SequenceRow]:
    if status is not None:
        _check_status(status)
    return crud.list_sequences(session, status=status)


def set_status(session: Session, name: str, status: str) -> SequenceRow:
    """Activate, pause (nothing is sent, nobody enters) or archive a sequence."""
    _check_status(status)
    row = crud.set_sequence_status(session, name=name, status=status)
    if row is None:
        raise SequenceError(_unknown(session, name))
    return row


def definition_of(row: SequenceRow) -> SequenceDefinition:
    return parse_definition(row.definition, source=f"stored sequence {row.name!r}")


def sync_library(
    session: Session, *, directory: Path | str = LIBRARY_DIR, overwrite: bool = False
) -> dict[str, list[str]]:
    """Load the shipped sequences into the store. Idempotent: missing ones are added; stored
    ones are left alone (they may have been edited or paused) unless `overwrite` is set, which
    replaces their steps and rules but keeps their status."""
    report: dict[str, list[str]] = {"added": [], "updated": [], "unchanged": [], "kept": []}
    for definition in load_library(directory):
        existing = crud.get_sequence_by_name(session, name=definition.name)
        if existing is None:
            save_sequence(session, definition)
            report["added"].append(definition.name)
        elif existing.definition == definition.as_data():
            report["unchanged"].append(definition.name)
        elif overwrite:
            save_sequence(session, definition)
            report["updated"].append(definition.name)
        else:
            report["kept"].append(definition.name)
    return report


def sequence_summary(row: SequenceRow) -> dict[str, Any]:
    """One line's worth of a stored sequence, JSON-ready."""
    definition = row.definition or {}
    steps = definition.get("steps") or []
    channels: dict[str, int] = {}
    for step in steps:
        channel = step.get("channel", "email")
        channels[channel] = channels.get(channel, 0) + 1
    return {
        "name": row.name,
        "status": row.status,
        "description": row.description or "",
        "priority": definition.get("priority"),
        "enrol_segments": (definition.get("enrol") or {}).get("segments", []),
        "touches": len(steps),
        "days": steps[-1].get("day") if steps else 0,
        "channels": channels,
        "evergreen": bool(definition.get("evergreen")),
        "updated_at": _stamp(row.updated_at),
    }


def sequence_detail(row: SequenceRow) -> dict[str, Any]:
    return {**sequence_summary(row), "definition": row.definition}


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise SequenceError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")


def _unknown(session: Session, name: str) -> str:
    names = [row.name for row in crud.list_sequences(session)]
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    known = f"stored: {', '.join(names)}" if names else "no sequences are stored yet"
    return f"no sequence named {name!r}{hint} ({known})"


def _name_of(definition: Any) -> str:
    if isinstance(definition, SequenceDefinition):
        return definition.name
    if isinstance(definition, Mapping):
        return str(definition.get("name", "?"))
    return "?"


def _stamp(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
