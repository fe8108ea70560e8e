"""POST /agents/sessions with stream=true: the final result helper and the event order (§4.1, §11, §12)."""

from __future__ import annotations

from pydantic import BaseModel

from conftest import MODEL, token


def _script_reasoning_and_answer(scripted, tok: str, answer: str, summary: str = "Thinking it over carefully") -> None:
    scripted.add(
        {
            "type": "response",
            "match": {"contains": tok},
            "outputs": [
                {"type": "reasoning", "summary": [summary], "encrypted_content": "gAAA-test"},
                {"type": "message", "text": answer, "phase": "final_answer"},
            ],
            "options": {"chunk_size": 5},
        }
    )


def test_create_stream_get_final_result(client, scripted):
    tok = token()
    _script_reasoning_and_answer(scripted, tok, "The answer is 42.")

    stream = client.beta.agents.sessions.create(
        agent={"model": MODEL}, environment={"type": "none"}, input=f"{tok} what is the answer?", stream=True
    )
    result = stream.get_final_result()

    assert result.output_text == "The answer is 42."
    assert result.turn.status == "completed"
    assert result.turn.subagent_id is None
    assert result.turn.completed_at is not None
    assert len(result.messages) == 1
    assert result.messages[0].role == "assistant"
    assert result.messages[0].phase == "final_answer"

    session = client.beta.agents.sessions.retrieve(result.session_id)
    assert session.status == "idle"
    turn = client.beta.agents.sessions.turns.retrieve(result.turn_id, session_id=session.id)
    assert turn.status == "completed"


def test_create_stream_event_order(client, scripted):
    tok = token()
    answer = "Paris is the capital of France."
    summary = "The user asks about a capital"
    _script_reasoning_and_answer(scripted, tok, answer, summary)

    stream = client.beta.agents.sessions.create(
        agent={"model": MODEL}, environment={"type": "none"}, input=f"{tok} capital of France?", stream=True
    )
    events = list(stream)  # plain iteration: reads until the server closes or sends [DONE]
    types = [e.type for e in events]

    # Every event has a unique event_id.
    ids = [e.event_id for e in events]
    assert all(isinstance(i, str) and i for i in ids)
    assert len(set(ids)) == len(ids), "duplicate event_id"

    # The first event is the session snapshot; the last one is idle.
    assert types[0] == "agent.session.created"
    session_id = events[0].session.id
    assert events[0].session.object == "agent.session"
    assert types[-1] == "agent.session.idle", types
    assert events[-1].session.status == "idle"
    assert events[-1].session.id == session_id

    # The root turn: created → session in_progress → turn in_progress → user message → … → completed → idle.
    created = [e for e in events if e.type == "agent.session.turn.created"]
    assert len(created) == 1
    root = created[0]
    assert root.turn.subagent_id is None
    assert root.turn_id == root.turn.id
    assert root.session_id == session_id
    turn_id = root.turn_id

    def index(pred) -> int:
        for i, e in enumerate(events):
            if pred(e):
                return i
        raise AssertionError(f"event not found in {types}")

    i_created = events.index(root)
    i_session_in_progress = index(lambda e: e.type == "agent.session.in_progress")
    i_turn_in_progress = index(lambda e: e.type == "agent.session.turn.in_progress")
    i_user = index(lambda e: e.type == "agent.session.turn.item.added" and e.item.type == "message" and e.item.role == "user")
    i_completed = index(lambda e: e.type == "agent.session.turn.completed")
    i_idle = len(events) - 1
    assert i_created < i_session_in_progress < i_turn_in_progress < i_user < i_completed < i_idle, types
    assert events[i_session_in_progress].session.status == "in_progress"
    assert events[i_turn_in_progress].turn.status == "in_progress"
    assert events[i_turn_in_progress].turn_id == turn_id

    user = events[i_user]
    assert user.item.turn_id == turn_id
    assert user.output_index is None
    assert user.item.content[0].type == "input_text"
    assert user.item.content[0].text == f"{tok} capital of France?"
    assert user.item.status == "completed"

    # Exactly one terminal event for the root turn, and nothing but idle after it.
    terminal = [e for e in events if e.type in ("agent.session.turn.completed", "agent.session.turn.failed", "agent.session.turn.cancelled")]
    assert len(terminal) == 1
    done = terminal[0]
    assert done.turn_id == turn_id
    assert done.turn.id == turn_id
    assert done.turn.status == "completed"
    assert types[i_completed + 1 :] == ["agent.session.idle"]

    # Reasoning item: added (in_progress, empty summary) → summary part/text events → done.
    r_added = index(lambda e: e.type == "agent.session.turn.item.added" and e.item.type == "reasoning")
    reasoning_id = events[r_added].item.id
    assert events[r_added].item.status == "in_progress"
    assert events[r_added].item.summary == []
    assert events[r_added].item.turn_id == turn_id
    r_part_added = index(lambda e: e.type == "agent.session.turn.reasoning_summary_part.added")
    r_deltas = [i for i, e in enumerate(events) if e.type == "agent.session.turn.reasoning_summary_text.delta"]
    r_text_done = index(lambda e: e.type == "agent.session.turn.reasoning_summary_text.done")
    r_part_done = index(lambda e: e.type == "agent.session.turn.reasoning_summary_part.done")
    r_done = index(lambda e: e.type == "agent.session.turn.item.done" and e.item.type == "reasoning")
    assert r_deltas, "no reasoning_summary_text.delta events"
    assert r_added < r_part_added < min(r_deltas) <= max(r_deltas) < r_text_done < r_part_done < r_done < i_completed
    for i in [r_part_added, *r_deltas, r_text_done, r_part_done]:
        assert events[i].item_id == reasoning_id
        assert events[i].summary_index == 0
        assert events[i].output_index == events[r_added].output_index
    assert "".join(events[i].delta for i in r_deltas) == summary
    assert events[r_text_done].text == summary
    assert events[r_part_done].part.type == "summary_text"
    assert events[r_part_done].part.text == summary
    assert events[r_done].item.id == reasoning_id
    assert [(p.type, p.text) for p in events[r_done].item.summary] == [("summary_text", summary)]

    # Assistant message: added → content part → deltas → text done → part done → item done (final_answer).
    m_added = index(lambda e: e.type == "agent.session.turn.item.added" and e.item.type == "message" and e.item.role == "assistant")
    message_id = events[m_added].item.id
    assert events[m_added].item.status == "in_progress"
    assert events[m_added].item.content == []
    assert events[m_added].output_index is not None
    m_part_added = index(lambda e: e.type == "agent.session.turn.content_part.added")
    m_deltas = [i for i, e in enumerate(events) if e.type == "agent.session.turn.output_text.delta"]
    m_text_done = index(lambda e: e.type == "agent.session.turn.output_text.done")
    m_part_done = index(lambda e: e.type == "agent.session.turn.content_part.done")
    m_done = index(lambda e: e.type == "agent.session.turn.item.done" and e.item.type == "message")
    assert m_deltas, "no output_text.delta events"
    assert r_done < m_added < m_part_added < min(m_deltas) <= max(m_deltas) < m_text_done < m_part_done < m_done < i_completed
    for i in [m_part_added, *m_deltas, m_text_done, m_part_done]:
        assert events[i].item_id == message_id
        assert events[i].content_index == 0
        assert events[i].output_index == events[m_added].output_index
    assert events[m_part_added].part.type == "output_text"
    assert "".join(events[i].delta for i in m_deltas) == answer
    assert events[m_text_done].text == answer
    assert events[m_part_done].part.text == answer
    final = events[m_done]
    assert final.item.id == message_id
    assert final.item.role == "assistant"
    assert final.item.phase == "final_answer"
    assert final.item.status == "completed"
    assert final.item.turn_id == turn_id
    assert [(c.type, c.text) for c in final.item.content] == [("output_text", answer)]
    assert final.output_index == events[m_added].output_index
    assert events[r_added].output_index < final.output_index

    # The reasoning and the message are listed in the session's items, in order.
    items = list(client.beta.agents.sessions.items.list(session_id, order="asc"))
    assert [(i.type, getattr(i, "role", None)) for i in items] == [("message", "user"), ("reasoning", None), ("message", "assistant")]
    assert items[1].id == reasoning_id and items[2].id == message_id
    assert items[2].phase == "final_answer" and items[2].status == "completed"


def test_create_stream_obfuscation_toggle(client, scripted):
    """Delta events carry `obfuscation` padding by default and none with include_obfuscation=false."""
    tok = token()
    scripted.add({"type": "response", "match": {"contains": tok}, "outputs": [{"type": "message", "text": "padded text here"}], "options": {"chunk_size": 4}})
    events = list(
        client.beta.agents.sessions.create(agent={"model": MODEL}, environment={"type": "none"}, input=f"{tok} a", stream=True)
    )
    deltas = [e for e in events if e.type == "agent.session.turn.output_text.delta"]
    assert deltas and all(getattr(e, "obfuscation", None) for e in deltas)

    tok = token()
    scripted.add({"type": "response", "match": {"contains": tok}, "outputs": [{"type": "message", "text": "plain text here"}], "options": {"chunk_size": 4}})
    events = list(
        client.beta.agents.sessions.create(
            agent={"model": MODEL},
            environment={"type": "none"},
            input=f"{tok} b",
            stream=True,
            stream_options={"include_obfuscation": False},
        )
    )
    deltas = [e for e in events if e.type == "agent.session.turn.output_text.delta"]
    assert deltas and all(getattr(e, "obfuscation", None) is None for e in deltas)


PIXEL = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="


def test_create_with_message_list_input(client, scripted):
    tok = token()
    result = client.beta.agents.sessions.create(
        agent={"model": MODEL},
        environment={"type": "none"},
        input=[
            {"role": "user", "content": [{"type": "input_text", "text": "first message"}]},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": f"{tok} look"}, {"type": "input_image", "image_url": PIXEL}]},
        ],
        stream=True,
    ).get_final_result()
    assert result.output_text == f"Echo: {tok} look"
    items = list(client.beta.agents.sessions.items.list(result.session_id, order="asc"))
    users = [i for i in items if i.type == "message" and i.role == "user"]
    assert len(users) == 2 and all(u.turn_id == result.turn_id for u in users)
    assert [c.type for c in users[1].content] == ["input_text", "input_image"]
    assert users[1].content[1].image_url == PIXEL
    body = scripted.bodies_for(result.session_id)[0]
    sent = [i for i in body["input"] if i.get("role") == "user"]
    assert len(sent) == 2
    assert {"type": "input_image", "image_url": PIXEL} in [
        {k: v for k, v in part.items() if k in ("type", "image_url")} for part in sent[1]["content"]
    ]
    turn = client.beta.agents.sessions.turns.retrieve(result.turn_id, session_id=result.session_id)
    session = client.beta.agents.sessions.retrieve(result.session_id)
    assert turn.agent_id == session.agent.id
    assert turn.session_id == session.id


class Weather(BaseModel):
    city: str
    temp_c: int


def test_create_with_output_type(client, scripted):
    """output_type makes the SDK send agent.text.format json_schema; the answer is parsed."""
    tok = token()
    scripted.add(
        {"type": "response", "match": {"contains": tok}, "outputs": [{"type": "message", "text": '{"city":"Paris","temp_c":21}'}]}
    )
    result = client.beta.agents.sessions.create(
        agent={"model": MODEL}, environment={"type": "none"}, input=f"{tok} weather as JSON", stream=True, output_type=Weather
    ).get_final_result()
    assert result.output_parsed == Weather(city="Paris", temp_c=21)
    session = client.beta.agents.sessions.retrieve(result.session_id)
    assert session.agent.text.format.type == "json_schema"
    body = scripted.bodies_for(result.session_id)[0]
    fmt = body["text"]["format"]
    assert fmt["type"] == "json_schema"
    assert set(fmt["schema"]["properties"]) == {"city", "temp_c"}
