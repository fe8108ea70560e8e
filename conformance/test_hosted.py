"""Hosted environments through the official SDK: a sandbox per session, commands streamed as
command_execution items."""

from __future__ import annotations

import base64
import json
import shutil

import pytest

from conftest import MODEL, token, wait_for_turns_done

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")


def shell(command: str, call_id: str) -> dict:
    return {"type": "function_call", "name": "shell_command", "arguments": json.dumps({"command": command}), "call_id": call_id}


def test_hosted_session_runs_commands_and_streams_them(client, scripted):
    tok = token()
    scripted.add(
        {"type": "response", "match": {"contains": tok}, "outputs": [shell("cat greeting.txt; echo $GREETING_NAME", f"call_{tok}")]},
        {"type": "response", "match": {"contains": tok}, "outputs": [{"type": "message", "text": "All done."}]},
    )
    stream = client.beta.agents.sessions.create(
        agent={"model": MODEL},
        environment={
            "type": "openai_hosted",
            "container_size": "small",
            "env": {"GREETING_NAME": "world"},
            "files": [{"type": "inline", "path": "/workspace/greeting.txt", "data": base64.b64encode(b"hello ").decode()}],
        },
        input=f"{tok} greet",
        stream=True,
    )
    events = list(stream)
    types = [e.type for e in events]
    assert types[0] == "agent.session.created"
    assert types[-1] == "agent.session.idle"
    assert "agent.session.environment.connected" in types
    assert "agent.output.command_execution_output.delta" in types

    deltas = "".join(e.delta for e in events if e.type == "agent.output.command_execution_output.delta")
    assert deltas == "hello world\n"
    done = [e for e in events if e.type == "agent.session.turn.item.done" and e.item.type == "command_execution"]
    assert len(done) == 1
    command = done[0].item
    assert command.exit_code == 0 and command.status == "completed" and command.output == "hello world\n"
    assert command.command == "cat greeting.txt; echo $GREETING_NAME"

    session_id = events[0].session.id
    session = client.beta.agents.sessions.retrieve(session_id)
    assert session.environment.type == "openai_hosted"
    assert session.environment.container_size == "small"
    assert [f.path for f in session.environment.files] == ["/workspace/greeting.txt"]
    dumped = json.dumps(session.to_dict())
    assert "world" not in dumped  # environment variables are never echoed
    items = list(client.beta.agents.sessions.items.list(session_id, order="asc"))
    assert [i.type for i in items] == ["message", "command_execution", "message"]
    assert items[1].output == "hello world\n"


def test_hosted_workspace_persists_between_turns(client, scripted):
    tok = token()
    scripted.add(
        {"type": "response", "match": {"contains": f"{tok} one"}, "outputs": [shell("echo kept > state.txt", f"call_a_{tok}")]},
        {"type": "response", "match": {"contains": f"{tok} one"}, "outputs": [{"type": "message", "text": "saved"}]},
        {"type": "response", "match": {"contains": f"{tok} two"}, "outputs": [shell("cat state.txt", f"call_b_{tok}")]},
        {"type": "response", "match": {"contains": f"{tok} two"}, "outputs": [{"type": "message", "text": "read"}]},
    )
    session = client.beta.agents.sessions.create(agent={"model": MODEL}, environment={"type": "openai_hosted"}, input=f"{tok} one")
    wait_for_turns_done(client, session.id, 1)
    with client.beta.agents.sessions.stream(session.id, input=f"{tok} two") as stream:
        result = stream.get_final_result()
    assert result.output_text == "read"
    outputs = [i.output for i in client.beta.agents.sessions.items.list(session.id, order="asc") if i.type == "command_execution"]
    assert outputs == ["", "kept\n"]


def test_artifacts_download_through_the_sdk_helpers(client, scripted, tmp_path):
    tok = token()
    command = "mkdir -p outputs && printf 'report for %s' " + tok + " > outputs/report.txt && head -c 300000 /dev/urandom > outputs/data.bin && sha256sum outputs/data.bin | cut -c1-64"
    scripted.add(
        {"type": "response", "match": {"contains": tok}, "outputs": [shell(command, f"call_art_{tok}")]},
        {"type": "response", "match": {"contains": tok}, "outputs": [{"type": "message", "text": "Reports are in outputs/."}]},
    )
    stream = client.beta.agents.sessions.create(
        agent={"model": MODEL}, environment={"type": "openai_hosted"}, input=f"{tok} write reports", stream=True
    )
    result = stream.get_final_result()
    assert result.output_text == "Reports are in outputs/."
    helper = client.beta.agents.sessions.artifacts.for_result(result)
    assert helper.content("/workspace/outputs/report.txt").read() == f"report for {tok}".encode()

    target = tmp_path / "data.bin"
    artifact = helper.download("/workspace/outputs/data.bin", to=target)
    assert artifact.size_bytes == 300000 and artifact.turn_id == result.turn_id
    import hashlib

    items = list(client.beta.agents.sessions.items.list(result.session_id, order="asc"))
    sandbox_sum = [i for i in items if i.type == "command_execution"][0].output.strip()
    assert hashlib.sha256(target.read_bytes()).hexdigest() == sandbox_sum

    listed = list(client.beta.agents.sessions.artifacts.list(result.session_id))
    assert sorted(a.path for a in listed) == ["/workspace/outputs/data.bin", "/workspace/outputs/report.txt"]
    deleted = client.beta.agents.sessions.artifacts.delete(artifact.id, session_id=result.session_id)
    assert deleted.deleted is True and deleted.object == "agent.session.artifact.deleted"
    assert len(list(client.beta.agents.sessions.artifacts.list(result.session_id))) == 1


def test_hosted_session_applies_a_patch_through_the_sdk(client, scripted):
    tok = token()
    patch = "*** Begin Patch\n*** Add File: notes/plan.md\n+# Plan\n+step one\n*** End Patch"
    update = "*** Begin Patch\n*** Update File: notes/plan.md\n@@\n # Plan\n-step one\n+step one, done\n*** End Patch"
    scripted.add(
        {
            "type": "response",
            "match": {"contains": tok},
            "outputs": [
                {"type": "function_call", "name": "apply_patch", "arguments": json.dumps({"input": patch}), "call_id": f"call_p1_{tok}"},
                {"type": "function_call", "name": "apply_patch", "arguments": json.dumps({"input": update}), "call_id": f"call_p2_{tok}"},
                shell("cat notes/plan.md", f"call_cat_{tok}"),
            ],
        },
        {"type": "response", "match": {"contains": tok}, "outputs": [{"type": "message", "text": "Patched."}]},
    )
    stream = client.beta.agents.sessions.create(
        agent={"model": MODEL}, environment={"type": "openai_hosted"}, input=f"{tok} patch it", stream=True
    )
    events = list(stream)
    assert events[-1].type == "agent.session.idle"
    done = [e.item for e in events if e.type == "agent.session.turn.item.done" and e.item.type == "command_execution"]
    assert [d.status for d in done] == ["completed", "completed", "completed"]
    assert done[0].command.startswith("apply_patch <<'PATCH'") and "A notes/plan.md" in done[0].output
    assert "M notes/plan.md" in done[1].output
    assert done[2].output == "# Plan\nstep one, done\n"
    items = list(client.beta.agents.sessions.items.list(events[0].session.id, order="asc"))
    assert [i.type for i in items] == ["message", "command_execution", "command_execution", "command_execution", "message"]
    assert items[3].output == "# Plan\nstep one, done\n"
