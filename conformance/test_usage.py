"""Token usage on turns and sessions, and the model requests cma sends (§9.2, §9.3 TokenUsage)."""

from __future__ import annotations

from conftest import MODEL, token, turns_of, wait_for_turns_done, user_message


def _assert_usage_shape(usage) -> None:
    assert usage is not None
    d = usage.to_dict()
    assert set(d) >= {"input_tokens", "input_tokens_details", "output_tokens", "output_tokens_details", "total_tokens"}
    assert set(d["input_tokens_details"]) >= {"cached_tokens"}
    assert set(d["output_tokens_details"]) >= {"reasoning_tokens"}
    assert usage.input_tokens > 0
    assert usage.output_tokens > 0
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert 0 <= usage.input_tokens_details.cached_tokens <= usage.input_tokens


def test_usage_and_prompt_cache(client, scripted):
    tok = token()
    stream = client.beta.agents.sessions.create(
        agent={"model": MODEL}, environment={"type": "none"}, input=f"{tok} first question", stream=True
    )
    events = list(stream)
    session_id = events[0].session.id
    completed = [e for e in events if e.type == "agent.session.turn.completed"]
    assert len(completed) == 1
    _assert_usage_shape(completed[0].turn.usage)
    if completed[0].usage is not None:
        assert completed[0].usage.to_dict() == completed[0].turn.usage.to_dict()

    client.beta.agents.sessions.events.create(session_id, events=[user_message(f"{tok} second question")])
    turns = wait_for_turns_done(client, session_id, 2)
    first, second = turns
    _assert_usage_shape(first.usage)
    _assert_usage_shape(second.usage)
    assert first.usage.input_tokens_details.cached_tokens == 0
    # The second request starts with the whole first exchange: a prompt-cache hit.
    assert second.usage.input_tokens_details.cached_tokens > 0

    session = client.beta.agents.sessions.retrieve(session_id)
    _assert_usage_shape(session.usage)
    for field in ("input_tokens", "output_tokens", "total_tokens"):
        assert getattr(session.usage, field) == getattr(first.usage, field) + getattr(second.usage, field)
    assert (
        session.usage.input_tokens_details.cached_tokens
        == first.usage.input_tokens_details.cached_tokens + second.usage.input_tokens_details.cached_tokens
    )

    # The model requests: prompt_cache_key is the session ID, nothing stored, streamed.
    bodies = scripted.bodies_for(session_id)
    assert len(bodies) == 2
    for body in bodies:
        assert body["prompt_cache_key"] == session_id
        assert body["store"] is False
        assert body["stream"] is True
        assert body["model"] == MODEL
    # The first request's input is a prefix of the second's.
    assert bodies[1]["input"][: len(bodies[0]["input"])] == bodies[0]["input"]
    assert len(bodies[1]["input"]) > len(bodies[0]["input"])


def test_scripted_usage_is_reported(client, scripted):
    tok = token()
    scripted.add(
        {
            "type": "response",
            "match": {"contains": tok},
            "outputs": [{"type": "message", "text": "ok"}],
            "usage": {"input_tokens": 120, "cached_tokens": 100, "output_tokens": 7, "reasoning_tokens": 3},
        }
    )
    result = client.beta.agents.sessions.create(
        agent={"model": MODEL}, environment={"type": "none"}, input=f"{tok} hi", stream=True
    ).get_final_result()
    usage = result.turn.usage
    assert usage.to_dict() == {
        "input_tokens": 120,
        "input_tokens_details": {"cached_tokens": 100},
        "output_tokens": 7,
        "output_tokens_details": {"reasoning_tokens": 3},
        "total_tokens": 127,
    }
    assert client.beta.agents.sessions.retrieve(result.session_id).usage.to_dict() == usage.to_dict()
    assert turns_of(client, result.session_id)[0].usage.to_dict() == usage.to_dict()
