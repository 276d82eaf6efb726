"""The run log's line for an output event, built directly, is exactly the generic one."""

from __future__ import annotations

import json
import math

from hypothesis import given
from hypothesis import strategies as st

from opsforge.engine import StepOutput
from opsforge.engine.events import Event

floats = st.floats(allow_nan=True, allow_infinity=True) | st.just(1764000000.123456)


@given(
    run_id=st.text(),
    host=st.text(),
    step_id=st.text(),
    stream=st.sampled_from(["stdout", "stderr", "opsforge"]),
    text=st.text(),
    ts=floats,
)
def test_step_output_json_is_the_generic_json(
    run_id: str, host: str, step_id: str, stream: str, text: str, ts: float
) -> None:
    event = StepOutput(run_id=run_id, ts=ts, host=host, step_id=step_id, stream=stream, text=text)
    fast = event.to_json()
    assert fast == Event.to_json(event)
    back = json.loads(fast)
    assert back["text"] == text
    assert back["ts"] == (ts if math.isfinite(ts) else None)
