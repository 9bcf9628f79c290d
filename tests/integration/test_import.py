"""File imports through `nurture import` and the ingest functions, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from agent import ingest
from store import crud
from store.db import session_scope
from ui.cli import app

LEADS = """\
E-mail,First Name,Company Name,Employees,Job Title,Country,Lead Source,Do Not Email,Total Visits
ana@acme.example,Ana,Acme,"1,200",VP Marketing,Spain,Google,No,7
bo@beta.example,Bo,Beta,12,Analyst,India,Referral,yes,3.5
zoe@gamma.example,Zoë,Gamma,,Student,India,Olark Chat,,
"""


def write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def counts(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as s:
        return crud.table_counts(s)


def test_leads_are_mapped_and_reimport_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path, "leads.csv", LEADS)
    report = ingest.import_leads(engine, path)
    assert (report.rows, report.inserted) == (3, 3)
    again = ingest.import_leads(engine, path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    with session_scope(engine) as s:
        ana = crud.get_lead_by_email(s, email="ana@acme.example")
        bo = crud.get_lead_by_email(s, email="bo@beta.example")
        assert ana is not None and bo is not None
        assert (ana.company, ana.company_size, ana.role, ana.source) == (
            "Acme",
            1200,
            "VP Marketing",
            "Google",
        )
        assert ana.attributes == {"total_visits": 7}
        assert bo.do_not_email and bo.attributes == {"total_visits": 3.5}


def test_explicit_map_and_semicolon_file(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path, "crm.csv", "Mail;Org;Size\nana@acme.example;Acme;50\n")
    ingest.import_leads(
        engine, path, mapping={"email": "Mail", "company": "Org", "company_size": "Size"}
    )
    with session_scope(engine) as s:
        lead = crud.get_lead_by_email(s, email="ana@acme.example")
        assert lead is not None and (lead.company, lead.company_size) == ("Acme", 50)


def test_bad_rows_reject_the_whole_file_with_one_message_each(
    engine: Engine, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "bad.csv",
        "email,company_size,lifecycle_stage,timezone\n"
        "ok@x.example,10,lead,Europe/Berlin\n"
        "not-an-email,10,lead,\n"
        "b@x.example,ten,lead,\n"
        "c@x.example,5,prospect,Mars/Base\n"
        "ok@x.example,11,lead,\n",
    )
    with pytest.raises(ingest.ImportRejected) as caught:
        ingest.import_leads(engine, path)
    messages = [str(e) for e in caught.value.errors]
    assert messages[0].startswith("line 3, column 'email': 'not-an-email' is not a valid email")
    assert any(m.startswith("line 4, column 'company_size'") for m in messages)
    assert any(m.startswith("line 5, column 'lifecycle_stage'") for m in messages)
    assert any(m.startswith("line 5, column 'timezone'") for m in messages)
    assert any(m.startswith("line 6, column 'email'") and "line 2" in m for m in messages)
    assert counts(engine)["leads"] == 0


def test_skip_invalid_writes_good_rows_and_a_reject_file(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path, "mixed.csv", "email,company\nok@x.example,A\nbroken,B\n")
    report = ingest.import_leads(engine, path, skip_invalid=True)
    assert (report.inserted, report.rejected) == (1, 1)
    assert report.reject_file is not None
    rejected = report.reject_file.read_text().splitlines()
    assert rejected[0] == "email,company,_error"
    assert rejected[1].startswith("broken,B,\"line 3, column 'email'")


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("", "is empty"),
        ("name,company\nAna,Acme\n", "no email column"),
        ("email,email\na@x.example,b@x.example\n", "duplicate column"),
    ],
)
def test_unreadable_files_are_clear_errors(
    sqlite_engine: Engine, tmp_path: Path, content: str, needle: str
) -> None:
    with pytest.raises(ingest.IngestError, match=needle):
        ingest.import_leads(sqlite_engine, write(tmp_path, "f.csv", content))


def test_map_to_unknown_field_or_column_is_refused(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path, "leads.csv", LEADS)
    with pytest.raises(ingest.IngestError, match="unknown field"):
        ingest.import_leads(sqlite_engine, path, mapping={"emial": "E-mail"})
    with pytest.raises(ingest.IngestError, match="not in the file"):
        ingest.import_leads(sqlite_engine, path, mapping={"email": "Mail"})


def test_events_csv_and_jsonl_dedupe_and_extra_columns(engine: Engine, tmp_path: Path) -> None:
    ingest.import_leads(engine, write(tmp_path, "leads.csv", LEADS))
    csv_path = write(
        tmp_path,
        "events.csv",
        "event_id,email,event_type,timestamp,path,campaign\n"
        "1,ana@acme.example,page_view,2026-11-01T10:00:00Z,/pricing,\n"
        "2,bo@beta.example,email_open,2026-11-01T11:00:00+05:30,,nov-news\n",
    )
    jsonl = write(
        tmp_path,
        "events.jsonl",
        "\n".join(
            json.dumps(e)
            for e in [
                {
                    "lead_email": "ana@acme.example",
                    "type": "demo_request",
                    "occurred_at": "2026-11-02T09:00:00Z",
                },
                {
                    "id": "3",
                    "lead_email": "zoe@gamma.example",
                    "type": "video_watched",
                    "occurred_at": "2026-11-02T09:00:00Z",
                    "properties": {"percent": 90, "video": "intro"},
                },
            ]
        )
        + "\n",
    )
    assert ingest.import_events(engine, csv_path).inserted == 2
    assert ingest.import_events(engine, jsonl).inserted == 2
    again = ingest.import_events(engine, jsonl)
    assert (again.inserted, again.duplicates) == (0, 2)
    with session_scope(engine) as s:
        ana = crud.get_lead_by_email(s, email="ana@acme.example")
        assert ana is not None and ana.id is not None
        events = crud.list_events(s, lead_id=ana.id)
    assert [e.type for e in events] == ["page_view", "demo_request"]
    assert events[0].properties == {"path": "/pricing"}


def test_events_for_unknown_leads_or_bad_json_write_nothing(engine: Engine, tmp_path: Path) -> None:
    ingest.import_leads(engine, write(tmp_path, "leads.csv", LEADS))
    path = write(
        tmp_path,
        "events.jsonl",
        '{"id": "1", "lead_email": "ana@acme.example", "type": "email_open", '
        '"occurred_at": "2026-11-01T10:00:00Z"}\n'
        '{"id": "2", "lead_email": "ghost@x.example", "type": "email_open", '
        '"occurred_at": "2026-11-01T10:00:00Z"}\n',
    )
    with pytest.raises(ingest.ImportRejected) as caught:
        ingest.import_events(engine, path)
    assert [str(e) for e in caught.value.errors] == [
        "line 2, column 'lead_email': unknown lead 'ghost@x.example'; import the lead first"
    ]
    broken = write(tmp_path, "broken.jsonl", '{"id": "1"}\n{not json\n')
    with pytest.raises(ingest.ImportRejected, match="1 invalid"):
        ingest.import_events(engine, broken)
    assert counts(engine)["events"] == 0


def test_outcomes_import(engine: Engine, tmp_path: Path) -> None:
    ingest.import_leads(engine, write(tmp_path, "leads.csv", LEADS))
    path = write(
        tmp_path,
        "outcomes.csv",
        "lead_email,kind,occurred_at,amount,reason\n"
        "ana@acme.example,won,2026-10-01,4200,\n"
        "bo@beta.example,rejected-mql,2026-10-02,,no budget\n",
    )
    assert ingest.import_outcomes(engine, path).inserted == 2
    assert ingest.import_outcomes(engine, path).duplicates == 2
    bad = write(
        tmp_path, "bad.csv", "lead_email,kind,occurred_at\nana@acme.example,maybe,2026-10-01\n"
    )
    with pytest.raises(ingest.ImportRejected) as caught:
        ingest.import_outcomes(engine, bad)
    assert str(caught.value.errors[0]).startswith("line 2, column 'kind'")


def test_cli_reports_errors_without_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NURTURE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    from agent.settings import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    good = write(tmp_path, "leads.csv", LEADS)
    result = runner.invoke(app, ["import", "leads", str(good), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["inserted"] == 3
    bad = write(tmp_path, "bad.csv", "email\nnope\n")
    result = runner.invoke(app, ["import", "leads", str(bad)])
    assert result.exit_code == 1
    assert "line 2, column 'email'" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["import", "leads", str(good), "--map", "nonsense"])
    assert result.exit_code != 0 and "field=column" in result.output
    get_settings.cache_clear()
