"""Idempotency-Key on the POSTs that create (§ Idempotency in docs/DECISIONS.md), through the SDK."""

from __future__ import annotations

import io

import openai
import pytest

from conftest import MODEL, token


def test_a_retried_agent_create_returns_the_same_agent(client):
    key = token()
    first = client.beta.agents.create(model=MODEL, name="idem", extra_headers={"Idempotency-Key": key})
    again = client.beta.agents.create(model=MODEL, name="idem", extra_headers={"Idempotency-Key": key})
    assert again.id == first.id and again.to_dict() == first.to_dict()
    with pytest.raises(openai.BadRequestError) as e:
        client.beta.agents.create(model=MODEL, name="different", extra_headers={"Idempotency-Key": key})
    assert e.value.body["param"] == "Idempotency-Key" and e.value.body["code"] == "idempotency_key_reused"


def test_a_retried_file_upload_returns_the_same_file(client):
    key = token()
    # Each upload is a new multipart body (new boundary): the key still matches its content.
    first = client.files.create(file=("notes.txt", io.BytesIO(b"hello"), "text/plain"), purpose="user_data", extra_headers={"Idempotency-Key": key})
    again = client.files.create(file=("notes.txt", io.BytesIO(b"hello"), "text/plain"), purpose="user_data", extra_headers={"Idempotency-Key": key})
    assert again.id == first.id
    with pytest.raises(openai.BadRequestError):
        client.files.create(file=("notes.txt", io.BytesIO(b"other"), "text/plain"), purpose="user_data", extra_headers={"Idempotency-Key": key})


def test_a_retried_session_create_returns_the_same_session(client):
    key = token()
    body = dict(agent={"model": MODEL}, environment={"type": "none"}, input="hello " + key)
    first = client.beta.agents.sessions.create(**body, extra_headers={"Idempotency-Key": key})
    again = client.beta.agents.sessions.create(**body, extra_headers={"Idempotency-Key": key})
    assert again.id == first.id
    sessions = [s.id for s in client.beta.agents.sessions.list(limit=100)]
    assert sessions.count(first.id) == 1
