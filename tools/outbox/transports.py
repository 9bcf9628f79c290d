"""How emails leave: an SMTP server (with a sent log) or `.eml` files in a folder.

Each transport can say whether a Message-ID was already delivered, which is what makes a
resend after a crash safe:
- file: the `.eml` file is written under a name derived from the Message-ID, atomically
  (temporary file, fsync, rename), so it either exists whole or not at all; exactly once.
- SMTP: after the server accepts a message (its 250 reply to the data), the Message-ID is
  appended to a sent log and fsync'd. A crash before the data is accepted delivers nothing and
  the touch is sent again; a crash after the log write is found in the log and not resent.
  Only a crash in the instant between the server's reply and the log write can send twice,
  and then with the same Message-ID, which receiving systems use to drop the duplicate.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import smtplib
import ssl
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Literal, Protocol


class SendError(RuntimeError):
    """A delivery that failed; `permanent` ones (a 5xx refusal) are not retried, and `bounced`
    ones (the server refused the address itself) stop the lead like a bounce."""

    def __init__(self, message: str, *, permanent: bool = False, bounced: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent or bounced
        self.bounced = bounced


class Transport(Protocol):
    name: str

    def deliver(self, message: EmailMessage) -> None: ...

    def delivered(self, message_id: str) -> bool: ...

    def close(self) -> None: ...


def _file_stem(message_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", message_id.strip("<>"))


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class FileTransport:
    """The embedded default: each email as `<message-id>.eml` under `folder`."""

    folder: Path
    name: str = "file"

    def path_of(self, message_id: str) -> Path:
        return self.folder / f"{_file_stem(message_id)}.eml"

    def deliver(self, message: EmailMessage) -> None:
        message_id = str(message["Message-ID"] or "")
        if not message_id:
            raise SendError("the message has no Message-ID", permanent=True)
        target = self.path_of(message_id)
        if target.exists():
            return  # written whole by an earlier attempt
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            temporary = target.with_suffix(f".{os.getpid()}.tmp")
            with temporary.open("wb") as handle:
                handle.write(message.as_bytes())
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
            _fsync_dir(self.folder)
        except OSError as exc:
            raise SendError(f"cannot write {target}: {exc}") from exc

    def delivered(self, message_id: str) -> bool:
        return self.path_of(message_id).exists()

    def close(self) -> None:
        return None


@dataclass
class SentLog:
    """Message-IDs an SMTP server accepted, one JSON line each, fsync'd on every write."""

    path: Path
    _seen: set[str] = field(default_factory=set)
    _offset: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, message_id: str) -> None:
        line = json.dumps({"message_id": message_id, "at": datetime.now(UTC).isoformat()})
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a+b") as handle:
                # A line torn by a crash mid-write is closed first, or it would swallow this one.
                if handle.tell() > 0:
                    handle.seek(-1, os.SEEK_END)
                    if handle.read(1) != b"\n":
                        line = "\n" + line
                handle.write((line + "\n").encode())
                handle.flush()
                os.fsync(handle.fileno())
            self._seen.add(message_id)

    def contains(self, message_id: str) -> bool:
        with self._lock:
            self._read_new()
            return message_id in self._seen

    def _read_new(self) -> None:
        """Read what other processes appended since the last look."""
        if not self.path.exists():
            return
        with self.path.open("rb") as handle:
            handle.seek(self._offset)
            data = handle.read()
        complete = data.rpartition(b"\n")[0]
        if not complete:
            return
        self._offset += len(complete) + 1
        for raw in complete.splitlines():
            try:
                self._seen.add(str(json.loads(raw)["message_id"]))
            except (ValueError, KeyError, TypeError):
                continue  # a torn line from a crash mid-write: that send was not logged


@dataclass
class SmtpTransport:
    """Send through an SMTP server; one connection is reused until `close()`."""

    host: str
    port: int
    sent_log: SentLog
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password: str | None = None
    timeout_s: float = 30.0
    name: str = "smtp"
    _client: smtplib.SMTP | None = None

    def deliver(self, message: EmailMessage) -> None:
        message_id = str(message["Message-ID"] or "")
        try:
            client = self._connect()
            refused = client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            self._drop()
            raise SendError(_refusal(exc.recipients), bounced=_permanent(exc.recipients)) from exc
        except smtplib.SMTPResponseException as exc:
            self._drop()
            reply = exc.smtp_error
            text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply or "")
            raise SendError(
                f"SMTP {exc.smtp_code} {text}".strip(), permanent=500 <= exc.smtp_code < 600
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise SendError(f"SMTP {self.host}:{self.port}: {exc}") from exc
        # Accepted (some recipients may be refused; there is only one): log it first thing.
        self.sent_log.record(message_id)
        if refused:
            raise SendError(_refusal(refused), bounced=_permanent(refused))

    def delivered(self, message_id: str) -> bool:
        return self.sent_log.contains(message_id)

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._client.quit()
            self._client = None

    def _connect(self) -> smtplib.SMTP:
        if self._client is not None:
            try:
                if self._client.noop()[0] == 250:
                    return self._client
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()
        client: smtplib.SMTP
        if self.security == "ssl":
            client = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout_s, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
            if self.security == "starttls":
                client.starttls(context=ssl.create_default_context())
        if self.username:
            client.login(self.username, self.password or "")
        self._client = client
        return client

    def _drop(self) -> None:
        if self._client is not None:
            with contextlib.suppress(OSError):
                self._client.close()
            self._client = None


def _refusal(recipients: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{address} refused: {code} {reply.decode(errors='replace')}"
        for address, (code, reply) in recipients.items()
    )


def _permanent(recipients: dict[str, tuple[int, bytes]]) -> bool:
    return all(500 <= code < 600 for code, _ in recipients.values())
