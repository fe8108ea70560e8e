"""An agent's reach beyond the session: an MCP server over streamable HTTP and the web_search tool.

Everything is real and on loopback: a small MCP server (protocol 2025-06-18, JSON answers,
`Mcp-Session-Id`, bearer authorization) and a SearXNG stub run in this process on threads; a
private `cma serve` is pointed at the stub with `CMA_WEB_SEARCH_URL`. The scripted model calls an
MCP tool, searches, and tries to open a loopback page (which the runtime's egress policy refuses).
Then a destructive MCP tool waits for the user's approval. The session's MCP authorization must
reach the MCP server on every request and appear in no API answer, event or log line
(README "MCP tools" and "Web search and fetch"; docs/DECISIONS.md "MCP servers" and "Web search
and fetch").
"""

from __future__ import annotations

import json
import secrets
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable

import openai
import pytest

from conftest import MODEL, items_of, token, wait_for, wait_for_session_status, wait_for_turns_done

MCP_PROTOCOL = "2025-06-18"
SEARCH_HIT_URL = "https://docs.example.org/swift"

MCP_TOOLS = [
    {
        "name": "lookup",
        "description": "Looks up the definition of a term.",
        "inputSchema": {
            "type": "object",
            "properties": {"term": {"type": "string"}},
            "required": ["term"],
        },
    },
    {
        "name": "drop_table",
        "description": "Drops a database table.",
        "inputSchema": {
            "type": "object",
            "properties": {"name": {"type": "string"}},
            "required": ["name"],
        },
        "annotations": {"destructiveHint": True},
    },
]


# ---------------------------------------------------------------------------------------------
# In-process servers


class _Server:
    """A ThreadingHTTPServer on a free loopback port, serving on a daemon thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.port = self.httpd.server_address[1]
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.httpd.serve_forever, name=type(self).__name__, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    @property
    def owner(self) -> Any:
        return self.server.owner  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        raw = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        if raw:
            self.wfile.write(raw)


class McpServer(_Server):
    """MCP streamable HTTP at /mcp with JSON answers. Every request is recorded (method, path,
    headers with lower-case names, JSON-RPC body); requests without `Authorization: Bearer
    <secret>` get a 401."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.session_id = "mcp-sess-" + uuid.uuid4().hex
        self.requests: list[dict[str, Any]] = []
        super().__init__(_McpHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def recorded(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.requests)

    def tool_calls(self, name: str) -> list[dict[str, Any]]:
        return [
            r["body"]["params"]
            for r in self.recorded()
            if isinstance(r["body"], dict) and r["body"].get("method") == "tools/call" and r["body"]["params"].get("name") == name
        ]


class _McpHandler(_Handler):
    def _authorized(self, body: Any) -> bool:
        owner: McpServer = self.owner
        with owner.lock:
            owner.requests.append(
                {"method": self.command, "path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
            )
        if self.headers.get("Authorization") != f"Bearer {owner.secret}":
            self._send(401, {"error": "unauthorized"}, {"WWW-Authenticate": "Bearer"})
            return False
        return True

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        if self._authorized(None):
            self._send(405, None, {"Allow": "POST, DELETE"})

    def do_DELETE(self) -> None:  # noqa: N802
        if self._authorized(None):
            self._send(200)

    def do_POST(self) -> None:  # noqa: N802
        raw = self._body()
        try:
            msg: Any = json.loads(raw) if raw else None
        except ValueError:
            msg = raw.decode(errors="replace")
        if not self._authorized(msg):
            return
        if urllib.parse.urlsplit(self.path).path != "/mcp":
            self._send(404, {"error": "not found"})
            return
        if not isinstance(msg, dict) or msg.get("jsonrpc") != "2.0":
            self._send(400, {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "Invalid Request"}})
            return
        if "id" not in msg:  # a notification (notifications/initialized, …)
            self._send(202)
            return
        owner: McpServer = self.owner
        method, params, rid = msg.get("method"), msg.get("params") or {}, msg["id"]
        headers: dict[str, str] = {}
        if method == "initialize":
            result: Any = {
                "protocolVersion": MCP_PROTOCOL,
                "capabilities": {"tools": {"listChanged": True}},
                "serverInfo": {"name": "docs-stub", "version": "1.0.0"},
            }
            headers["Mcp-Session-Id"] = owner.session_id
        elif method == "ping":
            result = {}
        elif method == "tools/list":
            result = {"tools": MCP_TOOLS}
        elif method == "tools/call":
            name, args = params.get("name"), params.get("arguments") or {}
            if name == "lookup":
                text = f"definition of {args.get('term')}"
            elif name == "drop_table":
                text = f"dropped {args.get('name')}"
            else:
                self._send(200, {"jsonrpc": "2.0", "id": rid, "error": {"code": -32602, "message": f"Unknown tool: {name}"}})
                return
            result = {"content": [{"type": "text", "text": text}], "isError": False}
        else:
            self._send(200, {"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": "Method not found"}})
            return
        self._send(200, {"jsonrpc": "2.0", "id": rid, "result": result}, headers)


class SearxStub(_Server):
    """SearXNG's JSON API: GET /search?q=…&format=json, one result per query."""

    def __init__(self) -> None:
        self.queries: list[dict[str, list[str]]] = []
        super().__init__(_SearxHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class _SearxHandler(_Handler):
    def do_GET(self) -> None:  # noqa: N802
        parts = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(parts.query)
        owner: SearxStub = self.owner
        with owner.lock:
            owner.queries.append(query)
        if parts.path != "/search" or query.get("format") != ["json"]:
            self._send(404, {"error": "not found"})
            return
        q = query.get("q", [""])[0]
        self._send(
            200,
            {
                "query": q,
                "number_of_results": 1,
                "results": [{"url": SEARCH_HIT_URL, "title": f"Swift docs for {q}", "content": "About Swift.", "engine": "stub"}],
            },
        )


@pytest.fixture
def mcp_secret() -> str:
    return "mcpsecret-" + secrets.token_hex(16)


@pytest.fixture
def mcp_server(mcp_secret: str) -> Iterable[McpServer]:
    server = McpServer(mcp_secret)
    yield server
    server.close()


@pytest.fixture
def searx() -> Iterable[SearxStub]:
    stub = SearxStub()
    yield stub
    stub.close()


# ---------------------------------------------------------------------------------------------
# Helpers


def _call(name: str, args: dict[str, Any], call_id: str) -> dict[str, Any]:
    return {"type": "function_call", "name": name, "arguments": json.dumps(args, separators=(",", ":")), "call_id": call_id}


def _step(tok: str, *outputs: dict[str, Any]) -> dict[str, Any]:
    return {"type": "response", "match": {"contains": tok}, "outputs": list(outputs)}


def _agent(mcp_server: McpServer) -> dict[str, Any]:
    return {
        "model": MODEL,
        "tools": [
            {
                "type": "mcp",
                "server_label": "docs",
                "transport": {"type": "http", "server_url": mcp_server.url, "authorization": mcp_server.secret},
                "required": True,
            },
            {"type": "web_search", "context_size": "low"},
        ],
    }


def _sse_events(lines: Iterable[str]) -> Iterable[dict[str, Any]]:
    for line in lines:
        if line.startswith("data:"):
            data = line[len("data:") :].strip()
            if data and data != "[DONE]":
                yield json.loads(data)


class _CreateStream:
    """`sessions.create(stream=True)` read raw on a thread: the SSE text as sent and its events."""

    def __init__(self, client: openai.OpenAI, **params: Any) -> None:
        self.raw: list[str] = []
        self.errors: list[str] = []
        self._ready = threading.Event()
        self.session_id: str | None = None
        self._thread = threading.Thread(target=self._run, args=(client, params), daemon=True)
        self._thread.start()

    def _run(self, client: openai.OpenAI, params: dict[str, Any]) -> None:
        try:
            with client.beta.agents.sessions.with_streaming_response.create(stream=True, **params) as response:
                assert response.http_response.status_code == 200, response.http_response.status_code
                for line in response.iter_lines():
                    self.raw.append(line)
                    if self.session_id is None:
                        for event in _sse_events([line]):
                            if event.get("type") == "agent.session.created":
                                self.session_id = event["session"]["id"]
                                self._ready.set()
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.errors.append(repr(e))
        finally:
            self._ready.set()

    def wait_created(self, timeout: float = 15) -> str:
        assert self._ready.wait(timeout), "no agent.session.created event"
        assert self.session_id is not None, f"stream failed before agent.session.created: {self.errors}"
        return self.session_id

    def join(self, timeout: float = 15) -> list[dict[str, Any]]:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the create stream did not end after the session went idle"
        assert self.errors == [], self.errors
        return list(_sse_events(self.raw))


def _raw_session(client: openai.OpenAI, session_id: str) -> str:
    return client.beta.agents.sessions.with_raw_response.retrieve(session_id).http_response.text


def _raw_item_pages(client: openai.OpenAI, session_id: str) -> list[str]:
    """Every page of the session's items (two per page), as sent."""
    pages: list[str] = []
    after: str | None = None
    while True:
        kwargs: dict[str, Any] = {"limit": 2, "order": "asc"}
        if after is not None:
            kwargs["after"] = after
        text = client.beta.agents.sessions.items.with_raw_response.list(session_id, **kwargs).http_response.text
        pages.append(text)
        page = json.loads(text)
        assert len(pages) < 100, "items pagination does not end"
        if not page.get("has_more"):
            return pages
        after = page.get("last_id") or page["data"][-1]["id"]


def _has_key(value: Any, key: str) -> bool:
    if isinstance(value, dict):
        return key in value or any(_has_key(v, key) for v in value.values())
    if isinstance(value, list):
        return any(_has_key(v, key) for v in value)
    return False


def _outputs_by_call(bodies: list[dict[str, Any]]) -> dict[str, str]:
    """call_id → the function_call_output the model was sent (as text)."""
    out: dict[str, str] = {}
    for body in bodies:
        for item in body.get("input", []):
            if item.get("type") == "function_call_output":
                o = item.get("output")
                out[item["call_id"]] = o if isinstance(o, str) else json.dumps(o)
    return out


def _assert_secret_kept(client: openai.OpenAI, session_id: str, secret: str, events: list[dict[str, Any]], raw_stream: list[str]) -> None:
    session_text = _raw_session(client, session_id)
    assert secret not in session_text
    session = json.loads(session_text)
    mcp_tool = next(t for t in session["agent"]["tools"] if t["type"] == "mcp")
    assert mcp_tool["server_label"] == "docs"
    assert not _has_key(session, "authorization"), f"the session echoes an authorization: {mcp_tool}"
    pages = _raw_item_pages(client, session_id)
    for page in pages:
        assert secret not in page
    assert [i["id"] for page in pages for i in json.loads(page)["data"]] == [i.id for i in items_of(client, session_id)]
    assert events, "no events were collected"
    assert not any(secret in line for line in raw_stream)
    for event in events:
        assert not _has_key(event, "authorization"), f"an event echoes an authorization: {event['type']}"


def _assert_mcp_auth_everywhere(mcp_server: McpServer) -> None:
    recorded = mcp_server.recorded()
    assert recorded, "the MCP server was never called"
    bad = [(r["method"], r["path"], r["headers"].get("authorization")) for r in recorded if r["headers"].get("authorization") != f"Bearer {mcp_server.secret}"]
    assert bad == [], f"MCP requests without the session's bearer token: {bad}"


# ---------------------------------------------------------------------------------------------
# Tests


def test_agent_with_mcp_tool_and_web_search(cma_factory, scripted, mcp_server, searx):
    # The most verbose log level, so that the log check below covers every log line there is.
    server = cma_factory(env={"CMA_WEB_SEARCH_URL": searx.url, "CMA_LOG_LEVEL": "trace"})
    client = server.client()
    secret = mcp_server.secret

    # --- An MCP call, a search and a refused loopback page, then the answer. ---------------------
    tok = token()
    loopback_page = mcp_server.url
    scripted.add(
        _step(tok, _call("mcp__docs__lookup", {"term": "actor"}, "call_lookup")),
        _step(tok, _call("web_search", {"action": "search", "query": "swift actors"}, "call_search")),
        _step(tok, _call("web_search", {"action": "open_page", "url": loopback_page}, "call_open")),
        _step(tok, {"type": "message", "text": "Actors isolate their state."}),
    )
    stream = _CreateStream(client, agent=_agent(mcp_server), environment={"type": "none"}, input=f"{tok} what is a Swift actor?")
    session_id = stream.wait_created()
    events = stream.join()
    wait_for_turns_done(client, session_id, 1)
    types = [e["type"] for e in events]
    assert types[0] == "agent.session.created"
    assert types[-2:] == ["agent.session.turn.completed", "agent.session.idle"], types[-5:]

    # The model was offered the MCP tools (in server order) and then web_search, and read the results.
    bodies = scripted.bodies_for(session_id)
    assert len(bodies) == 4, f"expected 4 model requests, got {len(bodies)}"
    for body in bodies:
        names = [t.get("name") for t in body.get("tools", [])]
        for name in ("mcp__docs__lookup", "mcp__docs__drop_table", "web_search"):
            assert name in names, f"{name} not offered: {names}"
        assert names.index("mcp__docs__lookup") < names.index("mcp__docs__drop_table") < names.index("web_search")
    outputs = _outputs_by_call(bodies)
    assert outputs["call_lookup"] == "definition of actor"
    assert "Swift docs for swift actors" in outputs["call_search"]
    assert SEARCH_HIT_URL in outputs["call_search"]
    assert "not allowed" in outputs["call_open"].lower(), outputs["call_open"]
    assert "definition of" not in outputs["call_open"]

    # The search went to the backend.
    assert [(q.get("q"), q.get("format")) for q in searx.queries] == [(["swift actors"], ["json"])]

    # The MCP session: initialize first, then every request (the optional GET for server events
    # included) carries the Mcp-Session-Id. The loopback page was never fetched: the fetcher's
    # request would be a GET with an HTML Accept and no MCP session.
    recorded = mcp_server.recorded()
    assert recorded[0]["method"] == "POST" and recorded[0]["body"]["method"] == "initialize"
    assert recorded[0]["body"]["params"]["protocolVersion"] == MCP_PROTOCOL
    for r in recorded[1:]:
        assert r["headers"].get("mcp-session-id") == mcp_server.session_id, f"{r['method']} {r['body']} without Mcp-Session-Id"
        assert "text/html" not in r["headers"].get("accept", ""), f"a page fetch reached the loopback server: {r}"
    methods = [r["body"].get("method") for r in recorded if r["method"] == "POST"]
    assert "notifications/initialized" in methods and "tools/list" in methods
    assert [c.get("arguments") for c in mcp_server.tool_calls("lookup")] == [{"term": "actor"}]
    assert mcp_server.tool_calls("drop_table") == []

    # The items: one mcp_call and two web_search_calls, in call order.
    items = items_of(client, session_id)
    reach = [i for i in items if i.type in ("mcp_call", "web_search_call")]
    assert [i.type for i in reach] == ["mcp_call", "web_search_call", "web_search_call"]
    mcp_call, search, open_page = reach
    assert (mcp_call.server_label, mcp_call.name, mcp_call.status, mcp_call.output) == ("docs", "lookup", "completed", "definition of actor")
    args = mcp_call.arguments
    assert (json.loads(args) if isinstance(args, str) else args) == {"term": "actor"}
    assert mcp_call.error is None
    assert search.status == "completed"
    assert search.action.type == "search"
    assert search.action.query == "swift actors"
    assert search.action.queries == ["swift actors"]
    assert open_page.status == "incomplete"
    assert open_page.action.type == "open_page"
    assert open_page.action.url == loopback_page
    assert {i.turn_id for i in reach} == {items[0].turn_id}
    # The stream announced the same items.
    streamed = [e["item"]["id"] for e in events if e["type"] == "agent.session.turn.item.done" and e["item"]["type"] in ("mcp_call", "web_search_call")]
    assert streamed == [i.id for i in reach]

    _assert_secret_kept(client, session_id, secret, events, stream.raw)

    # --- A destructive tool waits for approval. ---------------------------------------------------
    tok2 = token()
    scripted.add(
        _step(tok2, _call("mcp__docs__drop_table", {"name": "users"}, "call_drop")),
        _step(tok2, {"type": "message", "text": "The users table is gone."}),
    )
    stream2 = _CreateStream(client, agent=_agent(mcp_server), environment={"type": "none"}, input=f"{tok2} drop the users table")
    session2_id = stream2.wait_created()
    waiting = wait_for_session_status(client, session2_id, "requires_action")
    assert len(waiting.required_actions) == 1
    action = waiting.required_actions[0]
    assert action.type == "mcp_approval_request"
    assert action.request.server_label == "docs"
    assert action.request.name == "drop_table"
    assert action.request_id
    rid = action.request_id
    req_args = action.request.arguments
    assert (json.loads(req_args) if isinstance(req_args, str) else req_args) == {"name": "users"}
    assert mcp_server.tool_calls("drop_table") == [], "the destructive tool ran before it was approved"
    pending = [i for i in items_of(client, session2_id) if i.type == "mcp_call"]
    assert [(i.name, i.status) for i in pending] == [("drop_table", "in_progress")]

    # An unknown request ID is refused and leaves the request pending.
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.beta.agents.sessions.events.create(
            session2_id,
            events=[
                {
                    "type": "agent.session.input.mcp_approval_request_result",
                    "request_id": "mcpr_" + uuid.uuid4().hex,
                    "response": {"type": "mcp_tool_call", "decision": "approve"},
                }
            ],
        )
    assert excinfo.value.status_code == 400
    assert client.beta.agents.sessions.retrieve(session2_id).status == "requires_action"
    assert mcp_server.tool_calls("drop_table") == []

    approval = {"type": "agent.session.input.mcp_approval_request_result", "request_id": rid, "response": {"type": "mcp_tool_call", "decision": "approve"}}
    client.beta.agents.sessions.events.create(session2_id, events=[approval])
    events2 = stream2.join()
    idle = wait_for_session_status(client, session2_id, "idle")
    assert idle.required_actions == []
    wait_for_turns_done(client, session2_id, 1)
    assert [e["type"] for e in events2][-2:] == ["agent.session.turn.completed", "agent.session.idle"]
    assert "agent.session.requires_action" in [e["type"] for e in events2]

    calls = mcp_server.tool_calls("drop_table")
    assert len(calls) == 1 and calls[0]["arguments"] == {"name": "users"}
    dropped = [i for i in items_of(client, session2_id) if i.type == "mcp_call"]
    assert len(dropped) == 1
    assert (dropped[0].id, dropped[0].server_label, dropped[0].name, dropped[0].status, dropped[0].output) == (
        pending[0].id,
        "docs",
        "drop_table",
        "completed",
        "dropped users",
    )
    assert _outputs_by_call(scripted.bodies_for(session2_id))["call_drop"] == "dropped users"

    # The answered request is no longer pending.
    with pytest.raises(openai.BadRequestError):
        client.beta.agents.sessions.events.create(session2_id, events=[approval])
    assert len(mcp_server.tool_calls("drop_table")) == 1

    _assert_secret_kept(client, session2_id, secret, events2, stream2.raw)
    _assert_mcp_auth_everywhere(mcp_server)
    assert server.proc is not None
    log = server.proc.stderr_text(limit=1 << 30)
    assert secret not in log


def test_web_search_wildcard_domain_rejected(client):
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.beta.agents.sessions.create(
            agent={"model": MODEL, "tools": [{"type": "web_search", "allowed_domains": ["*.example.com"]}]},
            environment={"type": "none"},
            input="hello " + token(),
        )
    assert excinfo.value.status_code == 400
    assert excinfo.value.body["param"] == "agent.tools[0].allowed_domains"
