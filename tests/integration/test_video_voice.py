"""A personal video's script speaks in the voice of the rep who records it: the lead's owner,
to whom its delivery task goes."""

from __future__ import annotations

from agent.models.offline import OfflineChatModel
from agent.runtime import Runtime
from agent.wiring import NurtureParts
from store.db import session_scope
from store.models import Lead
from tests.nurture_fakes import SENDER, SNIPPET
from tools.schemas import DecisionContext, LeadBrief, NextAction


def _lead(runtime: Runtime, owner: str | None) -> int:
    with session_scope(runtime.engine) as session:
        lead = Lead(email=f"mei{len(owner or '')}@harbour.example", first_name="Mei", owner=owner)
        session.add(lead)
        session.flush()
        assert lead.id is not None
        return lead.id


def _script(runtime: Runtime, lead_id: int) -> str:
    parts = NurtureParts(runtime, OfflineChatModel(), None)
    ctx = DecisionContext(
        lead=LeadBrief(lead_id=lead_id, first_name="Mei", company="Harbour Labs"),
        snippets=[SNIPPET],
        sender=SENDER,
        action=NextAction(action="send_video", stage="solution", reason="buyer cluster"),
    )
    return str(parts.draft(ctx)["body"])


def test_the_owner_introduces_the_video_the_sender_signs_without_one(runtime: Runtime) -> None:
    owned = _script(runtime, _lead(runtime, "Sofía Martínez"))
    assert "I'm Sofía Martínez from X Education" in owned
    assert "Priya Nair" not in owned
    unowned = _script(runtime, _lead(runtime, None))
    assert "I'm Priya Nair from X Education" in unowned
    # An owner kept as an address is not a name to say on camera.
    by_address = _script(runtime, _lead(runtime, "sofia@x-education.example"))
    assert "I'm Priya Nair from X Education" in by_address
