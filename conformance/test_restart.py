"""Durability: everything reads back the same after the server is killed or stopped and restarted."""

from __future__ import annotations

import signal

import openai
import pytest

from conftest import start_waiting_weather_call, MODEL, WEATHER_TOOL, token, user_message, wait_for, wait_for_session_status


def _snapshot(client, session_id: str, agent_id: str) -> dict:
    sessions = client.beta.agents.sessions
    turns = [t.to_dict() for t in sessions.turns.list(session_id, order="asc", limit=100)]
    return {
        "agent": client.beta.agents.retrieve(agent_id).to_dict(),
        "session": sessions.retrieve(session_id).to_dict(),
        "items": [i.to_dict() for i in sessions.items.list(session_id, order="asc", limit=100)],
        "turns": turns,
        "turn_items": {
            t["id"]: [i.to_dict() for i in sessions.turns.items.list(t["id"], session_id=session_id, order="asc", limit=100)]
            for t in turns
        },
        "turn_retrieved": [sessions.turns.retrieve(t["id"], session_id=session_id).to_dict() for t in turns],
    }


def _tool_turn(client, scripted, session_id: str) -> str:
    tok = token()
    scripted.add(
        {
            "type": "response",
            "match": {"contains": tok},
            "outputs": [{"type": "function_call", "name": "get_weather", "arguments": '{"city":"Bern"}', "call_id": "call_" + tok}],
        },
        {"type": "response", "match": {"contains": tok}, "outputs": [{"type": "message", "text": f"Bern is mild ({tok})."}]},
    )
    with client.beta.agents.sessions.stream(
        session_id, input=f"{tok} weather in Bern?", tool_handlers={"get_weather": lambda args: {"temp_c": 12}}
    ) as stream:
        result = stream.get_final_result()
    assert result.output_text == f"Bern is mild ({tok})."
    return result.turn_id


def test_restart_after_sigkill_and_sigterm(cma_factory, scripted):
    server = cma_factory()
    client = server.client()
    agent = client.beta.agents.create(model=MODEL, name="durable", tools=[WEATHER_TOOL], metadata={"k": "v"})
    tok = token()
    scripted.add(
        {
            "type": "response",
            "match": {"contains": tok},
            "outputs": [
                {"type": "reasoning", "summary": ["Need the weather"], "encrypted_content": "gAAA-enc"},
                {"type": "function_call", "name": "get_weather", "arguments": '{"city":"Bern"}', "call_id": "call_r1"},
            ],
        },
        {"type": "response", "match": {"contains": tok}, "outputs": [{"type": "message", "text": "Bern: 12C."}]},
    )
    stream = client.beta.agents.sessions.create(
        agent_id=agent.id,
        environment={"type": "none"},
        input=f"{tok} weather in Bern?",
        metadata={"case": "restart"},
        stream=True,
        tool_handlers={"get_weather": lambda args: {"temp_c": 12}},
    )
    result = stream.get_final_result()
    assert result.output_text == "Bern: 12C."
    session_id = result.session_id
    before = _snapshot(client, session_id, agent.id)
    assert [i["type"] for i in before["items"]] == ["message", "reasoning", "function_call", "function_call_output", "message"]
    assert before["session"]["status"] == "idle"

    # Hard kill, then restart on the same data directory.
    code = server.stop(signal.SIGKILL)
    assert code == -signal.SIGKILL
    server.start()
    client = server.client()
    assert _snapshot(client, session_id, agent.id) == before

    # The session goes on: history (including the earlier tool call) reaches the model.
    turn2 = _tool_turn(client, scripted, session_id)
    body = [b for b in scripted.bodies_for(session_id) if "call_r1" in str(b.get("input"))][-1]
    assert any(i.get("type") == "function_call_output" and i.get("call_id") == "call_r1" for i in body["input"])
    assert any(i.get("type") == "reasoning" and i.get("encrypted_content") == "gAAA-enc" for i in body["input"])
    before = _snapshot(client, session_id, agent.id)
    assert len(before["turns"]) == 2 and before["turns"][1]["id"] == turn2

    # Graceful stop (SIGTERM) exits cleanly; everything reads back again.
    code = server.stop(signal.SIGTERM)
    assert code == 0
    server.start()
    client = server.client()
    assert _snapshot(client, session_id, agent.id) == before

    tok3 = token()
    with client.beta.agents.sessions.stream(session_id, input=f"{tok3} last") as stream:
        assert stream.get_final_result().output_text == f"Echo: {tok3} last"
    assert len(list(client.beta.agents.sessions.turns.list(session_id))) == 3


def test_restart_while_waiting_for_tool_result(cma_factory, scripted):
    server = cma_factory()
    client = server.client()
    tok, session, waiting = start_waiting_weather_call(client, scripted, "Kyiv", "call_wait_r", "Kyiv: 5C.")

    server.stop(signal.SIGKILL)
    server.start()
    client = server.client()
    after = client.beta.agents.sessions.retrieve(session.id)
    assert after.status == "requires_action"
    assert [a.to_dict() for a in after.required_actions] == [a.to_dict() for a in waiting.required_actions]
    action = after.required_actions[0]

    client.beta.agents.sessions.events.create(
        session.id,
        events=[{"type": "agent.session.input.tool_result", "turn_id": action.turn_id, "call_id": action.call_id, "success": True, "output": "5C"}],
    )
    wait_for_session_status(client, session.id, "idle")
    turn = client.beta.agents.sessions.turns.retrieve(action.turn_id, session_id=session.id)
    assert turn.status == "completed"
    last = list(client.beta.agents.sessions.items.list(session.id, limit=1))[0]
    assert last.type == "message" and last.role == "assistant" and last.content[0].text == "Kyiv: 5C."


def test_turn_interrupted_by_sigkill_is_finished_after_restart(cma_factory, scripted):
    """A turn that was streaming when the process died is not left in progress: after restart the
    interrupted message is incomplete, the turn runs to an end and the session is idle again."""
    server = cma_factory()
    client = server.client()
    session = client.beta.agents.sessions.create(agent={"model": MODEL}, environment={"type": "none"}, input="warm up " + token())
    wait_for_session_status(client, session.id, "idle")
    tok = token()
    scripted.add(
        {
            "type": "response",
            "match": {"contains": tok},
            "outputs": [{"type": "message", "text": "word " * 80}],
            "options": {"chunk_size": 2, "delay_ms": 50},
        }
    )
    client.beta.agents.sessions.events.create(session.id, events=[user_message(f"{tok} go")])
    wait_for(
        lambda: any(
            i.type == "message" and i.role == "assistant" and i.status == "in_progress"
            for i in client.beta.agents.sessions.items.list(session.id, limit=3)
        ),
        what="the answer to start streaming",
    )

    server.stop(signal.SIGKILL)
    server.start()
    client = server.client()
    wait_for_session_status(client, session.id, "idle")
    turns = list(client.beta.agents.sessions.turns.list(session.id, order="asc"))
    assert len(turns) == 2
    assert turns[1].status in ("completed", "failed", "cancelled")
    items = [i for i in client.beta.agents.sessions.items.list(session.id, order="asc") if i.turn_id == turns[1].id]
    assert all(i.status != "in_progress" for i in items), [(i.type, i.status) for i in items]
    assert items[0].role == "user"


def test_idempotency_key_survives_restart(cma_factory):
    server = cma_factory()
    client = server.client()
    session = client.beta.agents.sessions.create(agent={"model": MODEL}, environment={"type": "none"}, input="hi " + token())
    wait_for_session_status(client, session.id, "idle")
    tok = token()
    events = [user_message(f"{tok} once")]
    client.beta.agents.sessions.events.create(session.id, events=events, idempotency_key="k-" + tok)
    wait_for(lambda: len(list(client.beta.agents.sessions.turns.list(session.id))) == 2, what="the second turn")
    wait_for_session_status(client, session.id, "idle")

    server.stop(signal.SIGKILL)
    server.start()
    client = server.client()
    client.beta.agents.sessions.events.create(session.id, events=events, idempotency_key="k-" + tok)
    assert client.beta.agents.sessions.retrieve(session.id).status == "idle"
    assert len(list(client.beta.agents.sessions.turns.list(session.id))) == 2
    with pytest.raises(openai.BadRequestError):
        client.beta.agents.sessions.events.create(session.id, events=[user_message("other")], idempotency_key="k-" + tok)


@pytest.mark.skipif(__import__("shutil").which("bwrap") is None, reason="needs bubblewrap")
def test_hosted_workspace_survives_a_sigkill(cma_factory, scripted):
    import json

    def shell(command: str, call_id: str) -> dict:
        return {"type": "function_call", "name": "shell_command", "arguments": json.dumps({"command": command}), "call_id": call_id}

    server = cma_factory()
    client = server.client()
    tok = token()
    scripted.add(
        {"type": "response", "match": {"contains": f"{tok} one"}, "outputs": [shell("echo before-crash > state.txt", f"call_a_{tok}")]},
        {"type": "response", "match": {"contains": f"{tok} one"}, "outputs": [{"type": "message", "text": "saved"}]},
        {"type": "response", "match": {"contains": f"{tok} two"}, "outputs": [shell("cat state.txt", f"call_b_{tok}")]},
        {"type": "response", "match": {"contains": f"{tok} two"}, "outputs": [{"type": "message", "text": "read"}]},
    )
    with client.beta.agents.sessions.stream(
        client.beta.agents.sessions.create(agent={"model": MODEL}, environment={"type": "openai_hosted"}).id, input=f"{tok} one"
    ) as stream:
        first = stream.get_final_result()
    assert first.output_text == "saved"

    assert server.stop(signal.SIGKILL) == -signal.SIGKILL
    server.start()
    client = server.client()
    with client.beta.agents.sessions.stream(first.session_id, input=f"{tok} two") as stream:
        assert stream.get_final_result().output_text == "read"
    outputs = [i.output for i in client.beta.agents.sessions.items.list(first.session_id, order="asc") if i.type == "command_execution"]
    assert outputs == ["", "before-crash\n"]
