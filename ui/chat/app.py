"""The Chainlit callbacks: sign-in, history, starters per role, and each message's answer.

Loaded by `ui.chat.mount.load_chainlit` after Chainlit is configured; not imported elsewhere.
"""

from __future__ import annotations

import asyncio
import logging

import chainlit as cl
from chainlit.config import HeaderLink, config
from chainlit.types import ThreadDict

from agent.models.factory import describe_model
from agent.wiring import WiringError
from ui.chat import commands, review
from ui.chat.history import NurtureDataLayer
from ui.chat.mount import element_url
from ui.chat.services import services
from ui.chat.turn import run_turn
from ui.chat.users import ChatUser, UsersError, authenticate

log = logging.getLogger("nurture.chat")

STARTERS = {
    "manager": [
        ("Pipeline this month", "How is the pipeline this month?"),
        ("Last quarter", "How did the pipeline do last quarter?"),
        ("The team", "team"),
    ],
    "marketer": [
        (
            "Design a nurture",
            "Design a 60-day nurture for mid-market fintech leads who downloaded the security "
            "whitepaper",
        ),
        ("Our sequences", "list sequences"),
        ("Top leads", "Who are our top leads?"),
    ],
    "sdr": [
        ("Drafts to review", "review"),
        ("Top leads", "Who are our top leads?"),
    ],
    "evaluator": [("What can you do?", "help")],
}
COMMANDS = {
    "Review": "Drafts waiting for approval",
    "Team": "Who decided what, and what waits on whom",
}


def signed_in() -> ChatUser | None:
    """The signed-in person with their roles as configured now (not as at sign-in); None when
    they were removed or the users list cannot be read (the log says why)."""
    user = cl.user_session.get("user")
    return signed_in_as(user.identifier) if user is not None else None


def signed_in_as(identifier: str) -> ChatUser | None:
    try:
        return services().users().get(identifier)
    except UsersError:
        log.exception("the users list cannot be read")
        return None


@cl.data_layer
def data_layer() -> NurtureDataLayer:
    return NurtureDataLayer(
        lambda: services().engine, lambda element_id: element_url(services().path, element_id)
    )


@cl.password_auth_callback
async def sign_in(username: str, password: str) -> cl.User | None:
    try:
        users = services().users()
    except UsersError:
        log.exception("the users file cannot be read; nobody can sign in")
        return None
    user = await asyncio.to_thread(authenticate, users, username, password)
    if user is None:
        return None
    return cl.User(
        identifier=user.name,
        display_name=user.label,
        metadata={"roles": list(user.roles), "provider": "password"},
    )


@cl.set_starters
async def starters(user: cl.User | None) -> list[cl.Starter]:
    person = signed_in_as(user.identifier) if user else None
    roles = person.roles if person else ()
    chosen: dict[str, str] = {}
    for role in roles:
        for label, message in STARTERS.get(role, []):
            chosen.setdefault(label, message)
    return [cl.Starter(label=label, message=message) for label, message in chosen.items()]


@cl.on_chat_start
async def start() -> None:
    await _offer_commands()


@cl.on_chat_resume
async def resume(thread: ThreadDict) -> None:
    # The agent remembers the conversation by the thread id: nothing to reload here.
    await _offer_commands()


@cl.on_message
async def answer(message: cl.Message) -> None:
    user = signed_in()
    if user is None:
        await cl.ErrorMessage(
            content="Your user is no longer in the users list (or the list cannot be read): "
            "ask an admin (`nurture users list`)."
        ).send()
        return
    text = message.content.strip()
    command = (message.command or "").lower()
    if command == "review" or commands.queue_request(text):
        await review.show_queue(user)
        return
    if command == "team" or commands.team_request(text):
        if user.sees_team():
            await review.show_team(user)
        else:
            await cl.Message(content="The team view is for managers.").send()
        return
    decision = commands.decision_request(text)
    if decision is not None:
        verb, approval_id, rest = decision
        await review.decide_draft(user, approval_id, verb, rest)
        return
    try:
        graph = await asyncio.to_thread(services().chat_graph)
    except WiringError as exc:
        await cl.ErrorMessage(content=f"The chat agent cannot start: {exc}").send()
        return
    except Exception as exc:  # one sentence for the user, the traceback for the log
        log.exception("the chat agent cannot start")
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        await cl.ErrorMessage(content=f"The chat agent cannot start: {first}").send()
        return
    await run_turn(graph, cl.context.session.thread_id, text, services().settings)


@cl.action_callback("approve_draft")
async def approve(action: cl.Action) -> None:
    await _decide_from_button(action, "approve")


@cl.action_callback("edit_draft")
async def edit(action: cl.Action) -> None:
    await _decide_from_button(action, "edit")


@cl.action_callback("reject_draft")
async def reject(action: cl.Action) -> None:
    await _decide_from_button(action, "reject")


async def _decide_from_button(action: cl.Action, verb: str) -> None:
    try:
        await review.decide_draft(signed_in(), int(action.payload["approval_id"]), verb)
    finally:
        # Asking for a reason or new text marks the session busy again afterwards; a button's
        # callback is not a message, so nothing else would tell the page it is done.
        await cl.context.emitter.task_end()


async def _offer_commands() -> None:
    user = signed_in()
    wanted = ["Review"] + (["Team"] if user and user.sees_team() else [])
    await cl.context.emitter.set_commands(
        [
            {
                "id": name,
                "description": COMMANDS[name],
                "icon": "inbox" if name == "Review" else "users",
                "button": True,
                "persistent": False,
                "selected": False,
            }
            for name in wanted
        ]
    )


def show_model_in_header() -> None:
    """The header names the model that answers (offline, OpenAI, or a self-hosted server)."""
    config.ui.header_links = [
        HeaderLink(
            name="The model that answers (GET /health reports it too)",
            display_name=describe_model(services().settings),
            icon_url="/public/model.svg",
            url="/health",
            target="_blank",
        )
    ]
