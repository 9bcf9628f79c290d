"""Hour bands against the send window, and which variants a touch on each channel carries."""

from __future__ import annotations

from datetime import time

import pytest

from tools.bandit.send_time import band_window, hour_band
from tools.bandit.trials import chosen_ids, fits
from tools.bandit.variants import VariantError
from tools.cadence import SendWindow


def test_a_band_narrows_the_window_and_never_widens_it() -> None:
    window = SendWindow(start=time(9), end=time(17), min_gap_days=3)
    inside = band_window(window, "13-15")
    assert inside is not None and (inside.start, inside.end) == (time(13), time(15))
    assert inside.min_gap_days == 3 and inside.weekdays_only
    overlap = band_window(window, "8-10")
    assert overlap is not None and (overlap.start, overlap.end) == (time(9), time(10))
    assert band_window(window, "18-20") is None
    assert hour_band("22-24") == (time(22), time(23, 59, 59))
    with pytest.raises(VariantError, match="START-END"):
        hour_band("late")


def test_variants_fit_the_channel_that_carries_them() -> None:
    assert fits("subject", "{topic}", "email") and not fits("subject", "{topic}", "sdr_task")
    assert fits("cta", "Reply", None)  # a draft not queued yet
    assert fits("format", "video", "video") and not fits("format", "video", "email")
    assert fits("format", "text", "email")
    assert fits("send_hour_band", "9-11", "sdr_task")
    assert chosen_ids([{"assignment_id": 4}, {"value": "x"}, {"assignment_id": "7"}]) == [4, 7]
    assert chosen_ids(None) == []
