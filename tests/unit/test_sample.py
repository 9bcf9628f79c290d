"""The synthetic X Education sample: files, consistency, class signal, and the stats' privacy."""

from __future__ import annotations

import copy
import csv
import json
import math
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sample.generate import (
    EVENT_KEYS,
    EVENT_TYPES,
    FILES,
    LEAD_COLUMNS,
    OUTCOME_COLUMNS,
    STATS_PATH,
    SampleData,
    ensure_sample,
    generate,
    load_stats,
    main,
    write_sample,
)
from sample.stats import extract_stats

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
EMAIL_TYPES = {"email_open", "email_click", "email_reply"}


def _when(text: str) -> datetime:
    assert ISO_Z.match(text), text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _read(out_dir: Path) -> tuple[list[dict[str, str]], list[dict[str, Any]], list[dict[str, str]]]:
    with (out_dir / "leads.csv").open(encoding="utf-8", newline="") as handle:
        leads = list(csv.DictReader(handle))
    with (out_dir / "events.jsonl").open(encoding="utf-8") as handle:
        events = [json.loads(line) for line in handle]
    with (out_dir / "outcomes.csv").open(encoding="utf-8", newline="") as handle:
        outcomes = list(csv.DictReader(handle))
    return leads, events, outcomes


@pytest.fixture(scope="module")
def stats() -> dict[str, Any]:
    return load_stats()


@pytest.fixture(scope="module")
def built(stats: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    write_sample(generate(stats, n_leads=1000, seed=7, now=NOW), out)
    return out


@pytest.fixture(scope="module")
def files(built: Path) -> tuple[list[dict[str, str]], list[dict[str, Any]], list[dict[str, str]]]:
    return _read(built)


@pytest.fixture(scope="module")
def big(stats: dict[str, Any]) -> SampleData:
    return generate(stats, n_leads=2000, seed=11, now=NOW)


# --- determinism ---------------------------------------------------------------------------


def test_same_inputs_give_identical_files(stats: dict[str, Any], tmp_path: Path) -> None:
    for name in ("a", "b"):
        write_sample(generate(stats, n_leads=300, seed=3, now=NOW), tmp_path / name)
    write_sample(generate(stats, n_leads=300, seed=4, now=NOW), tmp_path / "c")
    for file in FILES:
        first = (tmp_path / "a" / file).read_bytes()
        assert first == (tmp_path / "b" / file).read_bytes(), file
        assert first != (tmp_path / "c" / file).read_bytes(), file


def test_now_moves_every_timestamp(stats: dict[str, Any]) -> None:
    early = generate(stats, n_leads=50, seed=3, now=NOW)
    later = generate(stats, n_leads=50, seed=3, now=NOW + timedelta(days=14))
    shifts = {b["occurred_at"] - a["occurred_at"] for a, b in zip(early.events, later.events,
                                                                   strict=True)}
    assert shifts == {timedelta(days=14)}  # whole weeks keep weekdays, so a pure shift
    other_day = generate(stats, n_leads=50, seed=3, now=NOW + timedelta(days=3, hours=5))
    assert other_day.leads == early.leads  # who the leads are does not depend on `now`
    assert other_day.events != early.events


# --- leads ---------------------------------------------------------------------------------


def test_lead_columns_and_identities(built: Path, files: Any) -> None:
    leads, _, _ = files
    header = (built / "leads.csv").read_text(encoding="utf-8").splitlines()[0]
    assert tuple(header.split(",")) == LEAD_COLUMNS
    assert len(leads) == 1000
    emails = [lead["email"] for lead in leads]
    assert len(set(emails)) == len(emails)
    assert all(re.fullmatch(r"[a-z0-9.-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.example", e) for e in emails)
    assert len({lead["external_id"] for lead in leads}) == len(leads)
    assert all(re.fullmatch(r"XL-\d{6}", lead["external_id"]) for lead in leads)


def test_lead_values_are_plausible(files: Any) -> None:
    leads, _, _ = files
    names = {lead["first_name"] for lead in leads} | {lead["last_name"] for lead in leads}
    assert any(not name.isascii() for name in names), "expected some accented names"
    sizes = [int(lead["company_size"]) for lead in leads if lead["company_size"]]
    assert all(10 <= size <= 5000 for size in sizes)
    assert 0.07 < sum(size > 500 for size in sizes) / len(sizes) < 0.25
    consent = sum(lead["consent"] == "true" for lead in leads) / len(leads)
    assert 0.94 < consent < 0.995
    india = [lead for lead in leads if lead["country"] == "India"]
    assert len(india) > len(leads) / 2
    assert {lead["timezone"] for lead in india} == {"Asia/Kolkata"}
    assert all(lead["role"] == "Student" for lead in leads if lead["occupation"] == "Student")
    assert all(lead["role"] == "Career changer"
               for lead in leads if lead["occupation"] == "Unemployed")
    assert {lead["lifecycle_stage"] for lead in leads} == {"lead", "customer"}
    assert {lead["source"] for lead in leads} >= {"Google", "Direct Traffic", "Reference"}
    finance = {lead["industry"] for lead in leads
               if lead["specialization"] == "Finance Management" and lead["company"]}
    assert finance == {"Financial Services"}
    assert not any(lead["company"] or lead["industry"]
                   for lead in leads if lead["occupation"] == "Student")


def test_rows_pass_the_importer_schemas(files: Any) -> None:
    from store.schemas import KNOWN_EVENT_TYPES, EventCreate, LeadCreate, OutcomeCreate

    assert EVENT_TYPES <= KNOWN_EVENT_TYPES
    leads, events, outcomes = files
    base = set(LeadCreate.model_fields) - {"attributes"}
    for lead in leads:
        LeadCreate(**{k: v for k, v in lead.items() if k in base},
                   attributes={k: v for k, v in lead.items() if k not in base})
    for event in events[::7]:
        EventCreate(**event)
    for outcome in outcomes:
        OutcomeCreate(**outcome)


# --- events --------------------------------------------------------------------------------


def test_events_belong_to_leads_and_are_well_formed(files: Any) -> None:
    leads, events, _ = files
    emails = {lead["email"] for lead in leads}
    assert {event["lead_email"] for event in events} == emails  # everyone did something
    ids = [event["id"] for event in events]
    assert len(set(ids)) == len(ids)
    for event in events:
        assert tuple(event) == EVENT_KEYS
        assert event["type"] in EVENT_TYPES
        assert NOW - timedelta(days=120) <= _when(event["occurred_at"]) <= NOW
    assert 12 <= len(events) / len(leads) <= 20


def test_event_properties(files: Any) -> None:
    _, events, _ = files
    required = {
        "page_view": {"path", "url"}, "pricing_page_view": {"path", "url"},
        "content_download": {"asset"}, "form_submit": {"form"}, "webinar_attended": {"webinar"},
        "video_watched": {"video", "percent"}, "email_open": {"campaign"},
        "email_click": {"campaign", "url"}, "product_milestone": {"milestone"},
    }
    seen = Counter(event["type"] for event in events)
    assert set(seen) == EVENT_TYPES, "every known type should occur in 1,000 leads"
    for event in events:
        props = event["properties"]
        assert required.get(event["type"], set()) <= set(props), event
        if event["type"] in {"page_view", "pricing_page_view"}:
            assert props["url"].endswith(props["path"]) and props["path"].startswith("/")
        if event["type"] == "pricing_page_view":
            assert props["path"] == "/pricing"
        if event["type"] == "video_watched":
            assert isinstance(props["percent"], int) and 0 <= props["percent"] <= 100
    assert seen["unsubscribe"] + seen["bounce"] < 0.1 * len({e["lead_email"] for e in events})


def test_opt_outs_are_consistent(files: Any) -> None:
    leads, events, _ = files
    by_email = {lead["email"]: lead for lead in leads}
    timeline: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        timeline[event["lead_email"]].append(event)
    for email, items in timeline.items():
        stops = [_when(e["occurred_at"]) for e in items if e["type"] in {"unsubscribe", "bounce"}]
        if any(e["type"] == "unsubscribe" for e in items):
            assert by_email[email]["do_not_email"] == "true"
        if stops:
            assert all(_when(e["occurred_at"]) <= min(stops)
                       for e in items if e["type"] in EMAIL_TYPES), email
        if by_email[email]["consent"] == "false":
            assert not any(e["type"] in EMAIL_TYPES | {"bounce"} for e in items), email


def test_recency_mix(files: Any) -> None:
    leads, events, outcomes = files
    last: dict[str, datetime] = {}
    for event in events:
        moment = _when(event["occurred_at"])
        last[event["lead_email"]] = max(last.get(event["lead_email"], moment), moment)
    open_leads = {lead["email"] for lead in leads} - {o["lead_email"] for o in outcomes}
    ages = [NOW - last[email] for email in open_leads]
    assert sum(age > timedelta(days=90) for age in ages) > 0.1 * len(ages)
    assert sum(age < timedelta(hours=48) for age in ages) > 0.1 * len(ages)
    local_hours = Counter((_when(e["occurred_at"]) + timedelta(hours=5.5)).hour for e in events)
    business = sum(local_hours[h] for h in range(9, 19))
    assert business > 0.6 * len(events)


# --- outcomes ------------------------------------------------------------------------------


def test_outcomes(built: Path, files: Any) -> None:
    leads, events, outcomes = files
    header = (built / "outcomes.csv").read_text(encoding="utf-8").splitlines()[0]
    assert tuple(header.split(",")) == OUTCOME_COLUMNS
    emails = {lead["email"] for lead in leads}
    last: dict[str, datetime] = {}
    for event in events:
        moment = _when(event["occurred_at"])
        last[event["lead_email"]] = max(last.get(event["lead_email"], moment), moment)
    assert len(outcomes) == 700
    assert len({o["lead_email"] for o in outcomes}) == len(outcomes)
    for outcome in outcomes:
        assert outcome["lead_email"] in emails
        assert last[outcome["lead_email"]] < _when(outcome["occurred_at"]) <= NOW
        if outcome["kind"] == "won":
            assert 500 <= float(outcome["amount"]) <= 20000
        else:
            assert outcome["amount"] == ""
        assert (outcome["reason"] != "") == (outcome["kind"] == "rejected_mql")
    kinds = Counter(o["kind"] for o in outcomes)
    assert set(kinds) == {"won", "lost", "rejected_mql"}
    assert 0.30 < kinds["won"] / len(outcomes) < 0.47
    assert 3 <= kinds["rejected_mql"] <= 50
    customers = {lead["email"] for lead in leads if lead["lifecycle_stage"] == "customer"}
    assert customers <= {o["lead_email"] for o in outcomes if o["kind"] == "won"}


# --- signal --------------------------------------------------------------------------------


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def test_class_signal_survives(big: SampleData) -> None:
    kind = {o["lead_email"]: o["kind"] for o in big.outcomes}
    won = [lead for lead in big.leads if kind.get(lead["email"]) == "won"]
    lost = [lead for lead in big.leads if kind.get(lead["email"]) in {"lost", "rejected_mql"}]
    assert len(won) > 300 and len(lost) > 600

    def visits(rows: list[dict[str, Any]]) -> float:
        return _mean([r["total_visits"] for r in rows if r["total_visits"] is not None])

    def seconds(rows: list[dict[str, Any]]) -> float:
        return _mean([r["time_on_site_s"] for r in rows])

    def share(rows: list[dict[str, Any]], occupation: str) -> float:
        return _mean([r["occupation"] == occupation for r in rows])

    assert seconds(won) > 1.6 * seconds(lost)  # real file: 739 s vs 330 s
    assert visits(won) > visits(lost)
    assert share(won, "Working Professional") > 4 * share(lost, "Working Professional")

    def intent(email_set: set[str], kinds: set[str]) -> float:
        hits = {e["lead_email"] for e in big.events if e["type"] in kinds}
        return len(hits & email_set) / len(email_set)

    won_emails = {r["email"] for r in won}
    lost_emails = {r["email"] for r in lost}
    assert intent(won_emails, {"demo_request"}) > 2 * intent(lost_emails, {"demo_request"})
    assert intent(won_emails, {"pricing_page_view"}) > intent(lost_emails, {"pricing_page_view"})


def _auc(scores: list[float], labels: list[int]) -> float:
    """Probability that a random positive outranks a random negative (ties count half)."""
    ranked = sorted(zip(scores, labels, strict=True))
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        rank_sum += sum(label for _, label in ranked[i:j]) * (i + j + 1) / 2
        i = j
    positives = sum(labels)
    negatives = len(labels) - positives
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def _holdout_auc(data: SampleData) -> float:
    """Naive Bayes on lead attributes, fitted on one half, ranking the other half."""
    columns = ["lead_origin", "source", "occupation", "specialization", "do_not_email"]

    def tokens(lead: dict[str, Any]) -> list[str]:
        minutes = min(lead["time_on_site_s"] // 300, 6)
        return [f"{c}={lead[c]}" for c in columns] + [f"time={minutes}"]

    leads = data.leads
    labels = [data.converted[lead["email"]] for lead in leads]
    half = len(leads) // 2
    counts = [Counter[str](), Counter[str]()]
    for lead, label in zip(leads[:half], labels[:half], strict=True):
        counts[label].update(tokens(lead))
    totals = [half - sum(labels[:half]), sum(labels[:half])]

    def score(lead: dict[str, Any]) -> float:
        return sum(
            math.log((counts[1][t] + 1) / (totals[1] + 2))
            - math.log((counts[0][t] + 1) / (totals[0] + 2))
            for t in tokens(lead)
        )

    return _auc([score(lead) for lead in leads[half:]], labels[half:])


def test_a_model_learns_from_the_sample(big: SampleData) -> None:
    assert 0.75 < _holdout_auc(big) < 0.99  # the real file gives ~0.87 without leaky columns


def test_the_signal_comes_from_the_statistics(stats: dict[str, Any]) -> None:
    flat = copy.deepcopy(stats)  # class 1 made identical to class 0: nothing left to learn
    for spec in [*flat["categorical"].values(), *flat["numeric"].values()]:
        for key in ("counts", "missing", "quantiles"):
            if key in spec:
                spec[key]["1"] = spec[key]["0"]
    flat["classes"]["1"] = flat["classes"]["0"]
    flat["rank_correlation"]["matrix"]["1"] = flat["rank_correlation"]["matrix"]["0"]
    assert 0.4 < _holdout_auc(generate(flat, n_leads=1000, seed=11, now=NOW)) < 0.6


# --- statistics ----------------------------------------------------------------------------


def test_packaged_stats_hold_only_aggregates(stats: dict[str, Any]) -> None:
    minimum = stats["min_category_count"]
    assert minimum >= 10
    for name, spec in stats["categorical"].items():
        totals = Counter[str]()
        for cls in ("0", "1"):
            totals.update(spec["counts"][cls])
        assert totals, name
        assert min(totals.values()) >= minimum, (name, totals)
        assert "Select" not in totals
    for spec in stats["numeric"].values():
        assert spec["probs"][0] >= 0.01 and spec["probs"][-1] <= 0.99  # no min/max rows
        assert len(spec["probs"]) == 21
    text = STATS_PATH.read_text(encoding="utf-8")
    assert "Prospect ID" not in text and "Lead Number" not in text and "Tags" not in text
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", text)  # no row ids
    assert sum(stats["classes"].values()) == stats["source"]["rows"]
    assert 0.3 < stats["prior"] < 0.45


def _tiny_leads(path: Path) -> None:
    header = ["Prospect ID", "Converted", "Lead Origin", "Lead Source", "Do Not Email", "Country",
              "Specialization", "What is your current occupation",
              "What matters most to you in choosing a course", "City",
              "A free copy of Mastering The Interview", "Last Activity", "TotalVisits",
              "Total Time Spent on Website", "Page Views Per Visit"]
    rows = []
    for i in range(60):
        converted = i % 3 == 0
        source = "google" if i == 0 else ("Rare Site" if i < 4 else "Google")
        specialization = "Select" if i % 2 else "Finance Management"
        country = "Atlantis" if i == 5 else ("unknown" if i == 6 else "India")
        visits = "" if i == 7 else str(i % 6)
        rows.append([f"id-{i}", int(converted), "API", source, "No", country, specialization,
                     "Student", "", "Mumbai", "Yes", "Email Opened", visits,
                     str(100 * (i % 6) + (400 if converted else 0)), str(1 + i % 3)])
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def test_extract_stats_merges_rare_and_treats_select_as_missing(tmp_path: Path) -> None:
    source = tmp_path / "Leads.csv"
    _tiny_leads(source)
    stats = extract_stats(source)
    assert stats["classes"] == {"0": 40, "1": 20}
    lead_source = stats["categorical"]["lead_source"]
    # "google" joins "Google"; the 3 "Rare Site" rows are too few even as "Other": missing.
    assert set(lead_source["counts"]["1"]) == {"Google"}
    assert lead_source["counts"]["0"]["Google"] + lead_source["counts"]["1"]["Google"] == 57
    assert lead_source["missing"] == {"0": 2, "1": 1}
    specialization = stats["categorical"]["specialization"]
    assert sum(specialization["missing"].values()) == 30  # the "Select" rows
    country = stats["categorical"]["country"]
    assert "Atlantis" not in country["counts"]["0"] and "Other" not in country["counts"]["0"]
    assert sum(country["missing"].values()) == 2  # "unknown" and the lone rare country
    visits = stats["numeric"]["total_visits"]
    assert visits["missing"] == {"0": 1, "1": 0}
    time_on_site = stats["numeric"]["time_on_site_s"]["quantiles"]
    assert time_on_site["1"][10] > time_on_site["0"][10]
    assert "id-" not in json.dumps(stats)


# --- entry points --------------------------------------------------------------------------


def test_ensure_sample_builds_once(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    assert ensure_sample(out, n_leads=40, seed=1, now=NOW) == out
    assert all((out / name).is_file() for name in FILES)
    (out / "leads.csv").write_text("kept\n", encoding="utf-8")
    ensure_sample(out, n_leads=40, seed=1, now=NOW)
    assert (out / "leads.csv").read_text(encoding="utf-8") == "kept\n"
    (out / "outcomes.csv").unlink()
    ensure_sample(out, n_leads=40, seed=1, now=NOW)
    assert (out / "leads.csv").read_text(encoding="utf-8").startswith("email,external_id,")


def test_cli_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["build", "--n", "25", "--seed", "5", "--now", "2026-11-15T12:00:00Z",
                 "--out", str(tmp_path)])
    assert code == 0
    assert "25 leads" in capsys.readouterr().out
    leads, events, _ = _read(tmp_path)
    assert len(leads) == 25 and events
    assert max(_when(e["occurred_at"]) for e in events) <= NOW
