"""Client function tools: SDK tool handlers (§12.5), required actions and tool results (§4.6, §11.6)."""

from __future__ import annotations

import json

import openai
import pytest

from conftest import (
    MODEL,
    WEATHER_TOOL,
    start_waiting_weather_call,
    create_idle_session,
    item_text,
    items_of,
    token,
    user_message,
    wait_for_session_status,
)

HANDLER_RESULT = {"temp_c": 21, "sky": "sunny"}
HANDLER_OUTPUT = '{"temp_c":21,"sky":"sunny"}'  # the SDK sends a dict result as compact JSON


def _script_weather(scripted, tok: str, call_id: str, answer: str) -> None:
    scripted.add(
        {
            "type": "response",
            "match": {"contains": tok},
            "outputs": [{"type": "function_call", "name": "get_weather", "arguments": '{"city":"Paris"}', "call_id": call_id}],
        },
        {"type": "response", "match": {"contains": tok}, "outputs": [{"type": "message", "text": answer}]},
    )


def _function_call_outputs(body: dict) -> list[dict]:
    return [i for i in body.get("input", []) if i.get("type") == "function_call_output"]


def _assert_round_trip(client, scripted, session_id: str, turn_id: str, call_id: str, answer: str) -> None:
    # The model's second request carries the handler's output.
    bodies = [b for b in scripted.bodies_for(session_id) if any(i.get("call_id") == call_id for i in b.get("input", []))]
    assert len(bodies) == 1, f"expected one follow-up request with {call_id}, got {len(bodies)}"
    outputs = _function_call_outputs(bodies[0])
    assert [(o["call_id"], o["output"]) for o in outputs] == [(call_id, HANDLER_OUTPUT)]
    calls = [i for i in bodies[0]["input"] if i.get("type") == "function_call"]
    assert calls and calls[-1]["call_id"] == call_id and calls[-1]["name"] == "get_weather"

    # The turn's items, oldest first: user message, function_call, function_call_output, answer.
    items = [i for i in items_of(client, session_id) if i.turn_id == turn_id]
    assert [i.type for i in items] == ["message", "function_call", "function_call_output", "message"]
    assert items[0].role == "user"
    assert items[1].name == "get_weather" and items[1].call_id == call_id
    args = items[1].arguments
    assert (json.loads(args) if isinstance(args, str) else args) == {"city": "Paris"}
    assert items[2].call_id == call_id
    assert items[2].output == HANDLER_OUTPUT
    assert items[2].status == "completed"
    assert items[3].role == "assistant" and items[3].status == "completed"
    assert items[3].content[0].text == answer

    # The turn items endpoint lists the same items.
    turn_items = list(client.beta.agents.sessions.turns.items.list(turn_id, session_id=session_id, order="asc"))
    assert [i.id for i in turn_items] == [i.id for i in items]


def test_sessions_stream_with_tool_handler(client, scripted):
    session = create_idle_session(client, agent={"model": MODEL, "tools": [WEATHER_TOOL]})
    tok = token()
    _script_weather(scripted, tok, "call_stream_1", "It is sunny in Paris.")

    seen: list[dict] = []

    def get_weather(args):
        seen.append(args)
        return HANDLER_RESULT

    with client.beta.agents.sessions.stream(
        session.id, input=f"{tok} weather in Paris?", tool_handlers={"get_weather": get_weather}
    ) as stream:
        result = stream.get_final_result()

    assert seen == [{"city": "Paris"}]
    assert result.output_text == "It is sunny in Paris."
    assert result.turn.status == "completed"
    assert client.beta.agents.sessions.retrieve(session.id).status == "idle"
    _assert_round_trip(client, scripted, session.id, result.turn_id, "call_stream_1", "It is sunny in Paris.")


def test_create_stream_with_tool_handler(client, scripted):
    tok = token()
    _script_weather(scripted, tok, "call_create_1", "Sunny, 21 degrees.")
    seen: list[dict] = []

    def get_weather(args):
        seen.append(args)
        return HANDLER_RESULT

    stream = client.beta.agents.sessions.create(
        agent={"model": MODEL, "tools": [WEATHER_TOOL]},
        environment={"type": "none"},
        input=f"{tok} weather in Paris?",
        stream=True,
        tool_handlers={"get_weather": get_weather},
    )
    result = stream.get_final_result()

    assert seen == [{"city": "Paris"}]
    assert result.output_text == "Sunny, 21 degrees."
    assert result.turn.status == "completed"
    _assert_round_trip(client, scripted, result.session_id, result.turn_id, "call_create_1", "Sunny, 21 degrees.")


def test_function_call_without_handler_requires_action(client, scripted):
    tok, session, waiting = start_waiting_weather_call(client, scripted, "Oslo", "call_manual_1", "Oslo is cold.")

    assert len(waiting.required_actions) == 1
    action = waiting.required_actions[0]
    assert action.type == "function_call"
    assert action.name == "get_weather"
    assert action.call_id == "call_manual_1"
    args = action.arguments
    assert (json.loads(args) if isinstance(args, str) else args) == {"city": "Oslo"}
    turn = client.beta.agents.sessions.turns.retrieve(action.turn_id, session_id=session.id)
    assert turn.status == "waiting"

    # A result for a call that is not pending is rejected with the exact error the SDK relies on.
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.beta.agents.sessions.events.create(
            session.id,
            events=[
                {"type": "agent.session.input.tool_result", "turn_id": action.turn_id, "call_id": "call_nope", "success": True, "output": "x"}
            ],
        )
    err = excinfo.value
    assert err.status_code == 400
    assert err.body["code"] == "invalid_request_error"
    assert err.body["message"] == "Unknown pending tool call: call_nope"
    envelope = err.response.json()["error"]
    assert set(envelope) >= {"message", "type", "param", "code"}
    assert client.beta.agents.sessions.retrieve(session.id).status == "requires_action"

    # The real result resumes the turn.
    client.beta.agents.sessions.events.create(
        session.id,
        events=[
            {
                "type": "agent.session.input.tool_result",
                "turn_id": action.turn_id,
                "call_id": "call_manual_1",
                "success": True,
                "output": "-3C and snowing",
            }
        ],
    )
    idle = wait_for_session_status(client, session.id, "idle")
    assert idle.required_actions == []
    turn = client.beta.agents.sessions.turns.retrieve(action.turn_id, session_id=session.id)
    assert turn.status == "completed"
    items = [i for i in items_of(client, session.id) if i.turn_id == action.turn_id]
    assert [i.type for i in items] == ["message", "function_call", "function_call_output", "message"]
    assert items[2].output == "-3C and snowing"
    assert items[3].content[0].text == "Oslo is cold."

    follow_up = [b for b in scripted.bodies_for(session.id) if _function_call_outputs(b)]
    assert [(o["call_id"], o["output"]) for o in _function_call_outputs(follow_up[-1])] == [("call_manual_1", "-3C and snowing")]

    # Once resolved, the same call ID is no longer pending.
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.beta.agents.sessions.events.create(
            session.id,
            events=[
                {"type": "agent.session.input.tool_result", "turn_id": action.turn_id, "call_id": "call_manual_1", "success": True, "output": "again"}
            ],
        )
    assert excinfo.value.body["message"] == "Unknown pending tool call: call_manual_1"


def test_failed_tool_result_is_reported_to_the_model(client, scripted):
    """A handler exception becomes success=false with a generic error, and the turn goes on."""
    session = create_idle_session(client, agent={"model": MODEL, "tools": [WEATHER_TOOL]})
    tok = token()
    _script_weather(scripted, tok, "call_fail_1", "I could not get the weather.")

    def broken(args):
        raise RuntimeError("secret detail")

    with client.beta.agents.sessions.stream(session.id, input=f"{tok} weather?", tool_handlers={"get_weather": broken}) as stream:
        result = stream.get_final_result()
    assert result.output_text == "I could not get the weather."
    items = [i for i in items_of(client, session.id) if i.turn_id == result.turn_id]
    outputs = [i for i in items if i.type == "function_call_output"]
    assert len(outputs) == 1 and outputs[0].status == "failed"
    assert outputs[0].error == "Tool handler failed."
    body = [b for b in scripted.bodies_for(session.id) if _function_call_outputs(b)][-1]
    sent = _function_call_outputs(body)[0]["output"]
    assert "Tool handler failed." in json.dumps(sent)
    assert "secret detail" not in json.dumps(body)


def test_unknown_event_type_rejected(client):
    session = create_idle_session(client)
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.beta.agents.sessions.events.create(session.id, events=[{"type": "agent.session.input.bogus"}])
    assert excinfo.value.body["param"] is not None
    # A valid message afterwards still works.
    client.beta.agents.sessions.events.create(session.id, events=[user_message("still fine " + token())])


def test_tool_call_event_order(client, scripted):
    """The function_call is complete when first announced (item.added), the output is announced, and
    the turn then completes and the session goes idle (§11.3 invariants 2, 3 and 6)."""
    session = create_idle_session(client, agent={"model": MODEL, "tools": [WEATHER_TOOL]})
    tok = token()
    _script_weather(scripted, tok, "call_order_1", "Sunny.")
    with client.beta.agents.sessions.stream(
        session.id, input=f"{tok} weather?", tool_handlers={"get_weather": lambda args: HANDLER_RESULT}
    ) as stream:
        events = list(stream)
    types = [e.type for e in events]
    ids = [e.event_id for e in events]
    assert len(ids) == len(set(ids))

    root = next(e for e in events if e.type == "agent.session.turn.created")
    turn_id = root.turn_id

    i_call = next(
        i for i, e in enumerate(events) if e.type == "agent.session.turn.item.added" and e.item.type == "function_call"
    )
    call = events[i_call].item
    assert call.name == "get_weather" and call.call_id == "call_order_1" and call.turn_id == turn_id
    assert (json.loads(call.arguments) if isinstance(call.arguments, str) else call.arguments) == {"city": "Paris"}
    assert events[i_call].output_index is not None
    i_call_done = next(
        i for i, e in enumerate(events) if e.type == "agent.session.turn.item.done" and e.item.type == "function_call"
    )
    assert i_call < i_call_done
    assert events[i_call_done].item.status == "completed"
    i_output = next(
        i for i, e in enumerate(events) if e.type == "agent.session.turn.item.added" and e.item.type == "function_call_output"
    )
    output = events[i_output].item
    assert i_call < i_output
    assert output.call_id == "call_order_1" and output.turn_id == turn_id and output.output == HANDLER_OUTPUT
    assert events[i_output].output_index is None
    # A requires_action, if the server emitted one before the result arrived, lists the call.
    for e in events:
        if e.type == "agent.session.requires_action":
            assert [a.call_id for a in e.session.required_actions] == ["call_order_1"]
            assert e.session.status == "requires_action"
    i_answer = next(
        i for i, e in enumerate(events) if e.type == "agent.session.turn.item.done" and e.item.type == "message"
    )
    assert i_output < i_answer
    assert events[i_answer].item.phase in ("final_answer", None)
    assert events[i_answer].output_index > events[i_call].output_index
    assert types[-2:] == ["agent.session.turn.completed", "agent.session.idle"]
    assert events[-2].turn_id == turn_id and events[-2].turn.status == "completed"


def test_commentary_before_tool_call_is_not_the_final_answer(client, scripted):
    """A message in the same response as a function call is commentary; only the last answer counts."""
    tok = token()
    scripted.add(
        {
            "type": "response",
            "match": {"contains": tok},
            "outputs": [
                {"type": "message", "text": "Let me check the weather."},
                {"type": "function_call", "name": "get_weather", "arguments": '{"city":"Paris"}', "call_id": "call_comm_1"},
            ],
        },
        {"type": "response", "match": {"contains": tok}, "outputs": [{"type": "message", "text": "It is sunny."}]},
    )
    result = client.beta.agents.sessions.create(
        agent={"model": MODEL, "tools": [WEATHER_TOOL]},
        environment={"type": "none"},
        input=f"{tok} weather?",
        stream=True,
        tool_handlers={"get_weather": lambda args: "sunny"},
    ).get_final_result()
    assert result.output_text == "It is sunny."
    messages = [i for i in items_of(client, result.session_id) if i.type == "message" and i.role == "assistant"]
    assert [(item_text(m), m.phase) for m in messages] == [("Let me check the weather.", "commentary"), ("It is sunny.", "final_answer")]
