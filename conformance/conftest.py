"""Fixtures of the conformance suite: a scripted model server, `cma serve` processes and clients.

The suite drives a real `cma serve` with the official `openai` Python SDK. The model provider is
the project's `scripted-model-server` (see Sources/TestSupport/README.md), controlled over HTTP.

Binaries come from `CMA_BIN` and `SCRIPTED_MODEL_BIN`; they default to `.build/debug/…` in the
repository that holds this directory.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Callable, Iterable

import pytest
from openai import OpenAI

REPO_ROOT = Path(__file__).resolve().parent.parent
CMA_BIN = os.environ.get("CMA_BIN") or str(REPO_ROOT / ".build" / "debug" / "cma")
SCRIPTED_MODEL_BIN = os.environ.get("SCRIPTED_MODEL_BIN") or str(REPO_ROOT / ".build" / "debug" / "scripted-model-server")

#: Seconds to wait for a process to print its "listening" line.
STARTUP_TIMEOUT = 30.0
#: Per-request timeout of the SDK clients (a hang fails the test instead of stalling CI).
CLIENT_TIMEOUT = 20.0
#: Default deadline when polling for a state.
WAIT_TIMEOUT = 15.0

MODEL = "gpt-test-model"


# ---------------------------------------------------------------------------------------------
# Processes


class ManagedProcess:
    """A child process whose stdout is read line by line on a thread and whose stderr goes to a
    file, so that neither pipe can fill up and a failure can show what the process said."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.name = name
        self.argv = argv
        self._stderr = tempfile.NamedTemporaryFile(prefix=f"{name}-", suffix=".stderr", delete=False)
        self._lines: "queue.Queue[str | None]" = queue.Queue()
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env={**os.environ, **(env or {})},
            text=True,
            bufsize=1,
        )
        self._reader = threading.Thread(target=self._read_stdout, name=f"{name}-stdout", daemon=True)
        self._reader.start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def stderr_text(self, limit: int = 8000) -> str:
        try:
            data = Path(self._stderr.name).read_text(errors="replace")
        except OSError:
            return ""
        return data[-limit:]

    def wait_for_line(self, predicate: Callable[[str], bool], timeout: float = STARTUP_TIMEOUT) -> str:
        """The first stdout line satisfying `predicate`; fails the test (with the captured stderr)
        if the process exits or nothing matching arrives in time."""
        deadline = time.monotonic() + timeout
        seen: list[str] = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop()
                pytest.fail(
                    f"{self.name} printed no matching line within {timeout}s.\nstdout: {seen}\nstderr:\n{self.stderr_text()}"
                )
            try:
                line = self._lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            if line is None:
                code = self.proc.wait(timeout=5)
                pytest.fail(f"{self.name} exited with status {code} before it was ready.\nstdout: {seen}\nstderr:\n{self.stderr_text()}")
            seen.append(line)
            if predicate(line):
                return line

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, grace: float = 5.0) -> int | None:
        """Sends `sig`; SIGKILL if the process is still there after `grace` seconds."""
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(sig)
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
            except ProcessLookupError:
                pass
        self._reader.join(timeout=2)
        return self.proc.returncode

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def cleanup(self) -> None:
        self.stop()
        try:
            self._stderr.close()
            os.unlink(self._stderr.name)
        except OSError:
            pass


def _check_binary(path: str, env_var: str) -> None:
    if not os.access(path, os.X_OK):
        pytest.exit(
            f"{path} is not an executable. Build it first (swift build --product cma --product scripted-model-server) "
            f"or point {env_var} at it.",
            returncode=2,
        )


# ---------------------------------------------------------------------------------------------
# The scripted model server


def http_json(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None, timeout: float = 10.0) -> tuple[int, Any, dict[str, str]]:
    """A plain HTTP request with urllib; returns (status, parsed JSON body or raw text, headers)."""
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw, rh = resp.status, resp.read(), dict(resp.headers.items())
    except urllib.error.HTTPError as e:
        status, raw, rh = e.code, e.read(), dict(e.headers.items())
    text = raw.decode("utf-8", errors="replace")
    try:
        parsed: Any = json.loads(text) if text else None
    except ValueError:
        parsed = text
    return status, parsed, {k.lower(): v for k, v in rh.items()}


class ScriptedModel:
    """Client of the scripted model server's control API."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url  # …/v1
        self.root = base_url[: -len("/v1")] if base_url.endswith("/v1") else base_url

    def _control(self, method: str, path: str, body: Any = None) -> Any:
        status, parsed, _ = http_json(method, self.root + path, body)
        assert status == 200, f"scripted server {method} {path} -> {status}: {parsed}"
        return parsed

    def add(self, *steps: dict[str, Any]) -> None:
        """Queues steps (FIFO); a request takes the first step whose `match` fits."""
        self._control("POST", "/__scripted/steps", {"steps": list(steps)})

    def requests(self) -> list[dict[str, Any]]:
        return self._control("GET", "/__scripted/requests")["requests"]

    def bodies_for(self, session_id: str) -> list[dict[str, Any]]:
        """Bodies of the model requests made for one session (cma uses the session ID as the
        prompt_cache_key)."""
        return [r["body"] for r in self.requests() if r["body"].get("prompt_cache_key") == session_id]

    def reset(self) -> None:
        self._control("POST", "/__scripted/reset", {})

    def fallback(self, mode: str) -> None:
        self._control("POST", "/__scripted/fallback", {"mode": mode})


@pytest.fixture(scope="session")
def scripted() -> Iterable[ScriptedModel]:
    _check_binary(SCRIPTED_MODEL_BIN, "SCRIPTED_MODEL_BIN")
    proc = ManagedProcess("scripted-model-server", [SCRIPTED_MODEL_BIN, "--host", "127.0.0.1", "--port", "0", "--fallback", "echo"])
    try:
        line = proc.wait_for_line(lambda l: l.startswith("listening on "))
        yield ScriptedModel(line[len("listening on ") :].strip())
    finally:
        proc.cleanup()


@pytest.fixture(autouse=True)
def _reset_scripted(scripted: ScriptedModel) -> Iterable[None]:
    """Every test starts with an empty script, an empty request log and the echo fallback."""
    scripted.reset()
    scripted.fallback("echo")
    yield


# ---------------------------------------------------------------------------------------------
# cma


class CmaServer:
    """A `cma serve` process on a data directory, restartable on the same directory."""

    def __init__(self, data_dir: Path, model_base_url: str, env: dict[str, str] | None = None) -> None:
        _check_binary(CMA_BIN, "CMA_BIN")
        self.data_dir = data_dir
        self.model_base_url = model_base_url
        self.extra_env = env or {}
        self.key = self._create_key()
        self.proc: ManagedProcess | None = None
        self.port: int | None = None
        self._clients: list[OpenAI] = []

    def _create_key(self) -> str:
        out = subprocess.run(
            [CMA_BIN, "keys", "create", "--data-dir", str(self.data_dir)], capture_output=True, text=True, timeout=60
        )
        assert out.returncode == 0, f"cma keys create failed ({out.returncode}): {out.stderr}"
        lines = [l for l in out.stdout.splitlines() if l.strip()]
        assert len(lines) == 1, f"cma keys create printed {out.stdout!r}"
        return lines[0].strip()

    def start(self) -> "CmaServer":
        assert self.proc is None or not self.proc.alive(), "already running"
        self.proc = ManagedProcess(
            "cma",
            [CMA_BIN, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", str(self.data_dir)],
            env={
                "OPENAI_BASE_URL": self.model_base_url,
                "OPENAI_API_KEY": "sk-scripted",
                "CMA_LOG_LEVEL": os.environ.get("CMA_LOG_LEVEL", "warning"),
                **self.extra_env,
            },
        )
        line = self.proc.wait_for_line(lambda l: l.startswith("cma listening on "))
        address = line[len("cma listening on ") :].split()[0]
        self.port = int(address.rsplit(":", 1)[1])
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def client(self, api_key: str | None = None, **kwargs: Any) -> OpenAI:
        options: dict[str, Any] = {"timeout": CLIENT_TIMEOUT, "max_retries": 1}
        options.update(kwargs)
        c = OpenAI(api_key=api_key or self.key, base_url=self.base_url, **options)
        self._clients.append(c)
        return c

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        for c in self._clients:
            c.close()
        self._clients.clear()
        if self.proc is None:
            return None
        code = self.proc.stop(sig)
        self.proc.cleanup()
        self.proc = None
        return code

    def restart(self, sig: int = signal.SIGTERM) -> "CmaServer":
        self.stop(sig)
        return self.start()


@pytest.fixture(scope="module")
def cma(scripted: ScriptedModel, tmp_path_factory: pytest.TempPathFactory) -> Iterable[CmaServer]:
    """One `cma serve` per test module, on a fresh data directory."""
    server = CmaServer(tmp_path_factory.mktemp("cma-data"), scripted.base_url).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def cma_factory(scripted: ScriptedModel, tmp_path_factory: pytest.TempPathFactory) -> Iterable[Callable[..., CmaServer]]:
    """Private `cma serve` processes for tests that stop or restart the server."""
    servers: list[CmaServer] = []

    def make(env: dict[str, str] | None = None) -> CmaServer:
        server = CmaServer(tmp_path_factory.mktemp("cma-private"), scripted.base_url, env=env).start()
        servers.append(server)
        return server

    yield make
    for s in servers:
        s.stop()


@pytest.fixture(scope="module")
def client(cma: CmaServer) -> OpenAI:
    return cma.client()


# ---------------------------------------------------------------------------------------------
# Helpers shared by the tests


def token() -> str:
    """A unique marker to put in user messages and to match scripted steps on."""
    return "tok" + uuid.uuid4().hex[:12]


WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
}


def wait_for(predicate: Callable[[], Any], timeout: float = WAIT_TIMEOUT, interval: float = 0.05, what: str = "condition") -> Any:
    """Polls `predicate` until it returns something truthy; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what} (last value: {last!r})")
        time.sleep(interval)


def wait_for_session_status(client: OpenAI, session_id: str, *statuses: str, timeout: float = WAIT_TIMEOUT) -> Any:
    holder: dict[str, Any] = {}

    def check() -> bool:
        s = client.beta.agents.sessions.retrieve(session_id)
        holder["s"] = s
        return s.status in statuses

    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"session {session_id} did not reach {statuses} in {timeout}s (status {holder['s'].status})")
        time.sleep(0.05)
    return holder["s"]


def turns_of(client: OpenAI, session_id: str) -> list[Any]:
    return list(client.beta.agents.sessions.turns.list(session_id, order="asc", limit=100))


def items_of(client: OpenAI, session_id: str) -> list[Any]:
    return list(client.beta.agents.sessions.items.list(session_id, order="asc", limit=100))


def wait_for_turns_done(client: OpenAI, session_id: str, count: int, timeout: float = WAIT_TIMEOUT) -> list[Any]:
    """Waits until the session has `count` turns, all terminal, and is idle."""
    terminal = {"completed", "failed", "cancelled"}

    def check() -> list[Any] | None:
        turns = turns_of(client, session_id)
        if len(turns) >= count and all(t.status in terminal for t in turns):
            s = client.beta.agents.sessions.retrieve(session_id)
            if s.status == "idle":
                return turns
        return None

    return wait_for(check, timeout=timeout, what=f"{count} finished turns in {session_id}")


def create_idle_session(client: OpenAI, **kwargs: Any) -> Any:
    """Creates a session (the API requires initial input with environment none), lets its
    first turn finish (echo fallback), and returns the idle session."""
    kwargs.setdefault("agent", {"model": MODEL})
    kwargs.setdefault("input", "hello " + token())
    session = client.beta.agents.sessions.create(environment={"type": "none"}, **kwargs)
    wait_for_turns_done(client, session.id, 1)
    return client.beta.agents.sessions.retrieve(session.id)


def user_message(text: str) -> dict[str, Any]:
    return {"type": "agent.session.input.message", "input": [{"role": "user", "content": [{"type": "input_text", "text": text}]}]}


def item_text(item: Any) -> str:
    return "".join(getattr(c, "text", "") or "" for c in (getattr(item, "content", None) or []))


def dump(obj: Any) -> Any:
    """A JSON-shaped view of an SDK model (for equality checks)."""
    return obj.to_dict() if hasattr(obj, "to_dict") else obj


def start_waiting_weather_call(client: OpenAI, scripted: "ScriptedModel", city: str, call_id: str, final_text: str | None = None) -> tuple[str, Any, Any]:
    """Scripts a get_weather call for `city` (then, if given, a final answer), starts a session
    with the weather tool, and waits until it requires the tool result.

    Returns (token, session, session_in_requires_action)."""
    tok = token()
    steps: list[dict[str, Any]] = [
        {
            "type": "response",
            "match": {"contains": tok},
            "outputs": [{"type": "function_call", "name": "get_weather", "arguments": json.dumps({"city": city}, separators=(",", ":")), "call_id": call_id}],
        }
    ]
    if final_text is not None:
        steps.append({"type": "response", "match": {"contains": tok}, "outputs": [{"type": "message", "text": final_text}]})
    scripted.add(*steps)
    session = client.beta.agents.sessions.create(
        agent={"model": MODEL, "tools": [WEATHER_TOOL]}, environment={"type": "none"}, input=f"{tok} weather in {city}?"
    )
    waiting = wait_for_session_status(client, session.id, "requires_action")
    return tok, session, waiting
