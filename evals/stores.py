"""Per-case stores: one migrated SQLite file with the other leads scored, copied for each case.

The population (the other leads of the company) is written and rescored once, which sets the
decile edges the live scorer ranks a case's lead against; each case then gets its own copy of
that file with its lead, events and touch history added, so cases never see each other.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from evals.cases import Case, DatasetError, EventSpec, LeadSpec, PopulationLead, moment
from store import crud
from store.db import make_engine, migrate, session_scope
from store.models import Event, Lead, Touch, TouchStatus
from store.schemas import LeadCreate
from tools import lead_scoring

TEMPLATE = "population.db"


class CaseStores:
    """Builds the template store once under `folder`; `open(case)` gives a case its copy."""

    def __init__(self, folder: Path, population: Sequence[PopulationLead], now: datetime) -> None:
        self.folder = folder
        self.now = now
        folder.mkdir(parents=True, exist_ok=True)
        self.template = folder / TEMPLATE
        engine = make_engine(_url(self.template))
        try:
            migrate(engine)
            with session_scope(engine) as session:
                for person in population:
                    lead_id = _add_lead(session, person, str(person.email), where="population")
                    _add_events(session, lead_id, person.events, now, prefix=f"pop-{lead_id}")
                if population:
                    lead_scoring.rescore_all(session, now=now)
            _checkpoint(engine)
        finally:
            engine.dispose()
        self.other_leads = _identities(population)

    def open(self, case: Case, folder: Path) -> tuple[Engine, int]:
        """A copy of the template holding `case`'s lead: (engine, lead id)."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "nurture.db"
        shutil.copyfile(self.template, path)
        engine = make_engine(_url(path))
        try:
            with session_scope(engine) as session:
                lead = case.lead
                if case.notes:
                    lead = lead.model_copy(
                        update={"attributes": {**lead.attributes, "notes": case.notes}}
                    )
                where = f"{case.file}: case {case.id}" if case.file else f"case {case.id}"
                lead_id = _add_lead(session, lead, case.email, where=where)
                _add_events(session, lead_id, case.events, self.now, prefix=case.id)
                for number, touch in enumerate(case.touches):
                    session.add(
                        Touch(
                            lead_id=lead_id,
                            channel=touch.channel,
                            status=TouchStatus.sent,
                            sent_at=moment(touch.at, self.now),
                            idempotency_key=f"{case.id}:history:{number}",
                        )
                    )
        except BaseException:
            engine.dispose()
            raise
        return engine, lead_id


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def _checkpoint(engine: Engine) -> None:
    """Fold the write-ahead log into the file so a plain copy holds everything."""
    with engine.connect() as connection:
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


def _add_lead(session: Session, spec: LeadSpec, email: str, *, where: str) -> int:
    values = spec.model_dump(exclude={"email", "suppressed", "events"})
    try:
        record = LeadCreate.model_validate({**values, "email": email})
    except ValidationError as exc:
        problems = "; ".join(
            f"lead.{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
            for error in exc.errors()[:5]
        )
        raise DatasetError(f"{where}: {problems}") from None
    crud.upsert_leads(session, leads=[record])
    lead = session.exec(select(Lead).where(Lead.email == record.email)).one()
    assert lead.id is not None
    if spec.suppressed:
        crud.suppress(session, email=record.email, reason="unsubscribe")
    return lead.id


def _add_events(
    session: Session, lead_id: int, events: Sequence[EventSpec], now: datetime, *, prefix: str
) -> None:
    for number, event in enumerate(events):
        session.add(
            Event(
                source_event_id=f"{prefix}:{number}",
                lead_id=lead_id,
                type=event.type,
                properties=event.all_properties(),
                occurred_at=moment(event.at, now),
                source="eval",
            )
        )
    session.flush()


def _identities(population: Sequence[PopulationLead]) -> list[str]:
    """What would give another lead away: full names, company names and addresses."""
    found: list[str] = []
    for person in population:
        full = " ".join(p for p in (person.first_name, person.last_name) if p)
        for value in (full if " " in full else None, person.company, person.email):
            if value and value.strip() and value not in found:
                found.append(value)
    return found
