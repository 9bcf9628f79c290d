"""Rule segments: the default definitions, precedence, names, exclusion and bad YAML."""

from __future__ import annotations

import random
import re
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from tools.segments.errors import DefinitionError
from tools.segments.rules import (
    DEFAULT_PATH,
    default_definitions,
    evaluate,
    evaluate_frame,
    load_definitions,
    parse_definitions,
    segment_counts,
    slug,
)

DEFS = default_definitions()


def lead(**overrides: Any) -> dict[str, Any]:
    """A profile like `tools.profile.profile_of` returns: an awareness-stage lead by default."""
    profile: dict[str, Any] = {
        "industry": "Technology", "company_size": 120, "lifecycle_stage": "lead",
        "consent": True, "do_not_email": False, "unsubscribes": 0, "page_views": 2,
        "pricing_page_views": 0, "pricing_page_views_7d": 0, "content_downloads": 0,
        "webinars_attended": 0, "videos_watched": 0, "email_opens": 1, "email_clicks": 0,
        "email_replies": 0, "demo_requests": 0, "trial_signups": 0, "events_total": 3,
        "days_since_last_event": 4.0, "content_theme": None,
    }  # fmt: skip
    profile.update(overrides)
    return profile


def test_awareness_lead_gets_tofu_by_industry() -> None:
    assert evaluate(lead(), DEFS) == ["tofu:technology"]
    assert evaluate(lead(industry="Financial Services"), DEFS) == ["tofu:financial-services"]
    assert evaluate(lead(industry="Marketing & Advertising"), DEFS) == [
        "tofu:marketing-advertising"
    ]
    assert evaluate(lead(industry=None), DEFS) == ["tofu:unknown"]
    assert evaluate(lead(industry="  "), DEFS) == ["tofu:unknown"]


def test_engaged_lead_gets_mofu_by_theme() -> None:
    engaged = lead(content_downloads=1, content_theme="data-science")
    assert evaluate(engaged, DEFS) == ["mofu:data-science"]
    # a non-course page is no theme; no theme at all reads "general"
    assert evaluate(lead(email_clicks=2, content_theme="faq"), DEFS) == ["mofu:general"]
    assert evaluate(lead(page_views=12), DEFS) == ["mofu:general"]


@pytest.mark.parametrize(
    ("signals", "expected"),
    [
        ({"demo_requests": 1}, "late:demo"),
        ({"trial_signups": 1}, "late:trial"),
        ({"pricing_page_views_7d": 2, "pricing_page_views": 2}, "late:pricing"),
        ({"email_replies": 1}, "late:reply"),
        # strongest signal wins: demo over trial over pricing over reply
        ({"demo_requests": 1, "trial_signups": 1, "pricing_page_views_7d": 3}, "late:demo"),
        ({"trial_signups": 1, "pricing_page_views_7d": 3, "email_replies": 1}, "late:trial"),
        ({"pricing_page_views_7d": 1, "email_replies": 1}, "late:pricing"),
    ],
)
def test_intent_puts_a_lead_in_exactly_one_late_segment(
    signals: dict[str, Any], expected: str
) -> None:
    # Engaged too (downloads, theme): late beats mofu.
    profile = lead(content_downloads=3, content_theme="data-science", **signals)
    assert evaluate(profile, DEFS) == [expected]


def test_old_pricing_views_are_not_late_stage_intent() -> None:
    # Pricing views count as intent only in the last 7 days.
    assert evaluate(lead(pricing_page_views=4, pricing_page_views_7d=0), DEFS) == [
        "tofu:technology"
    ]


def test_dormancy_beats_every_other_stage() -> None:
    hot_but_silent = lead(demo_requests=1, content_downloads=2, days_since_last_event=100.0)
    assert evaluate(hot_but_silent, DEFS) == ["re-engage"]
    assert evaluate(lead(days_since_last_event=90.0), DEFS) == ["re-engage"]
    assert evaluate(lead(days_since_last_event=89.9), DEFS) == ["tofu:technology"]
    # a lead with no events at all is new, not dormant
    assert evaluate(lead(days_since_last_event=None, events_total=0), DEFS) == ["tofu:technology"]


def test_enterprise_is_added_on_top_of_the_funnel_segment() -> None:
    assert evaluate(lead(company_size=501), DEFS) == ["tofu:technology", "enterprise"]
    assert evaluate(lead(company_size=500), DEFS) == ["tofu:technology"]
    assert evaluate(lead(company_size=None), DEFS) == ["tofu:technology"]
    assert evaluate(lead(company_size=2000, demo_requests=1), DEFS) == ["late:demo", "enterprise"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"lifecycle_stage": "customer"},
        {"lifecycle_stage": "disqualified"},
        {"do_not_email": True},
        {"consent": False},
        {"unsubscribes": 1},
    ],
)
def test_leads_out_of_nurture_get_only_the_excluded_marker(overrides: dict[str, Any]) -> None:
    profile = lead(company_size=5000, demo_requests=1, **overrides)
    assert evaluate(profile, DEFS) == ["excluded"]


def test_sql_and_mql_leads_stay_in_nurture() -> None:
    assert evaluate(lead(lifecycle_stage="mql"), DEFS) == ["tofu:technology"]
    assert evaluate(lead(lifecycle_stage="sql", trial_signups=1), DEFS) == ["late:trial"]


def random_frame(n: int, seed: int) -> pd.DataFrame:
    rng = random.Random(seed)
    industries = ["Technology", "Financial Services", "Média & Co", None, "Healthcare"]
    themes = ["data-science", "faq", "hr-analytics", None]
    rows = []
    for _ in range(n):
        rows.append(
            lead(
                industry=rng.choice(industries),
                company_size=rng.choice([None, 10, 300, 501, 5000]),
                lifecycle_stage=rng.choice(["lead"] * 8 + ["customer", "mql"]),
                consent=rng.random() > 0.05,
                do_not_email=rng.random() < 0.05,
                unsubscribes=int(rng.random() < 0.03),
                page_views=rng.randint(0, 15),
                pricing_page_views_7d=int(rng.random() < 0.1),
                content_downloads=int(rng.random() < 0.3),
                email_clicks=int(rng.random() < 0.2),
                email_replies=int(rng.random() < 0.05),
                demo_requests=int(rng.random() < 0.08),
                trial_signups=int(rng.random() < 0.08),
                days_since_last_event=rng.choice([None, 1.0, 30.0, 89.99, 90.0, 120.0]),
                content_theme=rng.choice(themes),
            )
        )
    return pd.DataFrame(rows, index=pd.RangeIndex(1, n + 1, name="id"))


def test_frame_and_single_lead_evaluation_agree() -> None:
    frame = random_frame(3000, seed=3)
    assigned = evaluate_frame(frame, DEFS)
    singles = {i: evaluate(row, DEFS) for i, row in frame.to_dict("index").items()}
    assert assigned.to_dict() == singles
    counts = segment_counts(assigned)
    # every lead is in exactly one funnel segment or excluded
    funnel = sum(n for name, n in counts.items() if name != "enterprise")
    assert funnel == len(frame)
    assert {"excluded", "re-engage", "late:demo", "mofu:general"} <= set(counts)
    assert "tofu:media-co" in counts and "mofu:faq" not in counts


def test_single_lead_evaluation_is_fast() -> None:
    profiles = list(random_frame(500, seed=5).to_dict("index").values())
    start = time.perf_counter()
    for profile in profiles:
        evaluate(profile, DEFS)
    per_lead = (time.perf_counter() - start) / len(profiles)
    assert per_lead < 0.001


def test_slug() -> None:
    assert slug("Retail & E-commerce") == "retail-e-commerce"
    assert slug("Zoë's Café") == "zoe-s-cafe"
    assert slug("--") == ""


# --- definitions files ------------------------------------------------------------------


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "segments.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


USER_YAML = """
segments:
  - name: "region:{country}"
    group: region
    when: {field: country, op: not_null}
  - name: "place:{country}"
    group: region
    placeholders: {country: {missing: elsewhere}}
  - name: vip
    when:
      all:
        - {field: company_size, op: gte, value: 1000}
        - {field: role, op: in, value: [CEO, VP Sales]}
"""


def test_user_definitions_replace_the_default(tmp_path: Path) -> None:
    defs = load_definitions(write(tmp_path, USER_YAML))
    assert evaluate({"country": "India", "company_size": 5000, "role": "CEO"}, defs) == [
        "region:india",
        "vip",
    ]
    assert evaluate({"country": None, "company_size": 5000, "role": "CTO"}, defs) == [
        "place:elsewhere"
    ]
    assert defs.exclude is None  # no exclude block: nobody is excluded
    duplicate = USER_YAML.replace("place:{country}", "region:{country}")
    with pytest.raises(
        DefinitionError, match=re.escape("segment 'region:{country}': name: defined twice")
    ):
        load_definitions(write(tmp_path, duplicate))


def base() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def broken(change: Any) -> dict[str, Any]:
    data = base()
    change(data)
    return data


def late_demo(data: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in data["segments"] if s["name"] == "late:demo")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: late_demo(d)["when"].update(op="gtt"),
            "segment 'late:demo': when.op: unknown operator 'gtt'",
        ),
        (
            lambda d: late_demo(d).update(whne=1),
            "segment 'late:demo': unknown key 'whne'",
        ),
        (
            lambda d: late_demo(d)["when"].update(value="many"),
            "segment 'late:demo': when.value: 'gt' needs a number",
        ),
        (
            lambda d: d["segments"][5]["when"]["any"][2].pop("field"),
            "segment 'mofu:{content_theme}': when.any[2].field: missing",
        ),
        (
            lambda d: d["segments"][5]["placeholders"]["content_theme"].update(defualt="x"),
            "segment 'mofu:{content_theme}': placeholders.content_theme: unknown key 'defualt'",
        ),
        (
            lambda d: d["segments"][6]["placeholders"].update(country={}),
            "segment 'tofu:{industry}': placeholders.country: no {country} in the name",
        ),
        (lambda d: d["segments"][6].update(name="tofu:{industry.name}"), "plain field name"),
        (lambda d: d["segments"][6].update(name="tofu:{industry"), "bad placeholder"),
        (lambda d: d["segments"][1].update(name="Late Demo"), "is not a segment name"),
        (lambda d: d["segments"][1].update(name="cluster:hot"), "reserved for behavioural"),
        (lambda d: d["segments"][2].pop("name"), "segment #3: missing key 'name'"),
        (lambda d: d["segments"].append("late"), "segment #9: expected a mapping"),
        (lambda d: d["exclude"].update(segment="re-engage"), "also a segment name"),
        (lambda d: d["exclude"].pop("when"), "exclude: missing key 'when'"),
        (lambda d: d["exclude"]["when"]["any"][0].update(value=[]), "exclude.when.any[0].value"),
        (lambda d: d.update(segmnets=[]), "unknown top-level key 'segmnets'"),
        (lambda d: d.update(segments=[]), "segments: expected a non-empty list"),
        (lambda d: d.update(version=2), "only version 1"),
    ],
)
def test_bad_definitions_name_the_segment_and_key(
    tmp_path: Path, change: Any, message: str
) -> None:
    path = write(tmp_path, broken(change))
    with pytest.raises(DefinitionError) as caught:
        load_definitions(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_unparseable_yaml_and_missing_file(tmp_path: Path) -> None:
    path = write(tmp_path, "segments:\n  - name: a\n   when: [\n")
    with pytest.raises(DefinitionError, match=r"not valid YAML \(line \d+, column \d+\)"):
        load_definitions(path)
    with pytest.raises(DefinitionError, match="cannot read"):
        load_definitions(tmp_path / "nope.yaml")
    with pytest.raises(DefinitionError, match="expected a mapping"):
        parse_definitions(["a"], source="x")


def test_default_file_has_four_to_six_segment_families() -> None:
    families = {rule.name.split(":")[0] for rule in DEFS.rules}
    assert families == {"re-engage", "late", "mofu", "tofu", "enterprise"}
    assert DEFS.excluded_segment == "excluded"


def test_theme_of_reads_course_pages_and_keys_only() -> None:
    from tools.profile import theme_of

    assert theme_of("/courses/data-science") == "data-science"
    assert theme_of("/courses/data-science/syllabus") == "data-science"
    assert theme_of("hr-analytics") == "hr-analytics"  # a `course` property
    assert [theme_of(p) for p in ("/faq", "/courses", "/", "/blog/x", None, "")] == [None] * 6
