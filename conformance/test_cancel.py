"""Cancelling a running turn with agent.session.input.cancel (§11.3 failure paths, §11.6)."""

from __future__ import annotations

import time

import openai
import pytest

from conftest import (
    create_idle_session,
    items_of,
    start_waiting_weather_call,
    token,
    user_message,
    wait_for,
    wait_for_session_status,
)


def _slow_step(tok: str) -> dict:
    # ~200 deltas of 2 characters, 50 ms apart: about 10 s if it were not cancelled.
    return {
        "type": "response",
        "match": {"contains": tok},
        "outputs": [{"type": "message", "text": "word " * 80}],
        "options": {"chunk_size": 2, "delay_ms": 50},
    }


def test_cancel_streaming_turn(client, scripted):
    session = create_idle_session(client)
    tok = token()
    scripted.add(_slow_step(tok))

    events = []
    cancelled_sent = False
    with client.beta.agents.sessions.stream(session.id, input=f"{tok} write a lot") as stream:
        for event in stream:
            events.append(event)
            if event.type == "agent.session.turn.output_text.delta" and not cancelled_sent:
                client.beta.agents.sessions.events.create(session.id, events=[{"type": "agent.session.input.cancel"}])
                cancelled_sent = True
    assert cancelled_sent, [e.type for e in events]

    types = [e.type for e in events]
    assert "agent.session.turn.cancelled" in types, types
    i_cancelled = types.index("agent.session.turn.cancelled")
    assert types[-1] == "agent.session.idle"
    assert "agent.session.idle" in types[i_cancelled + 1 :]
    assert "agent.session.turn.completed" not in types
    assert "agent.session.turn.failed" not in types
    cancelled = events[i_cancelled]
    turn_id = cancelled.turn_id
    assert cancelled.turn.status == "cancelled"
    assert cancelled.turn.id == turn_id
    # Far fewer deltas than the full response: the model stream was stopped.
    assert types.count("agent.session.turn.output_text.delta") < 150

    turn = client.beta.agents.sessions.turns.retrieve(turn_id, session_id=session.id)
    assert turn.status == "cancelled"
    assert turn.completed_at is not None
    assert turn.error is None
    session_now = client.beta.agents.sessions.retrieve(session.id)
    assert session_now.status == "idle"

    # The interrupted assistant message is not left in progress.
    for item in items_of(client, session.id):
        if item.turn_id == turn_id and item.type == "message" and item.role == "assistant":
            assert item.status != "in_progress"

    # The session takes a new turn afterwards.
    tok2 = token()
    with client.beta.agents.sessions.stream(session.id, input=f"{tok2} again") as stream:
        result = stream.get_final_result()
    assert result.output_text == f"Echo: {tok2} again"
    assert result.turn.status == "completed"
    assert result.turn_id != turn_id


def test_cancel_while_waiting_for_tool_result(client, scripted):
    tok, session, waiting = start_waiting_weather_call(client, scripted, "Rome", "call_cancel_1")
    turn_id = waiting.required_actions[0].turn_id

    client.beta.agents.sessions.events.create(session.id, events=[{"type": "agent.session.input.cancel"}])
    idle = wait_for_session_status(client, session.id, "idle")
    assert idle.required_actions == []
    assert client.beta.agents.sessions.turns.retrieve(turn_id, session_id=session.id).status == "cancelled"

    # The call can no longer receive a result.
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.beta.agents.sessions.events.create(
            session.id,
            events=[{"type": "agent.session.input.tool_result", "turn_id": turn_id, "call_id": "call_cancel_1", "success": True, "output": "x"}],
        )
    assert excinfo.value.body["message"] == "Unknown pending tool call: call_cancel_1"


def test_cancel_idle_session_is_harmless(client):
    session = create_idle_session(client)
    turns_before = [t.id for t in client.beta.agents.sessions.turns.list(session.id)]
    client.beta.agents.sessions.events.create(session.id, events=[{"type": "agent.session.input.cancel"}])
    assert client.beta.agents.sessions.retrieve(session.id).status == "idle"
    assert [t.id for t in client.beta.agents.sessions.turns.list(session.id)] == turns_before
    assert all(t.status == "completed" for t in client.beta.agents.sessions.turns.list(session.id))


def test_early_cancel_leaves_the_session_idle(client, scripted):
    """Cancel a turn as soon as its message is accepted; the session must read back idle every time.

    The 202 of the cancel request means its write is committed, and a terminal turn status means
    the turn loop's write is committed, so one read after both decides. The race does not show on
    every attempt (about one in five here), so the test tries up to 60 turns and stops at the first
    session that reads back anything but idle."""
    session = create_idle_session(client)
    for attempt in range(60):
        tok = token()
        scripted.add(_slow_step(tok))
        client.beta.agents.sessions.events.create(session.id, events=[user_message(f"{tok} attempt {attempt}")])
        client.beta.agents.sessions.events.create(session.id, events=[{"type": "agent.session.input.cancel"}])

        def ended_turn():
            latest = client.beta.agents.sessions.turns.list(session.id, limit=1).data[0]
            return latest if latest.status in ("cancelled", "completed", "failed") else None

        turn = wait_for(ended_turn, interval=0.01, what="the turn to end")
        assert turn.status == "cancelled"
        status = client.beta.agents.sessions.retrieve(session.id).status
        assert status == "idle", f"attempt {attempt}: turn {turn.id} is cancelled but the session reads back {status!r}"
