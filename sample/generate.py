"""Seeded synthetic X Education leads, events and outcomes, drawn from aggregate statistics.

Each lead's class (converted or not) is drawn from the prior first; every categorical attribute
is then drawn independently from that class's frequencies (naive-Bayes style), and the three
numeric ones jointly through a Gaussian copula (per-class rank correlations) and inverse-CDF
interpolation of the class's quantiles. A model trained on the sample therefore sees the same
kind of signal as on the real file, while no real row is ever reproduced.

    python -m sample.generate stats --leads PATH --out sample/stats.json
    python -m sample.generate build --stats sample/stats.json --n 1000 --seed 7 --out DIR
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import sys
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import NormalDist
from typing import Any

from sample import vocab
from sample.behaviour import Behaviour, build_events, business_time, plan_window

STATS_PATH = Path(__file__).with_name("stats.json")
LEAD_COLUMNS = (
    "email", "external_id", "first_name", "last_name", "company", "industry", "company_size",
    "role", "country", "timezone", "source", "consent", "do_not_email", "owner",
    "lifecycle_stage",
    # Extra attributes (the importer keeps them on the lead for scoring).
    "lead_origin", "specialization", "occupation", "what_matters_most", "city", "free_copy",
    "total_visits", "time_on_site_s", "page_views_per_visit",
)
EVENT_KEYS = ("id", "lead_email", "type", "occurred_at", "properties")
OUTCOME_COLUMNS = ("lead_email", "kind", "occurred_at", "amount", "reason")
EVENT_TYPES = frozenset({
    "page_view", "content_download", "form_submit", "webinar_attended", "video_watched",
    "email_open", "email_click", "email_reply", "demo_request", "pricing_page_view",
    "trial_signup", "product_milestone", "unsubscribe", "bounce",
})
FILES = ("leads.csv", "events.jsonl", "outcomes.csv")

HISTORY_SHARE = 0.70  # leads with a closed outcome; the rest are open, in nurture
P_CONSENT = 0.97
P_UNSUBSCRIBE_IF_OPTED_OUT = 0.3  # do-not-email leads whose opt-out is an event in the window
P_REJECTED_MQL = 0.03  # of lost history leads
P_CUSTOMER_STAGE = 0.25  # of won history leads: already synced as customers by the CRM
_NORMAL = NormalDist()


@dataclass(frozen=True)
class SampleData:
    """A generated sample: rows ready for the writers, plus the hidden class of every lead."""

    leads: list[dict[str, Any]]
    events: list[dict[str, Any]]
    outcomes: list[dict[str, Any]]
    converted: dict[str, int] = field(default_factory=dict)  # email -> drawn class


# --- attributes ----------------------------------------------------------------------------


def _draw_category(rng: random.Random, spec: dict[str, Any], cls: str) -> str | None:
    counts: dict[str, int] = spec["counts"][cls]
    values: list[str | None] = [*counts, None]
    weights = [*counts.values(), spec["missing"][cls]]
    return rng.choices(values, weights)[0]


def _cholesky(matrix: Sequence[Sequence[float]]) -> list[list[float]]:
    size = len(matrix)
    lower = [[0.0] * size for _ in range(size)]
    for i in range(size):
        for j in range(i + 1):
            total = matrix[i][j] - sum(lower[i][k] * lower[j][k] for k in range(j))
            lower[i][j] = math.sqrt(max(total, 1e-9)) if i == j else total / lower[j][j]
    return lower


def _numeric_draws(rng: random.Random, stats: dict[str, Any], cls: str) -> dict[str, float | None]:
    """Correlated draws: Spearman -> Pearson, correlated normals -> uniforms -> quantiles."""
    corr = stats["rank_correlation"]
    names: list[str] = corr["columns"]
    pearson = [[2 * math.sin(math.pi * r / 6) for r in row] for row in corr["matrix"][cls]]
    lower = _cholesky(pearson)
    normals = [rng.gauss(0.0, 1.0) for _ in names]
    correlated = [sum(lower[i][k] * normals[k] for k in range(i + 1)) for i in range(len(names))]
    # One uniform decides every column's missingness, so columns missing together stay together.
    missing_roll = rng.random()
    n_class = stats["classes"][cls]
    out: dict[str, float | None] = {}
    for name, z in zip(names, correlated, strict=True):
        spec = stats["numeric"][name]
        if missing_roll < spec["missing"][cls] / n_class:
            out[name] = None
            continue
        out[name] = _interpolate(_NORMAL.cdf(z), spec["probs"], spec["quantiles"][cls])
    return out


def _interpolate(u: float, probs: Sequence[float], values: Sequence[float]) -> float:
    if u <= probs[0]:
        return values[0]
    for i in range(1, len(probs)):
        if u <= probs[i]:
            share = (u - probs[i - 1]) / (probs[i] - probs[i - 1])
            return values[i - 1] + share * (values[i] - values[i - 1])
    return values[-1]


def _numerics(raw: dict[str, float | None]) -> tuple[int | None, int, float | None]:
    """Rounded visits / seconds / pages-per-visit; no visits means no time and no pages."""
    visits_raw, seconds_raw, per_visit_raw = (
        raw["total_visits"], raw["time_on_site_s"], raw["page_views_per_visit"]
    )
    visits = None if visits_raw is None else round(visits_raw)
    seconds = 0 if seconds_raw is None else round(seconds_raw)
    per_visit = None if per_visit_raw is None else round(per_visit_raw, 2)
    if visits == 0:
        seconds, per_visit = 0, 0.0
    elif visits is not None and per_visit is not None:
        per_visit = max(1.0, per_visit)
    return visits, seconds, per_visit


# --- the lead record -----------------------------------------------------------------------


def ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.translate(vocab.ASCII_FOLD))
    plain = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    return "".join(c if c.isalnum() else "-" for c in plain if c.isalnum() or c in " -").strip("-")


def _name(rng: random.Random, country: str | None) -> tuple[str, str]:
    roll = rng.random()
    if country in vocab.GULF:
        pools = ((vocab.GULF_FIRST, vocab.GULF_LAST) if roll < 0.5 else
                 (vocab.INDIAN_FIRST, vocab.INDIAN_LAST) if roll < 0.7 else
                 (vocab.GLOBAL_FIRST, vocab.GLOBAL_LAST))
    elif country in (None, "India"):
        pools = ((vocab.INDIAN_FIRST, vocab.INDIAN_LAST) if roll < 0.75 else
                 (vocab.GLOBAL_FIRST, vocab.GLOBAL_LAST))
    else:
        pools = (vocab.GLOBAL_FIRST, vocab.GLOBAL_LAST)
    return rng.choice(pools[0]), rng.choice(pools[1])


def _country(rng: random.Random, drawn: str | None) -> tuple[str | None, str | None, float]:
    """(country, IANA zone, UTC offset for business hours); unknown leads get India's hours."""
    if drawn is None:
        return None, None, vocab.TIMEZONES["India"][1]
    country = rng.choice(vocab.OTHER_COUNTRIES) if drawn == "Other" else drawn
    if country == "United States":
        zone, offset = rng.choice(vocab.US_ZONES)
    else:
        zone, offset = vocab.TIMEZONES.get(country, ("Etc/UTC", 0.0))
    return country, zone, offset


def _company_size(rng: random.Random) -> int:
    # Log-normal, median 120, ~15 % above 500; two significant digits like a CRM's estimate.
    raw = min(5000.0, max(10.0, rng.lognormvariate(math.log(120), 1.38)))
    digits = math.floor(math.log10(raw)) - 1
    return round(raw / 10**digits) * 10**digits


def _role(rng: random.Random, occupation: str | None, industry: str | None) -> str | None:
    if occupation is None:
        return None
    if occupation == "Working Professional":
        return rng.choice(vocab.TITLES_BY_INDUSTRY.get(industry, vocab.TITLES_BY_INDUSTRY[None]))
    return rng.choice(vocab.ROLE_BY_OCCUPATION.get(occupation, vocab.ROLE_BY_OCCUPATION["Other"]))


def _bool(value: str | None) -> bool:
    return value == "Yes"


# --- outcomes ------------------------------------------------------------------------------


def _amount(rng: random.Random, occupation: str | None, company_size: int | None) -> float:
    team_odds = 0.35 if occupation == "Working Professional" and (company_size or 0) > 200 else 0.05
    prices = vocab.TEAM_PRICES if rng.random() < team_odds else vocab.INDIVIDUAL_PRICES
    return float(rng.choice(prices))


def _outcome(
    rng: random.Random,
    cls: int,
    lead: dict[str, Any],
    *,
    closed_after: datetime,
    now: datetime,
    utc_offset_h: float,
) -> dict[str, Any]:
    """Won or lost (a few lost ones as rejected MQLs) 1-30 days after the lead's last event."""
    lo = closed_after + timedelta(hours=1)
    hi = min(closed_after + timedelta(days=21 if cls else 30), now - timedelta(hours=1))
    occurred = business_time(rng, lo, max(lo, hi), utc_offset_h)
    row: dict[str, Any] = {"lead_email": lead["email"], "kind": "won" if cls else "lost",
                           "occurred_at": occurred, "amount": None, "reason": None}
    if cls:
        row["amount"] = _amount(rng, lead["occupation"], lead["company_size"])
    elif rng.random() < P_REJECTED_MQL:
        row["kind"] = "rejected_mql"
        row["reason"] = (vocab.STUDENT_REJECT_REASON if lead["occupation"] == "Student"
                         else rng.choice(vocab.REJECT_REASONS))
    return row


# --- generate ------------------------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.replace(microsecond=0)


def generate(stats: dict[str, Any], *, n_leads: int, seed: int, now: datetime) -> SampleData:
    """Draw `n_leads` leads with their events and outcomes; same inputs, same output."""
    if n_leads < 1:
        raise ValueError("n_leads must be at least 1")
    now = _utc(now)
    rng = random.Random(seed)
    history = set(rng.sample(range(n_leads), round(HISTORY_SHARE * n_leads)))
    company_sizes: dict[str, int] = {}
    leads: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    outcomes: list[dict[str, Any]] = []
    converted: dict[str, int] = {}
    for index in range(n_leads):
        # Each lead has its own streams, so its attributes do not depend on `now` or on the
        # events of the leads before it.
        rng = random.Random(f"{seed}/{index}/attributes")
        cls = 1 if rng.random() < stats["prior"] else 0
        cats = {name: _draw_category(rng, spec, str(cls))
                for name, spec in stats["categorical"].items()}
        visits, seconds, per_visit = _numerics(_numeric_draws(rng, stats, str(cls)))
        country, zone, offset = _country(rng, cats["country"])
        first, last = _name(rng, country)
        industry = vocab.INDUSTRY_BY_SPECIALIZATION.get(cats["specialization"] or "")
        occupation = cats["occupation"]
        if occupation == "Student":
            company, size, industry = None, None, None
            domain = rng.choice(vocab.PERSONAL_DOMAINS)
        else:
            suffixes = vocab.COMPANY_SUFFIX.get(industry, vocab.COMPANY_SUFFIX[None])
            company = f"{rng.choice(vocab.COMPANY_PREFIX)} {rng.choice(suffixes)}"
            size = company_sizes.setdefault(company, _company_size(rng))
            domain = f"{ascii_slug(company)}.example"
        number = index + 1
        email = f"{ascii_slug(first)}.{ascii_slug(last)}.{number}@{domain}"
        consent = rng.random() < P_CONSENT
        customer_roll = rng.random()
        opted_out = _bool(cats["do_not_email"])
        unsubscribes = consent and (
            cats["last_activity"] == "Unsubscribed"
            or (opted_out and rng.random() < P_UNSUBSCRIBE_IF_OPTED_OUT)
        )
        bounces = consent and cats["last_activity"] == "Email Bounced" and not unsubscribes
        lead: dict[str, Any] = {
            "email": email, "external_id": f"XL-{number:06d}", "first_name": first,
            "last_name": last, "company": company, "industry": industry, "company_size": size,
            "role": _role(rng, occupation, industry), "country": country, "timezone": zone,
            "source": cats["lead_source"], "consent": consent,
            "do_not_email": opted_out or unsubscribes, "owner": rng.choice(vocab.OWNERS),
            "lifecycle_stage": "lead", "lead_origin": cats["lead_origin"],
            "specialization": cats["specialization"], "occupation": occupation,
            "what_matters_most": cats["what_matters_most"], "city": cats["city"],
            "free_copy": _bool(cats["free_copy"]), "total_visits": visits,
            "time_on_site_s": seconds, "page_views_per_visit": per_visit,
        }
        behaviour = Behaviour(
            converted=cls, total_visits=visits, page_views_per_visit=per_visit,
            time_on_site_s=seconds, lead_origin=cats["lead_origin"],
            lead_source=cats["lead_source"], industry=industry, free_copy=lead["free_copy"],
            last_activity=cats["last_activity"],
            emailable=consent and (not opted_out or unsubscribes),
            unsubscribes=unsubscribes, bounces=bounces, utc_offset_h=offset,
        )
        rng = random.Random(f"{seed}/{index}/behaviour")
        window = plan_window(rng, now=now, history=index in history, utc_offset_h=offset)
        lead_events = build_events(rng, behaviour, window)
        for seq, (moment, kind, props) in enumerate(lead_events, start=1):
            events.append({"id": f"s{seed}-{number:06d}-{seq:03d}", "lead_email": email,
                           "type": kind, "occurred_at": moment, "properties": props})
        if index in history:
            outcome = _outcome(rng, cls, lead, closed_after=lead_events[-1][0], now=now,
                               utc_offset_h=offset)
            outcomes.append(outcome)
            if outcome["kind"] == "won" and customer_roll < P_CUSTOMER_STAGE:
                lead["lifecycle_stage"] = "customer"
        leads.append(lead)
        converted[email] = cls
    events.sort(key=lambda e: (e["occurred_at"], e["id"]))
    outcomes.sort(key=lambda o: (o["occurred_at"], o["lead_email"]))
    return SampleData(leads=leads, events=events, outcomes=outcomes, converted=converted)


# --- writers -------------------------------------------------------------------------------


def iso_z(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso_z(value)
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _atomic_write(path: Path, lines: list[str]) -> None:
    # Build beside the target, then rename: a concurrent reader never sees a half-written file.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("w", encoding="utf-8", newline="") as handle:
        handle.writelines(lines)
    os.replace(temporary, path)


def _csv_lines(columns: Sequence[str], rows: list[dict[str, Any]]) -> list[str]:
    class _Sink(list[str]):
        def write(self, text: str) -> None:
            self.append(text)

    sink = _Sink()
    writer = csv.writer(sink, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in columns])
    return list(sink)


def write_sample(data: SampleData, out_dir: Path) -> dict[str, Path]:
    """Write leads.csv, events.jsonl and outcomes.csv into `out_dir`; return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {name: out_dir / name for name in FILES}
    _atomic_write(paths["leads.csv"], _csv_lines(LEAD_COLUMNS, data.leads))
    event_lines = [
        json.dumps({**{k: e[k] for k in EVENT_KEYS}, "occurred_at": iso_z(e["occurred_at"])},
                   ensure_ascii=False) + "\n"
        for e in data.events
    ]
    _atomic_write(paths["events.jsonl"], event_lines)
    _atomic_write(paths["outcomes.csv"], _csv_lines(OUTCOME_COLUMNS, data.outcomes))
    return paths


def load_stats(path: Path = STATS_PATH) -> dict[str, Any]:
    with Path(path).open(encoding="utf-8") as handle:
        stats: dict[str, Any] = json.load(handle)
    return stats


def default_now() -> datetime:
    """The current UTC time, floored to the hour (so a day's builds agree)."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def ensure_sample(
    out_dir: Path, *, n_leads: int = 1000, seed: int = 7, now: datetime | None = None
) -> Path:
    """Build the sample from the packaged statistics unless all three files already exist."""
    out_dir = Path(out_dir)
    if all((out_dir / name).is_file() for name in FILES):
        return out_dir
    data = generate(load_stats(), n_leads=n_leads, seed=seed, now=now or default_now())
    write_sample(data, out_dir)
    return out_dir


# --- command line --------------------------------------------------------------------------


def _parse_now(text: str) -> datetime:
    return _utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sample.generate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    stats_cmd = commands.add_parser("stats", help="aggregate statistics of a leads file")
    stats_cmd.add_argument("--leads", type=Path, required=True, help="the X Education Leads.csv")
    stats_cmd.add_argument("--out", type=Path, default=STATS_PATH)
    build = commands.add_parser("build", help="write leads.csv, events.jsonl, outcomes.csv")
    build.add_argument("--stats", type=Path, default=STATS_PATH)
    build.add_argument("--n", type=int, default=1000, help="number of leads")
    build.add_argument("--seed", type=int, default=7)
    build.add_argument("--now", type=_parse_now, default=None,
                       help="ISO-8601 reference time (default: now, floored to the hour)")
    build.add_argument("--out", type=Path, required=True, help="output directory")
    args = parser.parse_args(argv)

    if args.command == "stats":
        from sample.stats import extract_stats  # needs pandas; building does not

        stats = extract_stats(args.leads)
        args.out.write_text(json.dumps(stats, indent=1, ensure_ascii=False) + "\n",
                            encoding="utf-8")
        print(f"wrote {args.out} ({stats['source']['rows']} rows summarised)")
        return 0

    began = time.perf_counter()
    data = generate(load_stats(args.stats), n_leads=args.n, seed=args.seed,
                    now=args.now or default_now())
    paths = write_sample(data, args.out)
    took = time.perf_counter() - began
    sizes = ", ".join(f"{p.name} {p.stat().st_size:,} B" for p in paths.values())
    print(f"{len(data.leads)} leads, {len(data.events)} events, {len(data.outcomes)} outcomes "
          f"in {took:.2f} s -> {args.out} ({sizes})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
