"""Environments through the official SDK: Files API uploads placed with `file_id`, templates,
prewarmed environments and their live files (token pages)."""

from __future__ import annotations

import json
import shutil

import openai
import pytest

from conftest import MODEL, token, wait_for, wait_for_turns_done

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")


def shell(command: str, call_id: str) -> dict:
    return {"type": "function_call", "name": "shell_command", "arguments": json.dumps({"command": command}), "call_id": call_id}


def script_command(scripted, tok: str, command: str, final: str = "done") -> None:
    scripted.add(
        {"type": "response", "match": {"contains": tok}, "outputs": [shell(command, f"call_{tok}")]},
        {"type": "response", "match": {"contains": tok}, "outputs": [{"type": "message", "text": final}]},
    )


def command_outputs(client, session_id: str) -> list[str]:
    return [i.output for i in client.beta.agents.sessions.items.list(session_id, order="asc") if i.type == "command_execution"]


def test_prepared_files_are_placed_through_file_ids(client, scripted, tmp_path):
    tok = token()
    (tmp_path / "data.csv").write_bytes(b"a,b\n1,2\n")
    (tmp_path / "notes.md").write_text(f"notes {tok}")
    prepared = client.beta.agents.environments.files.prepare(
        {"/workspace/in/data.csv": tmp_path / "data.csv", "/workspace/in/notes.md": tmp_path / "notes.md"}
    )
    assert len(prepared.uploaded_file_ids) == 2
    uploaded = client.files.retrieve(prepared.uploaded_file_ids[0])
    assert uploaded.purpose == "user_data" and uploaded.bytes in (8, len(f"notes {tok}"))

    script_command(scripted, tok, "cat in/data.csv in/notes.md")
    session = client.beta.agents.sessions.create(
        agent={"model": MODEL}, environment={"type": "openai_hosted", "files": prepared.files}, input=f"{tok} read"
    )
    wait_for_turns_done(client, session.id, 1)
    assert command_outputs(client, session.id) == [f"a,b\n1,2\nnotes {tok}"]
    files = client.beta.agents.sessions.retrieve(session.id).environment.files
    assert sorted((f.type, f.path, f.size_bytes) for f in files) == [
        ("file_id", "/workspace/in/data.csv", 8),
        ("file_id", "/workspace/in/notes.md", len(f"notes {tok}")),
    ]

    with pytest.raises(openai.BadRequestError) as missing:
        client.beta.agents.sessions.create(
            agent={"model": MODEL},
            environment={"type": "openai_hosted", "files": [{"type": "file_id", "file_id": "file_missing", "path": "/workspace/x"}]},
            input="x",
        )
    assert missing.value.body["param"] == "environment.files[0].file_id"


def test_templates_provision_sessions_and_keep_their_secrets(client, scripted):
    tok = token()
    template = client.beta.agents.environments.templates.create(
        name=f"tmpl {tok}",
        env={"TEMPLATE_SECRET": f"secret-{tok}"},
        setup_commands=[{"command": "echo provisioned > setup.txt"}],
        files=[{"type": "inline", "path": "/workspace/readme.txt", "data": "aGVsbG8="}],
    )
    assert template.object == "agent.environment.template"
    assert template.name == f"tmpl {tok}" and template.network.access == "disabled"
    assert [(f.type, f.path, f.size_bytes) for f in template.files] == [("inline", "/workspace/readme.txt", 5)]
    dumped = json.dumps(client.beta.agents.environments.templates.retrieve(template.id).to_dict())
    assert f"secret-{tok}" not in dumped and "provisioned" not in dumped

    updated = client.beta.agents.environments.templates.update(template.id, name=None)
    assert updated.name is None and updated.files[0].path == "/workspace/readme.txt"
    assert template.id in [t.id for t in client.beta.agents.environments.templates.list()]

    script_command(scripted, tok, "cat setup.txt readme.txt; echo; echo $TEMPLATE_SECRET")
    session = client.beta.agents.sessions.create(
        agent={"model": MODEL}, environment={"type": "openai_hosted", "environment_template_id": template.id}, input=f"{tok} check"
    )
    wait_for_turns_done(client, session.id, 1)
    assert command_outputs(client, session.id) == [f"provisioned\nhello\nsecret-{tok}\n"]
    assert f"secret-{tok}" not in json.dumps(client.beta.agents.sessions.retrieve(session.id).to_dict()["environment"])

    # A session may narrow the template's network policy but never broaden it.
    with pytest.raises(openai.BadRequestError) as broader:
        client.beta.agents.sessions.create(
            agent={"model": MODEL},
            environment={"type": "openai_hosted", "environment_template_id": template.id, "network": {"access": "enabled"}},
            input="x",
        )
    assert broader.value.body["param"] == "environment.network"

    deleted = client.beta.agents.environments.templates.delete(template.id)
    assert deleted.deleted is True and deleted.object == "agent.environment.template.deleted"
    with pytest.raises(openai.NotFoundError):
        client.beta.agents.environments.templates.retrieve(template.id)
    with pytest.raises(openai.NotFoundError):
        client.beta.agents.sessions.create(
            agent={"model": MODEL}, environment={"type": "openai_hosted", "environment_template_id": template.id}, input="x"
        )


def test_prewarmed_environments_take_files_and_serve_one_session(client, scripted, tmp_path):
    tok = token()
    environment = client.beta.agents.environments.create(
        environment={"type": "openai_hosted", "setup_commands": [{"command": "mkdir -p src && echo warm > src/state.txt"}]}
    )
    assert environment.object == "agent.environment" and environment.type == "openai_hosted"
    ready = wait_for(
        lambda: (e := client.beta.agents.environments.retrieve(environment.id)).status in ("ready", "failed") and e, what="environment ready"
    )
    assert ready.status == "ready"
    assert environment.id in [e.id for e in client.beta.agents.environments.list()]

    local = tmp_path / "upload.txt"
    local.write_text(f"uploaded {tok}")
    staged = client.beta.agents.environments.files.upload(environment.id, file=local, path="/workspace/src/upload.txt")
    assert staged.file.path == "/workspace/src/upload.txt" and staged.file.size_bytes == len(f"uploaded {tok}")
    client.beta.agents.environments.files.create(environment.id, type="inline", data="eA==", path="/workspace/src/x.txt")

    # Token pages: one file per page, in path order, restricted to a directory.
    listed = client.beta.agents.environments.files.list(environment.id, path="/workspace/src", order="asc", limit=1)
    assert [f.path for f in listed] == ["/workspace/src/state.txt", "/workspace/src/upload.txt", "/workspace/src/x.txt"]
    first = client.beta.agents.environments.files.list(environment.id, path="/workspace/src", limit=2)
    assert [f.path for f in first.data] == ["/workspace/src/x.txt", "/workspace/src/upload.txt"] and first.has_more

    script_command(scripted, tok, "cat src/state.txt src/upload.txt")
    session = client.beta.agents.sessions.create(
        agent={"model": MODEL}, environment={"type": "openai_hosted", "environment_id": environment.id}, input=f"{tok} go"
    )
    assert session.environment.id == environment.id
    wait_for_turns_done(client, session.id, 1)
    turns = wait_for_turns_done(client, session.id, 1)
    assert [t.status for t in turns] == ["completed"], [t.to_dict() for t in turns]
    assert command_outputs(client, session.id) == [f"warm\nuploaded {tok}"]
    assert client.beta.agents.environments.retrieve(environment.id).status == "connected"

    with pytest.raises(openai.ConflictError):
        client.beta.agents.sessions.create(
            agent={"model": MODEL}, environment={"type": "openai_hosted", "environment_id": environment.id}, input="again"
        )
    with pytest.raises(openai.BadRequestError) as combined:
        client.beta.agents.sessions.create(
            agent={"model": MODEL},
            environment={"type": "openai_hosted", "environment_id": environment.id, "container_size": "large"},
            input="x",
        )
    assert combined.value.body["param"] == "environment.environment_id"


def test_environment_file_uploads_never_follow_symlinks(client, scripted):
    tok = token()
    script_command(scripted, tok, "ln -s /tmp /workspace/tmplink && ln -s /etc /workspace/etclink && echo made")
    session = client.beta.agents.sessions.create(agent={"model": MODEL}, environment={"type": "openai_hosted"}, input=f"{tok} links")
    wait_for_turns_done(client, session.id, 1)
    environment_id = client.beta.agents.sessions.retrieve(session.id).environment.id
    for path in ("/workspace/tmplink/escape.txt", "/workspace/etclink/passwd"):
        with pytest.raises(openai.BadRequestError) as refused:
            client.beta.agents.environments.files.create(environment_id, type="inline", data="eA==", path=path)
        assert "symlink" in refused.value.message
    for path in ("/etc/passwd", "/workspace/../etc/passwd", "/workspace/.cma/x"):
        with pytest.raises(openai.BadRequestError):
            client.beta.agents.environments.files.create(environment_id, type="inline", data="eA==", path=path)
    # The session's own environment lists its live files.
    assert "/workspace/tmplink/escape.txt" not in [f.path for f in client.beta.agents.environments.files.list(environment_id)]
