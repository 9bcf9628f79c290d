"""The web chat in a real browser: `nurture serve` (its own process, offline model) on a small
store, driven by headless Chromium through Playwright. Screenshots go to test-artifacts/chat/.

One scenario in one test: the steps build on each other (the marketer is refused a draft the SDR
then approves) and share one server, which takes most of the time to start.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select

from agent.runtime import Runtime, open_runtime
from agent.settings import Settings
from agent.wiring import nurture_agent, open_kb
from store import chat_history
from store.db import session_scope
from store.models import Approval, Event, Lead, LifecycleStage, Outcome, OutcomeKind
from store.models import Sequence as SequenceRow
from tests.servers import free_port
from tools import lead_scoring
from tools.analytics import pipeline_summary
from ui.chat.users import ChatUser, hash_password, save_user

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium; "
    "`make test` and .ci/run install it)",
)
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "chat"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PEOPLE = {
    "ana": (("manager",), "Ana Souza"),
    "mia": (("marketer",), "Mia Chen"),
    "sam": (("sdr",), "Sam Lee"),
}
# Seconds to wait for an answer: the first one also opens the agent and the content index.
ANSWER_MS = 120_000
NOW = datetime.now(UTC)


def password(name: str) -> str:
    return f"{name}-pass-1234"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, list[int]]]:
    """Thirty leads, three of them hot (top decile: their drafts wait for approval), the content
    library indexed, three users."""
    var = tmp_path_factory.mktemp("chat-ui") / "var"
    settings = Settings(_env_file=None, NURTURE_VAR_DIR=var, NURTURE_ENV="test")
    runtime = open_runtime(settings)
    hot = [
        ("ravi@acme.example", "Ravi", "Iyer", "Acme Fintech", "VP Sales"),
        ("kofi@mensah.example", "Kofi", "Mensah", "Mensah Labs", "Head of Data"),
        ("ama@owusu.example", "Ama", "Owusu", "Owusu Pay", "CFO"),
    ]
    with session_scope(runtime.engine) as s:
        for email, first, last, company, role in hot:
            s.add(
                Lead(
                    email=email,
                    first_name=first,
                    last_name=last,
                    company=company,
                    role=role,
                    industry="Financial Services",
                    company_size=250,
                    timezone="Asia/Kolkata",
                    owner="Sam Lee",
                )
            )
        # A funnel worth drawing: six of the others became MQLs, two of those SQLs, one won.
        for i in range(27):
            stage = "customer" if i == 0 else "sql" if i < 2 else "mql" if i < 6 else "lead"
            lead = Lead(
                email=f"lead{i}@corp{i}.example",
                first_name=f"Lead{i}",
                company=f"Corp {i}",
                lifecycle_stage=LifecycleStage(stage),
                mql_at=NOW if i < 6 else None,
                sql_at=NOW if i < 2 else None,
            )
            s.add(lead)
            if i == 0:
                s.flush()
                s.add(
                    Outcome(
                        lead_id=int(lead.id or 0),
                        kind=OutcomeKind.won,
                        amount=4800,
                        occurred_at=NOW,
                    )
                )
    lead_ids = []
    with session_scope(runtime.engine) as s:
        for email, *_ in hot:
            lead = s.exec(select(Lead).where(Lead.email == email)).one()
            lead_ids.append(int(lead.id or 0))
            for n, kind in enumerate(
                ["pricing_page_view", "content_download", "webinar_attended", "page_view"]
            ):
                s.add(
                    Event(
                        source_event_id=f"{email}-{n}",
                        lead_id=int(lead.id or 0),
                        type=kind,
                        occurred_at=NOW,
                        properties={"path": "/courses/data-science"},
                    )
                )
    with session_scope(runtime.engine) as s:
        lead_scoring.rescore_all(s)
    open_kb(settings)
    approvals = []
    with nurture_agent(runtime) as agent:
        for lead_id in lead_ids:
            result = agent.run_lead(lead_id)
            assert result["result"] == "awaiting_approval", result
            approvals.append(int(result["approval_id"]))
    for name, (roles, label) in PEOPLE.items():
        save_user(
            settings.resolved_users_file,
            ChatUser(name, roles, hash_password(password(name)), label),
        )
    yield runtime, approvals
    runtime.engine.dispose()


@pytest.fixture(scope="module")
def servers(store: tuple[Runtime, list[int]]) -> Iterator[dict[str, str]]:
    """`nurture serve` in its own process on the prepared store, twice, started together: with
    the offline model, and with a model server that cannot be reached."""
    runtime, _ = store
    shutil.rmtree(ARTIFACTS, ignore_errors=True)  # this run's screenshots only
    ARTIFACTS.mkdir(parents=True)
    with ExitStack() as stack:
        bases = {
            "offline": stack.enter_context(_serve(runtime, "offline", {})),
            # Port 9 (discard) has no listener: the first model call fails at once.
            "unreachable": stack.enter_context(
                _serve(
                    runtime,
                    "unreachable",
                    {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "NURTURE_MODEL_MAX_RETRIES": "0"},
                )
            ),
        }
        for base in bases.values():
            _wait_healthy(base)
        # The second one loads its chat while the first is driven.
        threading.Thread(target=_load_chat, args=(bases["unreachable"],), daemon=True).start()
        yield bases


@contextmanager
def _serve(runtime: Runtime, name: str, overrides: dict[str, str]) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "NURTURE_VAR_DIR": str(runtime.settings.var_dir),
        "NURTURE_ENV": "test",
        "NURTURE_USERS": "",
        "NURTURE_USERS_FILE": "",
        # The offline model, SQLite and the embedded index, whatever this shell has set.
        "OPENAI_API_KEY": "",
        "OPENAI_BASE_URL": "",
        "DATABASE_URL": "",
        "CHROMA_HOST": "",
        **overrides,
    }
    log = (ARTIFACTS / f"server-{name}.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _wait_healthy(base: str) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.5)
    raise RuntimeError(f"nurture serve at {base} did not start; see {ARTIFACTS}/server-*.log")


def _load_chat(base: str) -> None:
    with suppress(httpx.HTTPError):
        httpx.get(f"{base}/chat/login", timeout=120)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Visit:
    """One person's browser tab, counting every request that leaves the server."""

    def __init__(self, browser: Any, base: str) -> None:
        self.base = base
        self.context = browser.new_context(viewport={"width": 1280, "height": 1000})
        self.page = self.context.new_page()
        self.outside: list[str] = []
        self.page.on("request", self._note)

    def _note(self, request: Any) -> None:
        if not request.url.startswith((self.base, "data:", "blob:")):
            self.outside.append(request.url)

    def sign_in(self, name: str, secret: str, *, refused: bool = False) -> None:
        self.page.goto(f"{self.base}/chat/login")
        self.page.fill("#email", name)
        self.page.fill("#password", secret)
        self.page.click("button[type=submit]")
        if not refused:
            self.ready()

    def ready(self) -> None:
        """Wait for the live session: its commands arrive over the socket once it is up."""
        self.page.wait_for_selector("#chat-input", timeout=ANSWER_MS)
        self.page.get_by_role("button", name="Review", exact=True).wait_for(timeout=ANSWER_MS)

    def ask(self, text: str, expect: str | re.Pattern[str]) -> None:
        """Send a message and wait until the answer shows `expect`."""
        before = self.page.get_by_text(expect).count()
        self.page.fill("#chat-input", text)
        self.page.click("#chat-submit")  # waits until the composer takes messages
        self.wait_for_more(expect, before)

    def command(self, name: str, expect: str | re.Pattern[str]) -> None:
        """Pick one of the composer's command buttons and send it with no text."""
        before = self.page.get_by_text(expect).count()
        self.page.get_by_role("button", name=name, exact=True).click()
        self.page.click("#chat-submit")
        self.wait_for_more(expect, before)

    def wait_for_more(self, expect: str | re.Pattern[str], before: int) -> None:
        deadline = time.monotonic() + ANSWER_MS / 1000
        while self.page.get_by_text(expect).count() <= before:
            if time.monotonic() > deadline:
                self.shot("timeout")
                raise AssertionError(f"no {expect!r} in the page after {ANSWER_MS / 1000:.0f} s")
            self.page.wait_for_timeout(200)

    def last_answer(self) -> str:
        return str(self.page.locator('[data-step-type="assistant_message"]').last.inner_text())

    def shot(self, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def close(self) -> list[str]:
        self.context.close()
        return self.outside


def test_marketers_managers_and_sdrs_in_the_browser(
    store: tuple[Runtime, list[int]], servers: dict[str, str], browser: Any
) -> None:
    server = servers["offline"]
    visits: list[Visit] = []
    try:
        scenario(store, server, lambda: _open(visits, browser, server))
        unreachable_model(_open(visits, browser, servers["unreachable"]))
    except BaseException:
        for n, failed in enumerate(visits):
            failed.shot(f"failed-{n}")
        raise
    # Nothing was fetched from the internet: no fonts, no CDN, no telemetry.
    outside = [url for v in visits for url in v.close()]
    assert outside == []


def _open(visits: list[Visit], browser: Any, server: str) -> Visit:
    visits.append(Visit(browser, server))
    return visits[-1]


def scenario(store: tuple[Runtime, list[int]], server: str, visit: Callable[[], Visit]) -> None:
    runtime, (approve_id, reject_id, edit_id) = store

    # A wrong password is refused on the sign-in page.
    stranger = visit()
    stranger.sign_in("ana", "not-her-password", refused=True)
    stranger.page.get_by_text("Unable to sign in: check the user name").wait_for(timeout=ANSWER_MS)
    stranger.shot("01-sign-in-refused")

    # The manager asks for the pipeline: numbers, the tool as a step, a funnel, a trend chart
    # and nurture against the holdout.
    manager = visit()
    manager.sign_in("ana", password("ana"))
    assert manager.page.get_by_text("offline model (built-in)").is_visible()
    manager.ask("How is the pipeline this month?", "Weekly trend")
    plots = manager.page.locator(".js-plotly-plot")
    plots.nth(2).wait_for(timeout=ANSWER_MS)
    assert plots.count() == 3
    # The funnel draws the store's own numbers.
    with session_scope(runtime.engine) as s:
        totals = pipeline_summary(s, "this month")["totals"]
    drawn = [plot.evaluate("p => [p.data[0].type, p.data[0].x]") for plot in plots.all()]
    assert drawn[0] == [
        "funnel",
        [totals["new_leads"], totals["mqls"], totals["sqls"], totals["won"]],
    ]
    assert drawn[1][0] == "bar"  # the trend: won revenue as bars, then the weekly lines
    assert drawn[2][0] == "bar" and len(drawn[2][1]) == 2  # nurtured and held-out leads
    assert totals["mqls"] >= 6 and totals["won"] == 1
    assert manager.page.get_by_text("Pipeline funnel").count() >= 1
    assert manager.page.get_by_text(re.compile(r"Lead → MQL")).count() >= 1
    assert manager.page.get_by_text(re.compile(r"Nurture vs holdout")).count() >= 1
    assert manager.page.get_by_text("Used pipeline_summary").is_visible()
    manager.shot("02-manager-pipeline")
    plots.nth(1).scroll_into_view_if_needed()
    manager.shot("03-manager-trend")

    # The marketer designs a sequence, saves it, and sees it listed.
    marketer = visit()
    marketer.sign_in("mia", password("mia"))
    marketer.ask(
        "Design a 60-day nurture for mid-market fintech leads who downloaded the security "
        "whitepaper and save it as 'fintech-security'",
        "Saved the sequence",
    )
    assert marketer.page.get_by_text("Used design_sequence").is_visible()
    marketer.ask("list sequences", re.compile(r"\d+ sequences?:"))
    marketer.shot("04-marketer-sequences")
    listed = marketer.last_answer()
    assert re.search(r"fintech-security \(active, \d+ touches\)", listed), listed
    with session_scope(runtime.engine) as s:
        saved = s.exec(select(SequenceRow).where(SequenceRow.name == "fintech-security")).one()
    assert saved.status == "active" and 9 <= len(saved.definition["steps"]) <= 12

    # The marketer sees the queue but has no buttons, and a typed verdict is refused.
    marketer.ask("review", f"Draft #{approve_id}")
    assert marketer.page.get_by_role("button", name="Approve").count() == 0
    marketer.ask(f"approve {approve_id}", "Only SDRs approve")
    marketer.shot("05-marketer-refused")
    assert _approval(runtime, approve_id).status == "pending"

    # The SDR approves a draft with its button, rejects one with a reason, edits the third.
    sdr = visit()
    sdr.sign_in("sam", password("sam"))
    sdr.command("Review", "3 drafts waiting for approval")
    card = _card(sdr, approve_id)
    card.get_by_role("button", name="Approve").click()
    sdr.page.get_by_text(f"Approved draft #{approve_id} as Sam Lee").wait_for(timeout=ANSWER_MS)
    card.get_by_text("Approved by Sam Lee").scroll_into_view_if_needed()
    sdr.shot("06-sdr-approved")
    _card(sdr, reject_id).get_by_role("button", name="Reject").click()
    sdr.page.get_by_text(f"Why reject draft #{reject_id}?").wait_for(timeout=ANSWER_MS)
    sdr.ask("Not relevant: they bought from a competitor last week", f"Rejected draft #{reject_id}")
    sdr.shot("07-sdr-rejected")
    approved, rejected = _approval(runtime, approve_id), _approval(runtime, reject_id)
    assert (approved.status, approved.decided_by) == ("approved", "sam")
    assert (rejected.status, rejected.decided_by) == ("rejected", "sam")
    assert rejected.reason == "Not relevant: they bought from a competitor last week"
    # The buttons are gone, and a second verdict changes nothing.
    assert _card(sdr, approve_id).get_by_role("button", name="Approve").count() == 0
    sdr.ask(f"reject {approve_id} because changed my mind", "the first decision stands")
    assert _approval(runtime, approve_id).status == "approved"
    _card(sdr, edit_id).get_by_role("button", name="Edit").click()
    sdr.page.get_by_text(f"Send the new text for draft #{edit_id}").wait_for(timeout=ANSWER_MS)
    sdr.ask(
        "Subject: Ama, the numbers you asked about\n\nHi Ama,\nthe pricing page has them all.",
        f"Edited and approved draft #{edit_id} as Sam Lee",
    )
    edited = _approval(runtime, edit_id)
    assert (edited.status, edited.decided_by) == ("edited", "sam")
    assert edited.edited_subject == "Ama, the numbers you asked about"
    assert edited.edited_body == "Hi Ama,\nthe pricing page has them all."

    # The manager sees the team's decisions, then reopens the pipeline thread from the history:
    # its charts come back from the database.
    manager.page.goto(f"{server}/chat/")
    manager.ready()
    manager.ask("team", "The team, last 30 days")
    row = manager.page.locator("tr", has_text="Sam Lee")
    assert [c.strip() for c in row.locator("td").all_inner_texts()][2:5] == ["1", "1", "1"]
    manager.shot("08-manager-team")
    manager.page.get_by_text("How is the pipeline this month?").first.click()
    reopened = manager.page.locator(".js-plotly-plot")
    reopened.nth(2).wait_for(timeout=ANSWER_MS)
    assert [plot.evaluate("p => p.data[0].type") for plot in reopened.all()] == [
        "funnel",
        "bar",
        "bar",
    ]
    manager.shot("09-manager-history")
    with session_scope(runtime.engine) as s:
        threads, _more = chat_history.list_threads(
            s,
            user_id=chat_history.get_user(s, identifier="ana").id,  # type: ignore[union-attr]
        )
        charts = chat_history.thread_elements(
            s, thread_id=next(t.id for t in threads if t.name == "How is the pipeline this month?")
        )
    assert sorted(e.data["name"] for e in charts) == [
        "Nurture vs holdout",
        "Pipeline funnel",
        "Weekly trend",
    ]
    # A stored chart is the author's alone: not another user's, not anyone signed out.
    chart = f"{server}/chat/history/elements/{charts[0].id}"
    assert manager.context.request.get(chart).status == 200
    assert marketer.context.request.get(chart).status == 404
    assert httpx.get(chart).status_code == 401


def unreachable_model(visit: Visit) -> None:
    """With a model server that cannot be reached, the header names it and a question gets
    one sentence that says what to check, not a traceback."""
    visit.sign_in("mia", password("mia"))
    assert visit.page.get_by_text("gpt-4o-mini via http://127.0.0.1:9/v1").is_visible()
    visit.ask("list sequences", "Could not reach gpt-4o-mini")
    visit.shot("10-model-unreachable")
    error = visit.page.get_by_text("Could not reach gpt-4o-mini").last.inner_text()
    assert error.strip() == (
        "Could not reach gpt-4o-mini via http://127.0.0.1:9/v1: "
        "is the server up and OPENAI_BASE_URL right?"
    )
    assert visit.page.get_by_text("Traceback").count() == 0


def _approval(runtime: Runtime, approval_id: int) -> Approval:
    with session_scope(runtime.engine) as s:
        found = s.get(Approval, approval_id)
        assert found is not None
        return found


def _card(visit: Visit, approval_id: int) -> Any:
    """The review card of one draft (its heading, text and buttons)."""
    heading = visit.page.get_by_text(f"Draft #{approval_id} ·")
    return heading.locator("xpath=ancestor::div[@data-step-type][1]")
