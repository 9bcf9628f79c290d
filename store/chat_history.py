"""Web chat history: users, threads, steps (messages and tool calls), elements and feedback."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Index, LargeBinary, Text, delete, func, or_, tuple_
from sqlmodel import Field, Session, SQLModel, col, select

from store.models import json_field, utcnow


class ChatUser(SQLModel, table=True):
    __tablename__ = "chat_user"

    id: str = Field(primary_key=True, max_length=36)
    identifier: str = Field(max_length=320, unique=True)
    meta: dict[str, Any] = json_field()
    created_at: datetime = Field(default_factory=utcnow)


class ChatThread(SQLModel, table=True):
    __tablename__ = "chat_thread"
    __table_args__ = (Index("ix_chat_thread_user_updated", "user_id", "updated_at"),)

    id: str = Field(primary_key=True, max_length=36)
    user_id: str | None = Field(default=None, foreign_key="chat_user.id", max_length=36)
    user_identifier: str | None = Field(default=None, max_length=320)
    name: str | None = Field(default=None, max_length=255)
    tags: list[str] = json_field(list)
    meta: dict[str, Any] = json_field()
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ChatStep(SQLModel, table=True):
    """A message or a tool step: `data` as the UI sent it, `text` (input, output) for search."""

    __tablename__ = "chat_step"
    __table_args__ = (Index("ix_chat_step_thread_at", "thread_id", "at"),)

    id: str = Field(primary_key=True, max_length=36)
    thread_id: str = Field(foreign_key="chat_thread.id", max_length=36)
    parent_id: str | None = Field(default=None, max_length=36)
    type: str = Field(max_length=40)
    name: str = Field(default="", max_length=255)
    at: datetime = Field(default_factory=utcnow)
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    data: dict[str, Any] = json_field()


class ChatElement(SQLModel, table=True):
    """A file, chart or text shown in a thread; `content` keeps it for when the thread reopens."""

    __tablename__ = "chat_element"

    id: str = Field(primary_key=True, max_length=36)
    thread_id: str = Field(foreign_key="chat_thread.id", index=True, max_length=36)
    for_id: str | None = Field(default=None, max_length=36)
    mime: str | None = Field(default=None, max_length=255)
    data: dict[str, Any] = json_field()
    content: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class ChatFeedback(SQLModel, table=True):
    __tablename__ = "chat_feedback"

    id: str = Field(primary_key=True, max_length=36)
    for_id: str = Field(index=True, max_length=36)
    thread_id: str = Field(foreign_key="chat_thread.id", max_length=36)
    value: int
    comment: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


# --- users ---------------------------------------------------------------------------------


def get_user(session: Session, *, identifier: str) -> ChatUser | None:
    return session.exec(select(ChatUser).where(ChatUser.identifier == identifier)).first()


def add_user(session: Session, *, user_id: str, identifier: str, meta: dict[str, Any]) -> ChatUser:
    """The stored user for `identifier`, created on first sign-in."""
    found = get_user(session, identifier=identifier)
    if found is not None:
        return found
    user = ChatUser(id=user_id, identifier=identifier, meta=meta)
    session.add(user)
    session.flush()
    return user


# --- threads -------------------------------------------------------------------------------


def get_thread(session: Session, *, thread_id: str) -> ChatThread | None:
    return session.get(ChatThread, thread_id)


def upsert_thread(
    session: Session,
    *,
    thread_id: str,
    name: str | None = None,
    user_id: str | None = None,
    user_identifier: str | None = None,
    meta: dict[str, Any] | None = None,
    tags: list[str] | None = None,
) -> ChatThread:
    """Create the thread or update what is given; metadata is merged, not replaced."""
    thread = session.get(ChatThread, thread_id)
    if thread is None:
        thread = ChatThread(id=thread_id)
    if name is not None:
        thread.name = name[:255]
    if user_id is not None:
        thread.user_id = user_id
    if user_identifier is not None:
        thread.user_identifier = user_identifier
    if meta:
        thread.meta = {**(thread.meta or {}), **meta}
    if tags is not None:
        thread.tags = list(tags)
    thread.updated_at = utcnow()
    session.add(thread)
    session.flush()
    return thread


def delete_thread(session: Session, *, thread_id: str) -> None:
    for table in (ChatFeedback, ChatElement, ChatStep):
        session.execute(delete(table).where(col(table.thread_id) == thread_id))
    session.execute(delete(ChatThread).where(col(ChatThread.id) == thread_id))


def list_threads(
    session: Session,
    *,
    user_id: str | None,
    search: str | None = None,
    feedback: int | None = None,
    first: int = 20,
    cursor: str | None = None,
) -> tuple[list[ChatThread], bool]:
    """A page of threads, most recently active first; True when more follow."""
    stmt = select(ChatThread)
    if user_id is not None:
        stmt = stmt.where(ChatThread.user_id == user_id)
    if search:
        needle = f"%{search.lower()}%"
        in_steps = select(ChatStep.thread_id).where(func.lower(ChatStep.text).like(needle))
        stmt = stmt.where(
            or_(func.lower(col(ChatThread.name)).like(needle), col(ChatThread.id).in_(in_steps))
        )
    if feedback is not None:
        rated = select(ChatFeedback.thread_id).where(ChatFeedback.value == feedback)
        stmt = stmt.where(col(ChatThread.id).in_(rated))
    if cursor:
        after = session.get(ChatThread, cursor)
        if after is not None:
            stmt = stmt.where(
                tuple_(col(ChatThread.updated_at), col(ChatThread.id))
                < tuple_(after.updated_at, after.id)
            )
    stmt = stmt.order_by(col(ChatThread.updated_at).desc(), col(ChatThread.id).desc())
    rows = list(session.exec(stmt.limit(first + 1)))
    return rows[:first], len(rows) > first


# --- steps, elements, feedback -------------------------------------------------------------


def upsert_step(session: Session, *, step: dict[str, Any]) -> ChatStep:
    """Store a step as the UI sends it; an update merges into what is stored."""
    row = session.get(ChatStep, step["id"])
    data = {**(row.data if row else {}), **{k: v for k, v in step.items() if v is not None}}
    if row is None:
        upsert_thread(session, thread_id=step["threadId"])
        row = ChatStep(id=step["id"], thread_id=step["threadId"], type=data.get("type", ""))
    else:
        # Touch the thread so the most recently active one lists first.
        upsert_thread(session, thread_id=row.thread_id)
    row.parent_id = data.get("parentId")
    row.type = str(data.get("type") or "")[:40]
    row.name = str(data.get("name") or "")[:255]
    row.at = _moment(data.get("createdAt") or data.get("start")) or row.at or utcnow()
    row.text = "\n".join(str(data.get(k) or "") for k in ("input", "output")).strip()
    row.data = data
    session.add(row)
    session.flush()
    return row


def delete_step(session: Session, *, step_id: str) -> None:
    session.execute(delete(ChatFeedback).where(col(ChatFeedback.for_id) == step_id))
    session.execute(delete(ChatElement).where(col(ChatElement.for_id) == step_id))
    session.execute(delete(ChatStep).where(col(ChatStep.id) == step_id))


def thread_steps(session: Session, *, thread_id: str) -> list[ChatStep]:
    stmt = select(ChatStep).where(ChatStep.thread_id == thread_id)
    return list(session.exec(stmt.order_by(col(ChatStep.at), col(ChatStep.id))))


def add_element(
    session: Session,
    *,
    element_id: str,
    thread_id: str,
    for_id: str | None,
    mime: str | None,
    data: dict[str, Any],
    content: bytes | None,
) -> ChatElement:
    upsert_thread(session, thread_id=thread_id)
    row = session.get(ChatElement, element_id) or ChatElement(id=element_id, thread_id=thread_id)
    row.for_id, row.mime, row.data, row.content = for_id, mime, data, content
    session.add(row)
    session.flush()
    return row


def get_element(session: Session, *, element_id: str) -> ChatElement | None:
    return session.get(ChatElement, element_id)


def thread_elements(session: Session, *, thread_id: str) -> list[ChatElement]:
    return list(session.exec(select(ChatElement).where(ChatElement.thread_id == thread_id)))


def delete_element(session: Session, *, element_id: str) -> None:
    session.execute(delete(ChatElement).where(col(ChatElement.id) == element_id))


def upsert_feedback(
    session: Session,
    *,
    feedback_id: str,
    for_id: str,
    thread_id: str,
    value: int,
    comment: str | None,
) -> ChatFeedback:
    row = session.get(ChatFeedback, feedback_id) or ChatFeedback(
        id=feedback_id, for_id=for_id, thread_id=thread_id, value=value
    )
    row.value, row.comment = value, comment
    session.add(row)
    session.flush()
    return row


def delete_feedback(session: Session, *, feedback_id: str) -> bool:
    row = session.get(ChatFeedback, feedback_id)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def thread_feedback(session: Session, *, thread_id: str) -> dict[str, ChatFeedback]:
    """Feedback on the thread's steps, by step id."""
    rows = session.exec(select(ChatFeedback).where(ChatFeedback.thread_id == thread_id))
    return {row.for_id: row for row in rows}


def favorite_steps(session: Session, *, user_id: str) -> list[ChatStep]:
    stmt = (
        select(ChatStep)
        .join(ChatThread, col(ChatThread.id) == ChatStep.thread_id)
        .where(ChatThread.user_id == user_id)
        .order_by(col(ChatStep.at).desc())
    )
    return [
        step for step in session.exec(stmt) if (step.data.get("metadata") or {}).get("favorite")
    ]


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
