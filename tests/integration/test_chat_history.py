"""Web chat history in the app database (SQLite and PostgreSQL): threads, steps, charts,
feedback, each user's own list with search and pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from store import chat_history as history
from store.db import session_scope

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _iso(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def _step(step_id: str, thread_id: str, minutes: int, **extra: object) -> dict[str, object]:
    return {
        "id": step_id,
        "threadId": thread_id,
        "type": "assistant_message",
        "name": "nurture",
        "output": "",
        "createdAt": _iso(minutes),
        **extra,
    }


def test_a_thread_keeps_its_steps_in_order_and_merges_updates(engine: Engine) -> None:
    with session_scope(engine) as s:
        ana = history.add_user(s, user_id="u-ana", identifier="ana", meta={"roles": ["manager"]})
        again = history.add_user(s, user_id="u-other", identifier="ana", meta={})
        assert again.id == ana.id == "u-ana"
        # Steps may arrive before the thread is named: the thread is created for them.
        history.upsert_step(s, step=_step("s2", "t1", 2, output="Pipeline, since"))
        history.upsert_step(s, step=_step("s1", "t1", 1, type="user_message", output="pipeline?"))
        history.upsert_thread(
            s, thread_id="t1", name="How is the pipeline?", user_id="u-ana", meta={"a": 1}
        )
        history.upsert_thread(s, thread_id="t1", meta={"b": 2})
        # A streamed answer is saved again when complete; fields left out are kept.
        history.upsert_step(s, step={"id": "s2", "output": "Pipeline, since 2026-11-01"})
    with session_scope(engine) as s:
        thread = history.get_thread(s, thread_id="t1")
        steps = history.thread_steps(s, thread_id="t1")
    assert thread is not None and thread.name == "How is the pipeline?"
    assert thread.user_id == "u-ana" and thread.meta == {"a": 1, "b": 2}
    assert [step.id for step in steps] == ["s1", "s2"]
    assert steps[1].data["output"] == "Pipeline, since 2026-11-01"
    assert steps[1].data["type"] == "assistant_message" and steps[1].data["threadId"] == "t1"


def test_each_user_lists_their_own_threads_newest_first_with_search_and_pages(
    engine: Engine,
) -> None:
    with session_scope(engine) as s:
        history.add_user(s, user_id="u-ana", identifier="ana", meta={})
        history.add_user(s, user_id="u-sam", identifier="sam", meta={})
        for n in range(5):
            history.upsert_thread(s, thread_id=f"a{n}", name=f"question {n}", user_id="u-ana")
            history.upsert_step(
                s, step=_step(f"a{n}-1", f"a{n}", n, output=f"answer about lead {n}")
            )
        history.upsert_thread(s, thread_id="s0", name="review", user_id="u-sam")
        history.upsert_feedback(
            s, feedback_id="f1", for_id="a3-1", thread_id="a3", value=1, comment=None
        )
    with session_scope(engine) as s:
        first, more = history.list_threads(s, user_id="u-ana", first=2)
        assert [t.id for t in first] == ["a4", "a3"] and more
        second, more = history.list_threads(s, user_id="u-ana", first=2, cursor=first[-1].id)
        assert [t.id for t in second] == ["a2", "a1"] and more
        last, more = history.list_threads(s, user_id="u-ana", first=2, cursor=second[-1].id)
        assert [t.id for t in last] == ["a0"] and not more
        # Search reads thread names and what was said in them.
        found, _ = history.list_threads(s, user_id="u-ana", search="LEAD 2")
        assert [t.id for t in found] == ["a2"]
        found, _ = history.list_threads(s, user_id="u-ana", search="question 1")
        assert [t.id for t in found] == ["a1"]
        rated, _ = history.list_threads(s, user_id="u-ana", feedback=1)
        assert [t.id for t in rated] == ["a3"]
        theirs, _ = history.list_threads(s, user_id="u-sam")
        assert [t.id for t in theirs] == ["s0"]


def test_charts_and_feedback_are_kept_and_go_with_their_thread(engine: Engine) -> None:
    figure = b'{"data": [{"type": "funnel", "x": [20, 6, 2, 1]}], "layout": {}}'
    with session_scope(engine) as s:
        history.upsert_step(s, step=_step("m1", "t1", 1, output="Pipeline"))
        history.add_element(
            s,
            element_id="e1",
            thread_id="t1",
            for_id="m1",
            mime="application/json",
            data={"id": "e1", "type": "plotly", "name": "Pipeline funnel", "forId": "m1"},
            content=figure,
        )
        history.upsert_feedback(
            s, feedback_id="f1", for_id="m1", thread_id="t1", value=0, comment="wrong"
        )
        history.upsert_feedback(
            s, feedback_id="f1", for_id="m1", thread_id="t1", value=1, comment="ok now"
        )
        history.upsert_step(s, step=_step("m2", "t1", 2, metadata={"favorite": True}))
        history.upsert_thread(s, thread_id="t1", user_id=None)
    with session_scope(engine) as s:
        [element] = history.thread_elements(s, thread_id="t1")
        assert element.content == figure and element.data["name"] == "Pipeline funnel"
        feedback = history.thread_feedback(s, thread_id="t1")
        assert (feedback["m1"].value, feedback["m1"].comment) == (1, "ok now")
        assert history.delete_feedback(s, feedback_id="f1")
        assert not history.delete_feedback(s, feedback_id="f1")
    with session_scope(engine) as s:
        history.add_user(s, user_id="u1", identifier="ana", meta={})
        history.upsert_thread(s, thread_id="t1", user_id="u1")
    with session_scope(engine) as s:
        assert [step.id for step in history.favorite_steps(s, user_id="u1")] == ["m2"]
        history.delete_step(s, step_id="m1")
    with session_scope(engine) as s:
        assert history.thread_elements(s, thread_id="t1") == []
        history.delete_thread(s, thread_id="t1")
    with session_scope(engine) as s:
        assert history.get_thread(s, thread_id="t1") is None
        assert history.thread_steps(s, thread_id="t1") == []
