"""Chainlit's data layer on the app database: each user's past threads, with their charts."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from chainlit.data.base import BaseDataLayer
from chainlit.data.utils import queue_until_user_message
from chainlit.types import (
    Feedback,
    PageInfo,
    PaginatedResponse,
    Pagination,
    ThreadDict,
    ThreadFilter,
)
from chainlit.user import PersistedUser, User
from chainlit.utils import utc_now
from sqlalchemy import Engine
from sqlmodel import Session

from store import chat_history as store
from store.db import session_scope

if TYPE_CHECKING:
    from chainlit.element import Element, ElementDict
    from chainlit.step import StepDict

T = TypeVar("T")
# Elements larger than this keep only their description (a chart is ~10-50 kB of JSON).
MAX_ELEMENT_BYTES = 5_000_000


class NurtureDataLayer(BaseDataLayer):
    """Threads, steps, elements and feedback in the `chat_*` tables of the app database.

    Writes go through one worker thread, in the order the UI makes them (a message is created
    before its streamed text is saved); reads use the default pool.
    """

    def __init__(self, engine: Callable[[], Engine], element_url: Callable[[str], str]) -> None:
        self._engine = engine
        self._element_url = element_url
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chat-history")

    async def _read(self, work: Callable[[Session], T]) -> T:
        return await asyncio.to_thread(self._in_session, work)

    async def _write(self, work: Callable[[Session], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, self._in_session, work)

    def _in_session(self, work: Callable[[Session], T]) -> T:
        with session_scope(self._engine()) as session:
            return work(session)

    # --- users ------------------------------------------------------------------------------

    async def get_user(self, identifier: str) -> PersistedUser | None:
        row = await self._read(lambda s: store.get_user(s, identifier=identifier))
        return _persisted(row) if row else None

    async def create_user(self, user: User) -> PersistedUser | None:
        row = await self._write(
            lambda s: store.add_user(
                s, user_id=str(uuid.uuid4()), identifier=user.identifier, meta=user.metadata
            )
        )
        return _persisted(row)

    # --- threads ----------------------------------------------------------------------------

    async def get_thread_author(self, thread_id: str) -> str:
        def author(session: Session) -> str:
            thread = store.get_thread(session, thread_id=thread_id)
            if thread is None:
                return ""
            user = session.get(store.ChatUser, thread.user_id) if thread.user_id else None
            return user.identifier if user else thread.user_identifier or ""

        return await self._read(author)

    async def update_thread(
        self,
        thread_id: str,
        name: str | None = None,
        user_id: str | None = None,
        metadata: dict | None = None,
        tags: list[str] | None = None,
    ) -> None:
        def update(session: Session) -> None:
            user = session.get(store.ChatUser, user_id) if user_id else None
            store.upsert_thread(
                session,
                thread_id=thread_id,
                name=name,
                user_id=user_id,
                user_identifier=user.identifier if user else None,
                meta=metadata,
                tags=tags,
            )

        await self._write(update)

    async def delete_thread(self, thread_id: str) -> None:
        await self._write(lambda s: store.delete_thread(s, thread_id=thread_id))

    async def list_threads(
        self, pagination: Pagination, filters: ThreadFilter
    ) -> PaginatedResponse[ThreadDict]:
        rows, more = await self._read(
            lambda s: store.list_threads(
                s,
                user_id=filters.userId,
                search=filters.search,
                feedback=filters.feedback,
                first=pagination.first,
                cursor=pagination.cursor,
            )
        )
        threads = [_thread(row, [], []) for row in rows]
        return PaginatedResponse(
            pageInfo=PageInfo(
                hasNextPage=more,
                startCursor=threads[0]["id"] if threads else None,
                endCursor=threads[-1]["id"] if threads else None,
            ),
            data=threads,
        )

    async def get_thread(self, thread_id: str) -> ThreadDict | None:
        def load(session: Session) -> ThreadDict | None:
            row = store.get_thread(session, thread_id=thread_id)
            if row is None:
                return None
            feedback = store.thread_feedback(session, thread_id=thread_id)
            steps = []
            for step in store.thread_steps(session, thread_id=thread_id):
                data = dict(step.data)
                if step.id in feedback:
                    given = feedback[step.id]
                    data["feedback"] = {
                        "id": given.id,
                        "forId": step.id,
                        "value": given.value,
                        "comment": given.comment,
                    }
                steps.append(data)
            stored = store.thread_elements(session, thread_id=thread_id)
            stored.sort(key=lambda e: str(e.data.get("createdAt") or ""))
            elements = [self._element_dict(e) for e in stored]
            return _thread(row, steps, elements)

        return await self._read(load)

    # --- steps --------------------------------------------------------------------------------

    @queue_until_user_message()
    async def create_step(self, step_dict: StepDict) -> None:
        step = dict(step_dict)
        await self._write(lambda s: store.upsert_step(s, step=step))

    @queue_until_user_message()
    async def update_step(self, step_dict: StepDict) -> None:
        step = dict(step_dict)
        await self._write(lambda s: store.upsert_step(s, step=step))

    @queue_until_user_message()
    async def delete_step(self, step_id: str) -> None:
        await self._write(lambda s: store.delete_step(s, step_id=step_id))

    async def get_favorite_steps(self, user_id: str) -> list[StepDict]:
        rows = await self._read(lambda s: store.favorite_steps(s, user_id=user_id))
        return [row.data for row in rows]  # type: ignore[misc]

    # --- elements -----------------------------------------------------------------------------

    @queue_until_user_message()
    async def create_element(self, element: Element) -> None:
        # Chainlit's element has no time of its own: this one orders a thread's charts.
        data = {**element.to_dict(), "createdAt": utc_now()}
        content = _content_of(element)
        await self._write(
            lambda s: store.add_element(
                s,
                element_id=element.id,
                thread_id=element.thread_id,
                for_id=element.for_id,
                mime=element.mime,
                data=data,
                content=content,
            )
        )

    async def get_element(self, thread_id: str, element_id: str) -> ElementDict | None:
        row = await self._read(lambda s: store.get_element(s, element_id=element_id))
        if row is None or row.thread_id != thread_id:
            return None
        return self._element_dict(row)

    @queue_until_user_message()
    async def delete_element(self, element_id: str, thread_id: str | None = None) -> None:
        await self._write(lambda s: store.delete_element(s, element_id=element_id))

    def _element_dict(self, row: store.ChatElement) -> ElementDict:
        data: Any = dict(row.data)
        if row.content is not None:
            # Served by the chat itself, to the thread's author only (see mount.py).
            data.update(url=self._element_url(row.id), chainlitKey=None, path=None)
        return data

    # --- feedback -----------------------------------------------------------------------------

    async def upsert_feedback(self, feedback: Feedback) -> str:
        feedback_id = feedback.id or str(uuid.uuid4())

        def save(session: Session) -> str:
            thread_id = feedback.threadId
            if thread_id is None:
                step = session.get(store.ChatStep, feedback.forId)
                thread_id = step.thread_id if step else None
            if thread_id is None:
                raise ValueError(f"no thread for the rated message {feedback.forId}")
            store.upsert_feedback(
                session,
                feedback_id=feedback_id,
                for_id=feedback.forId,
                thread_id=thread_id,
                value=int(feedback.value),
                comment=feedback.comment,
            )
            return feedback_id

        return await self._write(save)

    async def delete_feedback(self, feedback_id: str) -> bool:
        return await self._write(lambda s: store.delete_feedback(s, feedback_id=feedback_id))

    # --- the rest of the interface ------------------------------------------------------------

    async def build_debug_url(self) -> str:
        return ""

    async def close(self) -> None:
        self._writer.shutdown(wait=True)


def element_content(engine: Engine, element_id: str) -> tuple[store.ChatElement, str] | None:
    """A stored element and the identifier of its thread's author, for serving it."""
    with session_scope(engine) as session:
        row = store.get_element(session, element_id=element_id)
        if row is None or row.content is None:
            return None
        thread = store.get_thread(session, thread_id=row.thread_id)
        user = session.get(store.ChatUser, thread.user_id) if thread and thread.user_id else None
        return row, (user.identifier if user else "")


def _persisted(row: store.ChatUser) -> PersistedUser:
    return PersistedUser(
        id=row.id,
        identifier=row.identifier,
        metadata=row.meta,
        createdAt=row.created_at.isoformat(),
    )


def _thread(row: store.ChatThread, steps: list[Any], elements: list[Any]) -> ThreadDict:
    return {
        "id": row.id,
        "createdAt": row.created_at.isoformat(),
        "name": row.name,
        "userId": row.user_id,
        "userIdentifier": row.user_identifier,
        "tags": row.tags,
        "metadata": row.meta,
        "steps": steps,
        "elements": elements,
    }


def _content_of(element: Element) -> bytes | None:
    content = element.content
    if content is None and element.path:
        path = Path(element.path)
        if path.is_file() and path.stat().st_size <= MAX_ELEMENT_BYTES:
            content = path.read_bytes()
    if isinstance(content, str):
        content = content.encode()
    if content is not None and len(content) > MAX_ELEMENT_BYTES:
        return None
    return content
