"""Drafting fixtures: one decision context per sample lead."""

from __future__ import annotations

import pytest

from tests.unit.drafting.helpers import LEADS, context_for
from tools.schemas import DecisionContext


@pytest.fixture(params=sorted(LEADS))
def lead_ctx(request: pytest.FixtureRequest) -> DecisionContext:
    return context_for(LEADS[request.param])
