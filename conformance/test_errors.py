"""Errors: authentication, not found, validation, the error envelope (§0, §3.1, §4.1)."""

from __future__ import annotations

import openai
import pytest
from openai import OpenAI

from conftest import MODEL, create_idle_session, http_json, token

ENVELOPE_KEYS = {"message", "type", "param", "code"}


def _assert_envelope(payload) -> dict:
    assert isinstance(payload, dict) and set(payload) == {"error"}, payload
    error = payload["error"]
    assert set(error) == ENVELOPE_KEYS, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["type"], str) and error["type"]
    return error


def _bad_request(call) -> openai.BadRequestError:
    with pytest.raises(openai.BadRequestError) as excinfo:
        call()
    err = excinfo.value
    assert err.status_code == 400
    error = _assert_envelope(err.response.json())
    # The SDK exposes the inner error object as `body`, and its fields as attributes.
    assert err.body == error
    assert err.param == error["param"] and err.code == error["code"]
    return err


def test_wrong_api_key(cma):
    bad = OpenAI(api_key="cma_sk_wrong" + token(), base_url=cma.base_url, max_retries=0, timeout=10)
    with pytest.raises(openai.AuthenticationError) as excinfo:
        bad.beta.agents.list()
    err = excinfo.value
    assert err.status_code == 401
    error = _assert_envelope(err.response.json())
    assert error["code"]
    bad.close()


def test_missing_api_key(cma):
    status, body, _ = http_json("GET", cma.base_url + "/agents", headers={"OpenAI-Beta": "agents=v1"})
    assert status == 401
    _assert_envelope(body)
    status, body, _ = http_json(
        "GET", cma.base_url + "/agents", headers={"OpenAI-Beta": "agents=v1", "Authorization": "Basic abc"}
    )
    assert status == 401
    _assert_envelope(body)


def test_not_found(client):
    for call in (
        lambda: client.beta.agents.retrieve("agent_does_not_exist"),
        lambda: client.beta.agents.sessions.retrieve("sess_does_not_exist"),
        lambda: client.beta.agents.sessions.update("sess_does_not_exist", metadata={}),
        lambda: client.beta.agents.sessions.events.create("sess_does_not_exist", events=[{"type": "agent.session.input.cancel"}]),
        lambda: client.beta.agents.sessions.turns.list("sess_does_not_exist"),
        lambda: client.beta.agents.sessions.create(agent_id="agent_does_not_exist", environment={"type": "none"}, input="hi"),
    ):
        with pytest.raises(openai.NotFoundError) as excinfo:
            call()
        assert excinfo.value.status_code == 404
        _assert_envelope(excinfo.value.response.json())

    session = create_idle_session(client)
    with pytest.raises(openai.NotFoundError):
        client.beta.agents.sessions.turns.retrieve("turn_does_not_exist", session_id=session.id)
    with pytest.raises(openai.NotFoundError):
        client.beta.agents.sessions.turns.items.list("turn_does_not_exist", session_id=session.id)
    # A turn of another session is not found in this one.
    other = create_idle_session(client)
    other_turn = next(iter(client.beta.agents.sessions.turns.list(other.id))).id
    with pytest.raises(openai.NotFoundError):
        client.beta.agents.sessions.turns.retrieve(other_turn, session_id=session.id)


def test_missing_model_in_agent_create(client):
    err = _bad_request(
        lambda: client.post("/agents", cast_to=object, body={"name": "no model"}, options={"headers": {"OpenAI-Beta": "agents=v1"}})
    )
    assert err.param == "model"


def test_session_without_model_or_agent(client):
    err = _bad_request(lambda: client.beta.agents.sessions.create(agent={}, environment={"type": "none"}, input="hi"))
    assert err.param is not None and "model" in err.param
    err = _bad_request(lambda: client.beta.agents.sessions.create(agent={"model": MODEL}, environment={"type": "none"}))
    assert err.param == "input"


@pytest.mark.parametrize("limit", [0, 101])
def test_invalid_limit(client, limit):
    err = _bad_request(lambda: client.beta.agents.list(limit=limit))
    assert err.param == "limit"


def test_invalid_limit_on_session_lists(client):
    session = create_idle_session(client)
    assert _bad_request(lambda: client.beta.agents.sessions.list(limit=0)).param == "limit"
    assert _bad_request(lambda: client.beta.agents.sessions.items.list(session.id, limit=101)).param == "limit"
    assert _bad_request(lambda: client.beta.agents.sessions.turns.list(session.id, limit=0)).param == "limit"


def test_invalid_order(client):
    err = _bad_request(lambda: client.beta.agents.list(order="sideways"))  # type: ignore[arg-type]
    assert err.param == "order"


def test_unknown_top_level_field(client):
    err = _bad_request(lambda: client.beta.agents.create(model=MODEL, extra_body={"bogus_field": 1}))
    assert err.param == "bogus_field"
    err = _bad_request(
        lambda: client.beta.agents.sessions.create(
            agent={"model": MODEL}, environment={"type": "none"}, input="hi", extra_body={"another_unknown": True}
        )
    )
    assert err.param == "another_unknown"


def test_metadata_limits(client):
    too_many = {f"k{n}": "v" for n in range(17)}
    err = _bad_request(lambda: client.beta.agents.create(model=MODEL, metadata=too_many))
    assert err.param is not None and err.param.startswith("metadata")
    err = _bad_request(
        lambda: client.beta.agents.sessions.create(agent={"model": MODEL}, environment={"type": "none"}, input="hi", metadata=too_many)
    )
    assert err.param is not None and err.param.startswith("metadata")
    # 16 pairs are fine.
    agent = client.beta.agents.create(model=MODEL, metadata={f"k{n}": "v" for n in range(16)})
    assert len(agent.metadata) == 16
    err = _bad_request(lambda: client.beta.agents.create(model=MODEL, metadata={"k" * 65: "v"}))
    assert err.param is not None and err.param.startswith("metadata")
    err = _bad_request(lambda: client.beta.agents.create(model=MODEL, metadata={"k": "v" * 513}))
    assert err.param is not None and err.param.startswith("metadata")


def test_unavailable_environment_features(client):
    err = _bad_request(
        lambda: client.beta.agents.sessions.create(
            agent={"model": MODEL}, environment={"type": "openai_hosted", "skills": [{"type": "skill_reference", "skill_id": "skill_x"}]}, input="hi"
        )
    )
    assert err.code == "feature_not_available"
    assert err.param is not None and err.param.startswith("environment.skills")
    err = _bad_request(
        lambda: client.beta.agents.sessions.create(agent={"model": MODEL}, environment={"type": "self_hosted", "workspace_directory": "/w"}, input="hi")
    )
    assert err.code == "feature_not_available"
    assert err.param == "environment.type"


def test_mcp_tool_validation(client):
    # Reusable agents carry no credentials: authorization is a session-level field.
    mcp = {"type": "mcp", "server_label": "docs", "transport": {"type": "http", "server_url": "https://example.com/mcp", "authorization": "t"}}
    err = _bad_request(lambda: client.beta.agents.create(model=MODEL, tools=[mcp]))
    assert err.code == "unknown_parameter"
    assert err.param == "tools[0].transport.authorization"
    # Vault credentials are not available yet.
    mcp = {"type": "mcp", "server_label": "docs", "credential_id": "cred_1", "transport": {"type": "http", "server_url": "https://example.com/mcp"}}
    err = _bad_request(
        lambda: client.beta.agents.sessions.create(agent={"model": MODEL, "tools": [mcp]}, environment={"type": "none"}, input="hi")
    )
    assert err.code == "feature_not_available"
    assert err.param == "agent.tools[0].credential_id"
    # A stdio server in the session's environment needs a hosted one.
    mcp = {"type": "mcp", "server_label": "local", "connection_origin": "environment", "transport": {"type": "stdio", "command": "srv", "cwd": "/workspace"}}
    err = _bad_request(
        lambda: client.beta.agents.sessions.create(agent={"model": MODEL, "tools": [mcp]}, environment={"type": "none"}, input="hi")
    )
    assert err.param is not None and err.param.startswith("agent.tools[0]")


def test_stream_options_without_stream(client):
    err = _bad_request(
        lambda: client.beta.agents.sessions.create(
            agent={"model": MODEL}, environment={"type": "none"}, input="hi", stream_options={"include_obfuscation": False}
        )
    )
    assert err.param == "stream_options"


def test_malformed_json_body(cma):
    headers = {"Authorization": f"Bearer {cma.key}", "OpenAI-Beta": "agents=v1", "Content-Type": "application/json"}
    status, body, resp_headers = http_json("POST", cma.base_url + "/agents", body=b'{"model": "x",', headers=headers)
    assert status == 400
    assert resp_headers.get("content-type", "").startswith("application/json")
    _assert_envelope(body)
    status, body, _ = http_json("POST", cma.base_url + "/agents", body=b"[1, 2]", headers=headers)
    assert status == 400
    _assert_envelope(body)


def test_validation_errors_do_not_create_anything(client):
    before = len(list(client.beta.agents.sessions.list(limit=100)))
    _bad_request(
        lambda: client.beta.agents.sessions.create(agent={"model": MODEL}, environment={"type": "openai_hosted", "packages": {"python": ["--index-url=http://evil.example"]}}, input="hi")
    )
    _bad_request(lambda: client.beta.agents.sessions.create(agent={"model": MODEL}, environment={"type": "none"}, input="hi", extra_body={"zzz": 1}))
    assert len(list(client.beta.agents.sessions.list(limit=100))) == before


def test_rate_limits_answer_429_with_retry_after_and_the_sdk_waits(cma_factory):
    # One request every 2 s, no burst: the second of two back-to-back requests is refused.
    server = cma_factory(env={"CMA_RATE_LIMIT": "0.5", "CMA_RATE_LIMIT_BURST": "1"})
    headers = {"Authorization": f"Bearer {server.key}", "OpenAI-Beta": "agents=v1"}
    statuses = [http_json("GET", server.base_url + "/agents", headers=headers) for _ in range(2)]
    assert [s[0] for s in statuses] == [200, 429]
    _, body, resp_headers = statuses[1]
    assert body["error"]["code"] == "rate_limit_exceeded" and 1 <= int(resp_headers["retry-after"]) <= 2
    # The SDK honours Retry-After: every call gets through, later.
    client = server.client(max_retries=5)
    ids = [client.beta.agents.create(model="gpt-test").id for _ in range(2)]
    assert len(set(ids)) == 2
