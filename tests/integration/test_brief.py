"""The lead brief every part reads: what the lead did lately and whether its intent is fresh."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from store.db import session_scope
from tests.integration.test_handoff import NOW, add_events, add_lead
from tools.brief import lead_brief, recent_activity


def test_recent_activity_and_fresh_intent(engine: Engine) -> None:
    fresh = add_lead(engine, "fresh@acme.example")
    stale = add_lead(engine, "stale@acme.example")
    add_events(
        engine,
        fresh,
        ("page_view", timedelta(hours=2), {"path": "/courses/data-science"}),
        ("page_view", timedelta(hours=5), {"path": "/faq"}),
        ("demo_request", timedelta(hours=30), {}),
        ("webinar_attended", timedelta(days=40), {}),  # outside the 30-day window
    )
    add_events(
        engine,
        stale,
        ("demo_request", timedelta(hours=50), {}),
        ("email_open", timedelta(hours=1), {}),
    )
    with session_scope(engine) as session:
        brief = lead_brief(session, lead_id=fresh, now=NOW)
        assert brief.high_intent_48h is True
        assert brief.recent_activity == [
            "visited the site 2× (last 2 h ago)",
            "asked for a demo (last 30 h ago)",
        ]
        assert brief.recent_activity == recent_activity(session, lead_id=fresh, now=NOW)
        later = lead_brief(session, lead_id=fresh, now=NOW + timedelta(hours=20))
        assert later.high_intent_48h is False  # the demo ask is 50 h old by then
        other = lead_brief(session, lead_id=stale, now=NOW)
        assert other.high_intent_48h is False  # an open is not intent, the demo ask is old
        assert other.recent_activity[0] == "opened an email (last 1 h ago)"
