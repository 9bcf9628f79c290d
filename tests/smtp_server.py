"""A real SMTP server on loopback (aiosmtpd) that records what it accepts, for outbox tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller

from tests.servers import free_port


@dataclass
class Recorder:
    """Accepts mail and keeps it; `rcpt_replies` answers the next RCPT TOs (e.g. a 451 once).

    `hold_rcpt`, when set, makes the server wait at RCPT TO until it is released (so a test
    can kill a client in the middle of an SMTP transaction); `on_data` runs when a message has
    been received, before the server answers 250."""

    messages: list[bytes] = field(default_factory=list)
    rcpt_replies: list[str] = field(default_factory=list)
    hold_rcpt: threading.Event | None = None
    at_rcpt: threading.Event = field(default_factory=threading.Event)
    on_data: Any = None

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        self.at_rcpt.set()
        if self.hold_rcpt is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.hold_rcpt.wait)
        reply = self.rcpt_replies.pop(0) if self.rcpt_replies else "250 OK"
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(bytes(envelope.original_content or envelope.content))
        if self.on_data is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.on_data)
        return "250 Message accepted for delivery"

    def parsed(self) -> list[EmailMessage]:
        return [message_from_bytes(raw, policy=default) for raw in self.messages]


@contextmanager
def smtp_server(recorder: Recorder | None = None) -> Iterator[tuple[Recorder, int]]:
    recorder = recorder or Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield recorder, port
    finally:
        if recorder.hold_rcpt is not None:
            recorder.hold_rcpt.set()
        controller.stop()
