"""Model provider failures end the turn with turn.failed, then idle (§9.3 SessionTurnError, §11.3)."""

from __future__ import annotations

import pytest
from openai.lib.beta.agents import AgentTurnResultError

from conftest import create_idle_session, token, wait_for_session_status


def _run_turn(client, session_id: str, text: str) -> list:
    with client.beta.agents.sessions.stream(session_id, input=text) as stream:
        return list(stream)


def _assert_failed(events: list, code: str):
    types = [e.type for e in events]
    assert "agent.session.turn.failed" in types, types
    assert "agent.session.turn.completed" not in types
    i_failed = types.index("agent.session.turn.failed")
    failed = events[i_failed]
    assert failed.turn.status == "failed"
    assert failed.turn.error is not None
    assert failed.turn.error.code == code
    assert isinstance(failed.turn.error.message, str) and failed.turn.error.message
    assert failed.turn_id == failed.turn.id
    # idle after the terminal turn event, and it is the last event.
    assert types[-1] == "agent.session.idle"
    assert i_failed < len(types) - 1
    # An `error` event, if sent, comes before turn.failed.
    for i, e in enumerate(events):
        if e.type == "error":
            assert i < i_failed
            assert e.error.type and e.error.message
    return failed


def test_model_auth_error_fails_the_turn(client, scripted):
    session = create_idle_session(client)
    tok = token()
    scripted.add({"type": "http_error", "status": 401, "match": {"contains": tok}})

    events = _run_turn(client, session.id, f"{tok} hello")
    failed = _assert_failed(events, "authentication_error")

    turn = client.beta.agents.sessions.turns.retrieve(failed.turn_id, session_id=session.id)
    assert turn.status == "failed"
    assert turn.error.code == "authentication_error"
    assert turn.completed_at is not None
    s = client.beta.agents.sessions.retrieve(session.id)
    assert s.status == "idle"

    # 401 is not retried: exactly one model request for this message.
    assert len([b for b in scripted.bodies_for(session.id) if tok in str(b.get("input"))]) == 1

    # The session takes later turns fine.
    tok2 = token()
    with client.beta.agents.sessions.stream(session.id, input=f"{tok2} again") as stream:
        result = stream.get_final_result()
    assert result.output_text == f"Echo: {tok2} again"
    assert result.turn.status == "completed"


#: A broken stream is sent again twice before the turn fails (docs/DECISIONS.md, Model requests).
ATTEMPTS = 3


def test_model_stream_error_fails_the_turn(client, scripted):
    session = create_idle_session(client)
    tok = token()
    scripted.add(*[{"type": "stream_error", "code": "server_error", "message": "boom", "match": {"contains": tok}}] * ATTEMPTS)

    events = _run_turn(client, session.id, f"{tok} hello")
    failed = _assert_failed(events, "server_error")
    assert client.beta.agents.sessions.turns.retrieve(failed.turn_id, session_id=session.id).error.code == "server_error"
    assert len([b for b in scripted.bodies_for(session.id) if tok in str(b.get("input"))]) == ATTEMPTS

    tok2 = token()
    with client.beta.agents.sessions.stream(session.id, input=f"{tok2} again") as stream:
        assert stream.get_final_result().output_text == f"Echo: {tok2} again"


def test_failed_turn_result_helper_raises(client, scripted):
    """get_final_result() reports a failed turn as AgentTurnResultError(reason='failed')."""
    tok = token()
    scripted.add(*[{"type": "stream_error", "code": "server_error", "message": "boom", "match": {"contains": tok}}] * ATTEMPTS)
    stream = client.beta.agents.sessions.create(agent={"model": "gpt-test-model"}, environment={"type": "none"}, input=f"{tok} x", stream=True)
    with pytest.raises(AgentTurnResultError) as excinfo:
        stream.get_final_result()
    assert excinfo.value.reason == "failed"
    assert excinfo.value.turn.error.code == "server_error"
    wait_for_session_status(client, excinfo.value.session_id, "idle")


def test_response_failed_mid_stream(client, scripted):
    """A response that ends with response.failed after some output fails the turn; partial output is not a final answer."""
    session = create_idle_session(client)
    tok = token()
    failing = {
        "type": "response",
        "match": {"contains": tok},
        "outputs": [{"type": "message", "text": "partial answer"}],
        "options": {"fail": {"code": "server_error", "message": "boom"}},
    }
    scripted.add(*[failing] * ATTEMPTS)
    events = _run_turn(client, session.id, f"{tok} hi")
    failed = _assert_failed(events, "server_error")
    for e in events:
        if e.type == "agent.session.turn.item.done" and e.item.type == "message":
            assert e.item.status != "completed" or e.item.phase == "commentary"
    assert client.beta.agents.sessions.retrieve(session.id).status == "idle"
    assert failed.turn.status == "failed"


def test_rate_limit_is_retried(client, scripted):
    """A 429 with Retry-After: 0 is retried, and the turn completes with the retried answer."""
    session = create_idle_session(client)
    tok = token()
    scripted.add(
        {"type": "http_error", "status": 429, "headers": {"retry-after": "0"}, "match": {"contains": tok}},
        {"type": "response", "match": {"contains": tok}, "outputs": [{"type": "message", "text": "after the retry"}]},
    )
    with client.beta.agents.sessions.stream(session.id, input=f"{tok} hi") as stream:
        result = stream.get_final_result()
    assert result.output_text == "after the retry"
    assert len([b for b in scripted.bodies_for(session.id) if tok in str(b.get("input"))]) == 2


def test_context_length_error_compacts_once_then_fails_the_turn(client, scripted):
    session = create_idle_session(client)
    tok = token()
    overflow = {
        "type": "http_error",
        "status": 400,
        "match": {"contains": tok},
        "body": {"error": {"message": "too long", "type": "invalid_request_error", "param": None, "code": "context_length_exceeded"}},
    }
    summary = {"type": "response", "match": {"contains": "Write a hand-off summary"}, "outputs": [{"type": "message", "text": f"SUMMARY {tok}"}]}
    # The overflow is answered by a compaction and one retry; a second overflow fails the turn.
    scripted.add(overflow, summary, overflow)
    events = _run_turn(client, session.id, f"{tok} hello")
    _assert_failed(events, "context_length_exceeded")
    bodies = [b for b in scripted.bodies_for(session.id) if tok in str(b.get("input"))]
    assert len(bodies) == 3
    assert "Write a hand-off summary" in str(bodies[1]["input"][-1]) and bodies[1]["tool_choice"] == "none"
    assert f"SUMMARY {tok}" in str(bodies[2]["input"])
    items = list(client.beta.agents.sessions.items.list(session.id, order="asc"))
    compactions = [i for i in items if i.type == "compaction"]
    assert len(compactions) == 1 and compactions[0].summary == f"SUMMARY {tok}"


def test_a_stream_broken_once_is_sent_again_and_the_turn_completes(client, scripted):
    """A connection reset mid-stream: the partial message ends `incomplete`, the request is sent
    again (without the partial output), and the turn completes with one final answer."""
    session = create_idle_session(client)
    tok = token()
    scripted.add(
        {"type": "response", "match": {"contains": tok}, "outputs": [{"type": "message", "text": "a partial answer that breaks"}], "options": {"chunk_size": 3, "disconnect_after_events": 7}},
        {"type": "response", "match": {"contains": tok}, "outputs": [{"type": "message", "text": f"whole answer {tok}"}]},
    )
    with client.beta.agents.sessions.stream(session.id, input=f"{tok} hi") as stream:
        result = stream.get_final_result()
    assert result.turn.status == "completed" and result.output_text == f"whole answer {tok}"
    bodies = [b for b in scripted.bodies_for(session.id) if tok in str(b.get("input"))]
    assert len(bodies) == 2 and bodies[0]["input"] == bodies[1]["input"]
    messages = [i for i in client.beta.agents.sessions.turns.items.list(result.turn.id, session_id=session.id, order="asc") if i.type == "message" and i.role == "assistant"]
    # The partial message (when it arrived before the reset) ends incomplete; one answer completes.
    assert [m.status for m in messages] in (["incomplete", "completed"], ["completed"])
