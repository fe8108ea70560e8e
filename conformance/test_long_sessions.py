"""Long sessions through the official SDK: a session far past its model's context window
completes, and its items list shows the whole history (compactions included)."""

from __future__ import annotations

import json

from conftest import token, wait_for_turns_done

TINY_MODEL = "tiny-model"


def test_a_long_session_completes_and_lists_its_full_history(cma_factory, scripted, tmp_path):
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps({"models": {TINY_MODEL: {"context_window": 3000, "auto_compact_token_limit": 2500}}}))
    server = cma_factory(env={"CMA_MODEL_CATALOG": str(catalog)})
    client = server.client()
    tok = token()
    steps = 80
    scripted.add(
        *[
            {"type": "response", "match": {"contains": "Write a hand-off summary"}, "outputs": [{"type": "message", "text": f"SUMMARY {i} {tok}"}]}
            for i in range(20)
        ]
    )
    scripted.add(
        *[
            {
                "type": "response",
                "match": {"contains": tok},
                "outputs": [
                    {"type": "message", "text": f"Step {i}: " + "working " * 20},
                    {"type": "function_call", "name": "step_tool", "arguments": json.dumps({"step": i}), "call_id": f"call_{tok}_{i}"},
                ],
            }
            for i in range(steps - 1)
        ],
        {"type": "response", "match": {"contains": tok}, "outputs": [{"type": "message", "text": f"Done {tok}"}]},
    )
    session = client.beta.agents.sessions.create(agent={"model": TINY_MODEL}, environment={"type": "none"}, input=f"{tok} do {steps} steps")
    turns = wait_for_turns_done(client, session.id, 1, timeout=120)
    assert turns[0].status == "completed"

    items = list(client.beta.agents.sessions.items.list(session.id, order="asc", limit=100))
    calls = [i for i in items if i.type == "function_call"]
    compactions = [i for i in items if i.type == "compaction"]
    assert [c.call_id for c in calls] == [f"call_{tok}_{i}" for i in range(steps - 1)]
    assert len(compactions) >= 2 and all(c.summary.startswith("SUMMARY") for c in compactions)
    assert items[0].type == "message" and items[-1].type == "message"
    # After a compaction the model gets the summary instead of the older history.
    bodies = scripted.bodies_for(session.id)
    assert max(len(json.dumps(b["input"], separators=(",", ":"))) for b in bodies) < 3000 * 4  # about 4 bytes per token
    assert any("SUMMARY" in json.dumps(b["input"]) for b in bodies)
