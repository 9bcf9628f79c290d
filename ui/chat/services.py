"""What the chat's callbacks work with: the runtime, the users, and the agents, opened once."""

from __future__ import annotations

import os
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from agent.runtime import Runtime
from agent.settings import Settings
from ui.chat.users import ChatUser, load_users

if TYPE_CHECKING:
    from langgraph.graph.state import CompiledStateGraph

    from agent.nurture.run import NurtureAgent


class ChatServices:
    """One per process (Chainlit keeps its callbacks process-wide); agents open on first use."""

    def __init__(self, runtime: Runtime, path: str = "/chat") -> None:
        self.runtime = runtime
        self.path = path  # where the chat is mounted
        self._lock = threading.Lock()
        # Opening an agent can index the content library: never hold up sign-ins meanwhile.
        self._open_lock = threading.Lock()
        self._stack = ExitStack()
        self._chat: CompiledStateGraph | None = None
        self._agent: NurtureAgent | None = None
        self._users: tuple[tuple[str, float] | None, dict[str, ChatUser]] | None = None

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def engine(self) -> Engine:
        return self.runtime.engine

    def users(self) -> dict[str, ChatUser]:
        """The configured users, re-read when the file changes (`nurture users add` needs no
        restart)."""
        stamp = None if self.settings.users_json else _stamp(self.settings.resolved_users_file)
        with self._lock:
            if self._users is None or self._users[0] != stamp or stamp is None:
                self._users = (stamp, load_users(self.settings))
            return self._users[1]

    def chat_graph(self) -> CompiledStateGraph:
        """The chat agent (model, tools, durable conversations), opened on the first message."""
        from agent.chat.agent import open_chat_agent

        with self._open_lock:
            if self._chat is None:
                self._chat = self._stack.enter_context(open_chat_agent(self.runtime))
            return self._chat

    def nurture_agent(self) -> NurtureAgent:
        """The per-lead agent that resumes a paused thread when a draft is decided."""
        from agent.wiring import nurture_agent

        with self._open_lock:
            if self._agent is None:
                self._agent = self._stack.enter_context(nurture_agent(self.runtime))
            return self._agent

    def close(self) -> None:
        with self._open_lock:
            self._stack.close()
            self._chat = self._agent = None


def _stamp(path: Path) -> tuple[str, float] | None:
    try:
        return (str(path), os.stat(path).st_mtime)
    except FileNotFoundError:
        return None


_current: ChatServices | None = None


def bind(runtime: Runtime, path: str) -> ChatServices:
    """Point the chat at this runtime (a new app in the same process replaces the old one)."""
    global _current
    if _current is not None and (_current.runtime is not runtime or _current.path != path):
        _current.close()
        _current = None
    if _current is None:
        _current = ChatServices(runtime, path)
    return _current


def services() -> ChatServices:
    if _current is None:
        raise RuntimeError("the chat is not mounted: ui.chat.mount.mount_chat binds a runtime")
    return _current
