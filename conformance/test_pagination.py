"""Cursor pagination of every list endpoint (§1, §3.4, §4.4, §4.8, §4.9)."""

from __future__ import annotations

from conftest import MODEL, create_idle_session, token, user_message, wait_for, wait_for_turns_done


def _assert_raw_page(raw_response, expected_count: int, has_more: bool) -> dict:
    body = raw_response.http_response.json()
    assert body["object"] == "list"
    assert len(body["data"]) == expected_count
    assert body["has_more"] is has_more
    assert body["first_id"] == body["data"][0]["id"]
    assert body["last_id"] == body["data"][-1]["id"]
    return body


def test_agents_pagination(client):
    tag = token()
    created = [client.beta.agents.create(model=MODEL, name=f"agent {n}", metadata={"tag": tag}).id for n in range(25)]
    assert len(set(created)) == 25

    # Auto-pagination, default order (desc): every agent exactly once, newest first.
    listed = [a.id for a in client.beta.agents.list(limit=10)]
    assert len(listed) == len(set(listed)), "an agent was listed twice"
    mine = [i for i in listed if i in set(created)]
    assert mine == list(reversed(created))

    # asc when asked.
    listed_asc = [a.id for a in client.beta.agents.list(limit=10, order="asc")]
    assert len(listed_asc) == len(set(listed_asc))
    assert [i for i in listed_asc if i in set(created)] == created
    assert listed_asc == list(reversed(listed))

    # A raw page: has_more, first_id, last_id; the SDK's next page uses after=<last id>.
    raw = client.beta.agents.with_raw_response.list(limit=10, order="asc")
    body = _assert_raw_page(raw, 10, True)
    page = raw.parse()
    assert page.has_more is True
    assert [a.id for a in page.data] == [d["id"] for d in body["data"]]
    assert page.has_next_page()
    second = page.get_next_page()
    assert second.data[0].id == listed_asc[10]

    # The last page reports has_more=false.
    last_raw = client.beta.agents.with_raw_response.list(limit=10, order="asc", after=listed_asc[-5])
    _assert_raw_page(last_raw, 4, False)

    # An explicit `after` is exclusive, in either order.
    after = client.beta.agents.list(limit=3, order="desc", after=created[10])
    assert [a.id for a in after.data] == [created[9], created[8], created[7]]

    # A page with no data.
    empty = client.beta.agents.with_raw_response.list(order="asc", after=listed_asc[-1]).http_response.json()
    assert empty["data"] == [] and empty["has_more"] is False


def test_sessions_pagination_and_filters(client):
    agent = client.beta.agents.create(model=MODEL, name="filter target")
    other = client.beta.agents.create(model=MODEL, name="other")
    tag = token()
    by_agent = [
        client.beta.agents.sessions.create(agent_id=agent.id, environment={"type": "none"}, input=f"hi {n}").id for n in range(3)
    ]
    client.beta.agents.sessions.create(agent_id=other.id, environment={"type": "none"}, input="other")
    tagged = [
        client.beta.agents.sessions.create(
            agent={"model": MODEL}, environment={"type": "none"}, input=f"tagged {n}", metadata={"suite": tag, "n": str(n % 2)}
        ).id
        for n in range(5)
    ]

    # agent_id filter (the root agent's ID), auto-paginated across pages.
    filtered = [s.id for s in client.beta.agents.sessions.list(agent_id=agent.id, limit=2)]
    assert filtered == list(reversed(by_agent))
    for s in client.beta.agents.sessions.list(agent_id=agent.id, order="asc"):
        assert s.agent.id == agent.id

    # metadata[key] filter; all given pairs must match.
    assert [s.id for s in client.beta.agents.sessions.list(metadata={"suite": tag}, limit=2, order="asc")] == tagged
    assert [s.id for s in client.beta.agents.sessions.list(metadata={"suite": tag, "n": "1"}, order="asc")] == [tagged[1], tagged[3]]
    assert list(client.beta.agents.sessions.list(metadata={"suite": "no-such-" + tag})) == []

    # Unfiltered listing contains everything exactly once.
    everything = [s.id for s in client.beta.agents.sessions.list(limit=3)]
    assert len(everything) == len(set(everything))
    assert set(by_agent + tagged) <= set(everything)

    raw = client.beta.agents.sessions.with_raw_response.list(metadata={"suite": tag}, limit=2)
    _assert_raw_page(raw, 2, True)


def test_items_and_turns_pagination(client, scripted):
    session = create_idle_session(client)
    for n in range(3):
        client.beta.agents.sessions.events.create(session.id, events=[user_message(f"turn {n} {token()}")])
        wait_for_turns_done(client, session.id, n + 2)

    # Turns: 4 turns (the initial one and three more), paged one at a time.
    turns_asc = [t.id for t in client.beta.agents.sessions.turns.list(session.id, order="asc", limit=1)]
    assert len(turns_asc) == 4 and len(set(turns_asc)) == 4
    turns_desc = [t.id for t in client.beta.agents.sessions.turns.list(session.id, limit=3)]
    assert turns_desc == list(reversed(turns_asc))
    for t in client.beta.agents.sessions.turns.list(session.id):
        assert t.session_id == session.id and t.status == "completed" and t.object == "agent.session.turn"
    raw = client.beta.agents.sessions.turns.with_raw_response.list(session.id, limit=3, order="asc")
    _assert_raw_page(raw, 3, True)
    after = client.beta.agents.sessions.turns.list(session.id, order="asc", after=turns_asc[1])
    assert [t.id for t in after.data] == turns_asc[2:]

    # Items: a user message and an echo answer per turn.
    items_all = [i.id for i in client.beta.agents.sessions.items.list(session.id, order="asc", limit=100)]
    assert len(items_all) == 8
    items_paged = [i.id for i in client.beta.agents.sessions.items.list(session.id, order="asc", limit=3)]
    assert items_paged == items_all
    items_desc = [i.id for i in client.beta.agents.sessions.items.list(session.id, limit=3)]
    assert items_desc == list(reversed(items_all))
    raw = client.beta.agents.sessions.items.with_raw_response.list(session.id, limit=3)
    _assert_raw_page(raw, 3, True)
    roles = [(i.type, i.role) for i in client.beta.agents.sessions.items.list(session.id, order="asc")]
    assert roles == [("message", "user"), ("message", "assistant")] * 4

    # Turn items (a ConversationCursorPage that pages with last_id).
    for turn_id in turns_asc:
        paged = list(client.beta.agents.sessions.turns.items.list(turn_id, session_id=session.id, limit=1, order="asc"))
        assert [i.turn_id for i in paged] == [turn_id, turn_id]
        assert [i.role for i in paged] == ["user", "assistant"]
        desc = list(client.beta.agents.sessions.turns.items.list(turn_id, session_id=session.id, limit=1))
        assert [i.id for i in desc] == [i.id for i in reversed(paged)]
    raw = client.beta.agents.sessions.turns.items.with_raw_response.list(turns_asc[0], session_id=session.id, limit=1)
    body = _assert_raw_page(raw, 1, True)
    assert body["last_id"]


def test_session_metadata_filter_encoding_and_updates(client):
    tag = token()
    odd = {"key with space": "a&b=c+d", "ünïcode": "välue/?#"}
    session = client.beta.agents.sessions.create(
        agent={"model": MODEL}, environment={"type": "none"}, input="hi", metadata={"suite": tag, **odd}
    )
    for key, value in odd.items():
        assert [s.id for s in client.beta.agents.sessions.list(metadata={key: value})] == [session.id]
    assert list(client.beta.agents.sessions.list(metadata={"key with space": "a&b=c d"})) == []

    # The filter follows metadata updates (eventually, says the contract).
    client.beta.agents.sessions.update(session.id, metadata={"suite": tag + "-moved"})
    wait_for(lambda: [s.id for s in client.beta.agents.sessions.list(metadata={"suite": tag + "-moved"})] == [session.id], what="updated metadata to be filterable")
    wait_for(lambda: list(client.beta.agents.sessions.list(metadata={"suite": tag})) == [], what="old metadata to stop matching")
