"""Retrieve, update and delete of agents and sessions (§3, §4.2, §4.3, §4.5)."""

from __future__ import annotations

import openai
import pytest

from conftest import (
    MODEL,
    WEATHER_TOOL,
    create_idle_session,
    token,
    wait_for,
    wait_for_session_status,
)


def test_agent_create_retrieve_defaults(client):
    agent = client.beta.agents.create(model=MODEL)
    assert agent.object == "agent"
    assert agent.model == MODEL
    assert agent.name is None
    assert agent.metadata == {}
    assert agent.tools == []
    assert agent.service_tier == "auto"
    assert agent.text.format.type == "text"
    assert agent.text.verbosity == "medium"
    assert agent.multi_agent.enabled is False
    assert isinstance(agent.created_at, int) and isinstance(agent.updated_at, int)
    assert client.beta.agents.retrieve(agent.id).to_dict() == agent.to_dict()


def test_agent_update_semantics(client):
    agent = client.beta.agents.create(
        model=MODEL,
        name="Weather bot",
        instructions="Be brief.",
        metadata={"team": "a", "tier": "1"},
        tools=[WEATHER_TOOL],
        reasoning={"effort": "low"},
    )
    assert agent.name == "Weather bot"
    assert agent.instructions == "Be brief."
    assert [t.name for t in agent.tools] == ["get_weather"]
    assert agent.reasoning.effort == "low"

    # metadata is replaced wholesale; omitted fields stay unchanged.
    updated = client.beta.agents.update(agent.id, metadata={"team": "b"})
    assert updated.metadata == {"team": "b"}
    assert updated.name == "Weather bot"
    assert updated.instructions == "Be brief."
    assert updated.model == MODEL
    assert [t.name for t in updated.tools] == ["get_weather"]
    assert updated.reasoning.effort == "low"

    # model changes; nothing else does.
    updated = client.beta.agents.update(agent.id, model="gpt-other")
    assert updated.model == "gpt-other"
    assert updated.metadata == {"team": "b"} and updated.name == "Weather bot"

    # name: None clears the name; metadata None clears the metadata; tools None clears the tools.
    updated = client.beta.agents.update(agent.id, name=None)
    assert updated.name is None
    assert updated.instructions == "Be brief."
    updated = client.beta.agents.update(agent.id, metadata=None, tools=None)
    assert updated.metadata == {}
    assert updated.tools == []
    assert updated.model == "gpt-other"

    retrieved = client.beta.agents.retrieve(agent.id)
    assert retrieved.to_dict() == updated.to_dict()
    assert retrieved.updated_at >= agent.updated_at


def test_agent_delete(client):
    agent = client.beta.agents.create(model=MODEL)
    deleted = client.beta.agents.delete(agent.id)
    assert deleted.to_dict() == {"id": agent.id, "deleted": True, "object": "agent.deleted"}
    with pytest.raises(openai.NotFoundError):
        client.beta.agents.retrieve(agent.id)
    with pytest.raises(openai.NotFoundError):
        client.beta.agents.delete(agent.id)
    with pytest.raises(openai.NotFoundError):
        client.beta.agents.update(agent.id, name="x")
    assert agent.id not in [a.id for a in client.beta.agents.list(limit=100)]


def test_session_from_saved_agent(client):
    agent = client.beta.agents.create(model=MODEL, name="Saved", instructions="Saved instructions.", tools=[WEATHER_TOOL])
    session = client.beta.agents.sessions.create(agent_id=agent.id, environment={"type": "none"}, input="hi " + token())
    assert session.object == "agent.session"
    assert session.agent.id == agent.id
    assert session.agent.model == MODEL
    assert session.agent.name == "Saved"
    assert [t.name for t in session.agent.tools] == ["get_weather"]
    assert session.environment.type == "none"
    # Overrides apply to the session only.
    session2 = client.beta.agents.sessions.create(
        agent_id=agent.id, agent={"model": "gpt-override"}, environment={"type": "none"}, input="hi " + token()
    )
    assert session2.agent.model == "gpt-override"
    assert client.beta.agents.retrieve(agent.id).model == MODEL
    # Later changes to the agent's name do not affect the session.
    client.beta.agents.update(agent.id, name="Renamed")
    assert client.beta.agents.sessions.retrieve(session.id).agent.name == "Saved"


def test_session_retrieve_update(client, scripted):
    session = create_idle_session(client, metadata={"a": "1", "b": "2"})
    assert session.metadata == {"a": "1", "b": "2"}
    assert session.status == "idle"
    assert session.required_actions == []
    assert session.vault_ids == []

    # metadata replaced; agent untouched.
    updated = client.beta.agents.sessions.update(session.id, metadata={"c": "3"})
    assert updated.metadata == {"c": "3"}
    assert updated.agent.model == MODEL
    assert updated.agent.tools == []

    # model and tools; metadata untouched when omitted.
    updated = client.beta.agents.sessions.update(session.id, agent={"model": "gpt-updated", "tools": [WEATHER_TOOL]})
    assert updated.agent.model == "gpt-updated"
    assert [t.name for t in updated.agent.tools] == ["get_weather"]
    assert updated.metadata == {"c": "3"}
    assert client.beta.agents.sessions.retrieve(session.id).to_dict() == updated.to_dict()

    # The new settings apply to the next model call.
    tok = token()
    client.beta.agents.sessions.events.create(
        session.id, events=[{"type": "agent.session.input.message", "input": [{"role": "user", "content": [{"type": "input_text", "text": tok}]}]}]
    )
    wait_for(lambda: any(tok in str(b.get("input")) for b in scripted.bodies_for(session.id)), what="the model request")
    body = [b for b in scripted.bodies_for(session.id) if tok in str(b.get("input"))][-1]
    assert body["model"] == "gpt-updated"
    # The client's tools, then the runtime's own history search.
    assert [t["name"] for t in body["tools"]] == ["get_weather", "search_session_history"]
    wait_for_session_status(client, session.id, "idle")

    # tools None clears them, metadata None clears it.
    updated = client.beta.agents.sessions.update(session.id, agent={"tools": None}, metadata=None)
    assert updated.agent.tools == []
    assert updated.metadata == {}
    assert updated.agent.model == "gpt-updated"


def test_session_delete(client):
    session = create_idle_session(client)
    deleted = client.beta.agents.sessions.delete(session.id)
    assert deleted.to_dict() == {"id": session.id, "deleted": True, "object": "agent.session.deleted"}
    with pytest.raises(openai.NotFoundError):
        client.beta.agents.sessions.retrieve(session.id)
    with pytest.raises(openai.NotFoundError):
        client.beta.agents.sessions.items.list(session.id)
    with pytest.raises(openai.NotFoundError):
        client.beta.agents.sessions.delete(session.id)
    assert session.id not in [s.id for s in client.beta.agents.sessions.list(limit=100)]


def test_delete_running_session_conflicts(client, scripted):
    session = create_idle_session(client)
    tok = token()
    scripted.add(
        {
            "type": "response",
            "match": {"contains": tok},
            "outputs": [{"type": "message", "text": "slow " * 40}],
            "options": {"chunk_size": 2, "delay_ms": 100},
        }
    )
    client.beta.agents.sessions.events.create(
        session.id, events=[{"type": "agent.session.input.message", "input": [{"role": "user", "content": [{"type": "input_text", "text": tok}]}]}]
    )
    # Wait until the model is streaming (an assistant message is in progress).
    wait_for(
        lambda: any(
            i.type == "message" and i.role == "assistant" and i.status == "in_progress"
            for i in client.beta.agents.sessions.items.list(session.id, order="desc", limit=5)
        ),
        what="the slow answer to start streaming",
    )

    with pytest.raises(openai.ConflictError) as excinfo:
        client.beta.agents.sessions.delete(session.id)
    err = excinfo.value
    assert err.status_code == 409
    assert err.response.headers.get("x-should-retry") == "false"
    envelope = err.response.json()["error"]
    assert set(envelope) >= {"message", "type", "param", "code"}
    assert client.beta.agents.sessions.retrieve(session.id).status == "in_progress"

    client.beta.agents.sessions.events.create(session.id, events=[{"type": "agent.session.input.cancel"}])
    wait_for_session_status(client, session.id, "idle")
    deleted = client.beta.agents.sessions.delete(session.id)
    assert deleted.deleted is True
    with pytest.raises(openai.NotFoundError):
        client.beta.agents.sessions.retrieve(session.id)


def test_session_update_reasoning_service_tier_prompt_cache(client, scripted):
    session = create_idle_session(
        client, agent={"model": MODEL, "reasoning": {"effort": "high"}, "service_tier": "flex"}, prompt_cache_options={"ttl": "12h"}
    )
    assert session.agent.reasoning.effort == "high"
    assert session.agent.service_tier == "flex"
    assert session.prompt_cache_options.ttl == "12h"
    first_turn = next(iter(client.beta.agents.sessions.turns.list(session.id)))
    assert first_turn.prompt_cache_options.ttl == "12h"

    # Omitted agent fields keep their values.
    updated = client.beta.agents.sessions.update(session.id, agent={"reasoning": {"effort": "low"}})
    assert updated.agent.reasoning.effort == "low"
    assert updated.agent.service_tier == "flex"
    assert updated.prompt_cache_options.ttl == "12h"
    # null resets: effort to the model default, service tier to auto, the cache TTL cleared.
    updated = client.beta.agents.sessions.update(
        session.id, agent={"reasoning": {"effort": None}, "service_tier": None}, prompt_cache_options=None
    )
    assert updated.agent.reasoning.effort is None
    assert updated.agent.service_tier == "auto"
    assert updated.prompt_cache_options is None
    assert updated.agent.model == MODEL


def test_session_agent_id_with_tools_null_clears_tools(client):
    agent = client.beta.agents.create(model=MODEL, tools=[WEATHER_TOOL], instructions="Saved.")
    session = client.beta.agents.sessions.create(
        agent_id=agent.id, agent={"tools": None}, environment={"type": "none"}, input="hi " + token()
    )
    assert session.agent.tools == []
    assert session.agent.instructions == "Saved."
    assert [t.name for t in client.beta.agents.retrieve(agent.id).tools] == ["get_weather"]
