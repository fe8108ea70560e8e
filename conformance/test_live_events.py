"""GET /agents/sessions/{id}/events: the live subscription (§4.7, §11.1, §12)."""

from __future__ import annotations

import threading

import openai
import pytest

from conftest import create_idle_session, http_json, token, user_message

TERMINAL = ("agent.session.turn.completed", "agent.session.turn.failed", "agent.session.turn.cancelled")


def _collect_turn(stream, out: list, errors: list) -> None:
    """Reads events until idle follows the first terminal turn event (the helpers' stop rule)."""
    try:
        ended = False
        for event in stream:
            out.append(event)
            if event.type in TERMINAL:
                ended = True
            if event.type == "agent.session.idle" and ended:
                return
        errors.append("stream ended before idle")
    except Exception as e:  # noqa: BLE001 - reported by the test
        errors.append(repr(e))
    finally:
        stream.close()


def test_two_subscribers_see_the_same_events(client):
    session = create_idle_session(client)
    streams = [client.beta.agents.sessions.events.stream(session.id) for _ in range(2)]
    results: list[list] = [[], []]
    errors: list[str] = []
    threads = [threading.Thread(target=_collect_turn, args=(s, r, errors), daemon=True) for s, r in zip(streams, results)]
    for t in threads:
        t.start()
    tok = token()
    client.beta.agents.sessions.events.create(session.id, events=[user_message(f"{tok} hi")])
    for t in threads:
        t.join(timeout=15)
    assert not any(t.is_alive() for t in threads), "a subscriber did not see the turn end"
    assert errors == []

    # The same events, with the same event_ids, in the same order (an initial idle aside).
    def relevant(events):
        start = next(i for i, e in enumerate(events) if e.type == "agent.session.turn.created")
        return [(e.type, e.event_id) for e in events[start:]]

    a, b = relevant(results[0]), relevant(results[1])
    assert a == b
    assert len({eid for _, eid in a}) == len(a)
    types = [t for t, _ in a]
    assert types[0] == "agent.session.turn.created"
    assert types[-2:] == ["agent.session.turn.completed", "agent.session.idle"]
    texts = [e.text for e in results[0] if e.type == "agent.session.turn.output_text.done"]
    assert texts == [f"Echo: {tok} hi"]
    for e in results[0]:
        if hasattr(e, "session_id") and e.session_id is not None:
            assert e.session_id == session.id


def test_subscribing_to_unknown_session_is_404(client):
    with pytest.raises(openai.NotFoundError):
        client.beta.agents.sessions.events.stream("sess_unknown_" + token())


def test_live_stream_without_obfuscation(client):
    session = create_idle_session(client)
    stream = client.beta.agents.sessions.events.stream(session.id, include_obfuscation=False)
    out: list = []
    errors: list[str] = []
    t = threading.Thread(target=_collect_turn, args=(stream, out, errors), daemon=True)
    t.start()
    client.beta.agents.sessions.events.create(session.id, events=[user_message("plain " + token())])
    t.join(timeout=15)
    assert not t.is_alive() and errors == []
    deltas = [e for e in out if e.type.endswith(".delta")]
    assert deltas and all(getattr(e, "obfuscation", None) is None for e in deltas)


def _read_until(stream, out: list, stop) -> None:
    for event in stream:
        out.append(event)
        if stop(out):
            return


def test_a_stream_resumes_after_a_disconnect_without_gap_or_duplicate(client, scripted, cma):
    """`starting_after=<event_id>` replays the log after that event, then follows live (an
    extension: the SDK passes it through `extra_query` and ignores it otherwise)."""
    session = create_idle_session(client)
    tok = token()
    # A slow turn: many small deltas, so the disconnect happens while it runs.
    scripted.add({"type": "response", "match": {"contains": tok}, "outputs": [{"type": "message", "text": "resumable stream " * 8}], "options": {"chunk_size": 2, "delay_ms": 20}})

    first: list = []
    stream = client.beta.agents.sessions.events.stream(session.id)
    reader = threading.Thread(target=_read_until, args=(stream, first, lambda out: sum(e.type.endswith(".delta") for e in out) >= 5), daemon=True)
    reader.start()
    client.beta.agents.sessions.events.create(session.id, events=[user_message(f"{tok} go")])
    reader.join(timeout=15)
    assert not reader.is_alive(), "the first stream saw no deltas"
    stream.close()  # disconnect mid-turn

    def turn_over(out):
        return any(e.type in TERMINAL for e in out) and out[-1].type == "agent.session.idle"

    second: list = []
    resumed = client.beta.agents.sessions.events.stream(session.id, extra_query={"starting_after": first[-1].event_id})
    _read_until(resumed, second, turn_over)
    resumed.close()
    assert turn_over(second), "the resumed stream did not reach the end of the turn"

    # The whole log from the first event received, read afterwards, is what the two streams
    # delivered together: same events, same order, nothing twice.
    log: list = []
    replay = client.beta.agents.sessions.events.stream(session.id, extra_query={"starting_after": first[0].event_id})
    _read_until(replay, log, turn_over)
    replay.close()
    joined = [(e.type, e.event_id) for e in first + second]
    assert len(set(e for _, e in joined)) == len(joined)
    assert joined == [(first[0].type, first[0].event_id)] + [(e.type, e.event_id) for e in log]
    # Deltas carry the same text in both (padding aside).
    texts = "".join(getattr(e, "delta", "") for e in first + second if e.type == "agent.session.turn.output_text.delta")
    assert texts == "resumable stream " * 8


def test_starting_after_an_unknown_event_is_a_400(client, cma):
    session = create_idle_session(client)
    headers = {"Authorization": f"Bearer {cma.key}", "OpenAI-Beta": "agents=v1"}
    status, body, _ = http_json("GET", f"{cma.base_url}/agents/sessions/{session.id}/events?starting_after=evt_unknown", headers=headers)
    assert status == 400
    assert body["error"]["param"] == "starting_after"
