"""POST /agents/sessions/{id}/events: 202 responses, steering and queueing, idempotency (§0, §4.6)."""

from __future__ import annotations

import openai
import pytest

from conftest import (
    MODEL,
    WEATHER_TOOL,
    create_idle_session,
    item_text,
    items_of,
    start_waiting_weather_call,
    token,
    turns_of,
    user_message,
    wait_for_turns_done,
)


def test_events_post_returns_202_without_body(client):
    session = create_idle_session(client)
    raw = client.beta.agents.sessions.events.with_raw_response.create(session.id, events=[user_message("hi " + token())])
    assert raw.http_response.status_code == 202
    assert raw.http_response.content == b""
    wait_for_turns_done(client, session.id, 2)


def test_message_during_tool_call_steers_the_running_turn(client, scripted):
    session = create_idle_session(client, agent={"model": MODEL, "tools": [WEATHER_TOOL]})
    turns_before = len(turns_of(client, session.id))
    tok = token()
    steer_text = f"{tok} steer: and London too?"
    scripted.add(
        {
            "type": "response",
            "match": {"contains": tok},
            "outputs": [{"type": "function_call", "name": "get_weather", "arguments": '{"city":"Paris"}', "call_id": "call_steer_1"}],
        },
        {"type": "response", "match": {"contains": tok}, "outputs": [{"type": "message", "text": "Paris is sunny; London is grey."}]},
    )

    def get_weather(args):
        # While the turn waits for this call, another message arrives.
        client.beta.agents.sessions.events.create(session.id, events=[user_message(steer_text)])
        return "sunny"

    with client.beta.agents.sessions.stream(session.id, input=f"{tok} weather in Paris?", tool_handlers={"get_weather": get_weather}) as stream:
        result = stream.get_final_result()
    assert result.output_text == "Paris is sunny; London is grey."

    # One new turn, holding both user messages.
    turns = turns_of(client, session.id)
    assert len(turns) == turns_before + 1
    assert turns[-1].id == result.turn_id and turns[-1].status == "completed"
    items = [i for i in items_of(client, session.id) if i.turn_id == result.turn_id]
    users = [i for i in items if i.type == "message" and i.role == "user"]
    assert [item_text(u) for u in users] == [f"{tok} weather in Paris?", steer_text]
    assert [i.type for i in items] == ["message", "function_call", "function_call_output", "message", "message"]

    # The steering message reached the model in the same turn, after the tool output.
    bodies = [b for b in scripted.bodies_for(session.id) if tok in str(b.get("input"))]
    assert len(bodies) == 2
    last_input = bodies[1]["input"]
    kinds = [(i.get("type"), i.get("role")) for i in last_input]
    i_output = kinds.index(("function_call_output", None))
    assert steer_text in str(last_input[i_output + 1 :])


def test_message_while_waiting_for_tool_result_joins_the_turn(client, scripted):
    tok, session, waiting = start_waiting_weather_call(client, scripted, "Lima", "call_wait_1", "Done.")
    turn_id = waiting.required_actions[0].turn_id
    client.beta.agents.sessions.events.create(session.id, events=[user_message(f"{tok} extra detail")])
    # Still waiting for the tool result: the message did not start another turn.
    assert len(turns_of(client, session.id)) == 1
    client.beta.agents.sessions.events.create(
        session.id,
        events=[{"type": "agent.session.input.tool_result", "turn_id": turn_id, "call_id": "call_wait_1", "success": True, "output": "warm"}],
    )
    turns = wait_for_turns_done(client, session.id, 1)
    assert [t.id for t in turns] == [turn_id]
    users = [i for i in items_of(client, session.id) if i.type == "message" and i.role == "user"]
    assert [u.turn_id for u in users] == [turn_id, turn_id]


def test_message_while_idle_starts_a_new_turn(client):
    session = create_idle_session(client)
    first_turns = turns_of(client, session.id)
    assert len(first_turns) == 1
    tok = token()
    client.beta.agents.sessions.events.create(session.id, events=[user_message(f"{tok} next")])
    turns = wait_for_turns_done(client, session.id, 2)
    assert len(turns) == 2
    assert turns[0].id == first_turns[0].id
    new_turn = turns[1]
    assert new_turn.status == "completed"
    items = [i for i in items_of(client, session.id) if i.turn_id == new_turn.id]
    assert [(i.role, item_text(i)) for i in items] == [("user", f"{tok} next"), ("assistant", f"Echo: {tok} next")]


def test_idempotency_key_deduplicates(client):
    session = create_idle_session(client)
    tok = token()
    key = "idem-" + tok
    events = [user_message(f"{tok} only once")]
    client.beta.agents.sessions.events.create(session.id, events=events, idempotency_key=key)
    client.beta.agents.sessions.events.create(session.id, events=events, idempotency_key=key)
    wait_for_turns_done(client, session.id, 2)
    # A replay after the turn ended is still a no-op.
    client.beta.agents.sessions.events.create(session.id, events=events, idempotency_key=key)

    assert len(turns_of(client, session.id)) == 2
    texts = [item_text(i) for i in items_of(client, session.id) if i.type == "message" and i.role == "user"]
    assert texts.count(f"{tok} only once") == 1

    # The same key with a different body is rejected.
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.beta.agents.sessions.events.create(session.id, events=[user_message(f"{tok} different")], idempotency_key=key)
    err = excinfo.value
    assert err.status_code == 400
    assert set(err.response.json()["error"]) >= {"message", "type", "param", "code"}
    assert len(turns_of(client, session.id)) == 2

    # A new key is a new request.
    client.beta.agents.sessions.events.create(session.id, events=events, idempotency_key="idem2-" + tok)
    wait_for_turns_done(client, session.id, 3)
    texts = [item_text(i) for i in items_of(client, session.id) if i.type == "message" and i.role == "user"]
    assert texts.count(f"{tok} only once") == 2
