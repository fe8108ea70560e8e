"""Schema-based fuzzing of the whole API against the OpenAPI document the server serves
(`GET /v1/openapi.json`), with schemathesis.

Every operation of the document gets generated requests, valid and invalid (the examples,
coverage and fuzzing phases; derandomized generation with a fixed seed, so a run is
reproducible). Every response must pass these checks: no 5xx, a documented status code, a
documented content type, a body that matches the documented schema (SSE streams are validated
event by event against `SessionEvent`), and authentication that is really enforced (for each
operation that answered 2xx, the request is replayed without a key and with a wrong one).

Random path IDs only ever reach 404s, so path parameters are also drawn from real objects created
up front (an agent, an idle session with a finished turn, a template, a file); DELETE operations
get objects of their own to delete. The live event stream (`GET …/events`) never ends by itself:
its requests have a 1 s timeout, after which schemathesis validates the events that arrived.

Hosted environments are switched off for this server (`CMA_BWRAP` points at nothing), so that
generated `packages` never start package installs and the run stays fast and deterministic. Their
parameters are still validated, and a valid hosted request gets the documented 400
`feature_not_available` (test_environments.py and test_hosted.py cover the hosted paths).
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any, Iterable

import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import MODEL, REPO_ROOT, CmaServer, ScriptedModel, http_json, wait_for_turns_done

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance, ignored_auth]

#: Examples per operation in the fuzzing phase (the examples and coverage phases add their own).
MAX_EXAMPLES = 50
#: The live event stream: fewer examples, and a timeout that ends each subscription.
STREAM_MAX_EXAMPLES = 8
STREAM_TIMEOUT = 1.0
#: Any other request.
REQUEST_TIMEOUT = 15.0
SEED = 20261125

SWIFT_DOCUMENT = REPO_ROOT / "Sources" / "Server" / "OpenAPIDocument.swift"


def document_from_swift_source(path: Path = SWIFT_DOCUMENT) -> dict[str, Any]:
    """The document as written in OpenAPIDocument.swift: the raw string literal between `#\"\"\"`
    and `\"\"\"#` (JSON does not mind the literal's indentation)."""
    match = re.search(r'#"""\n(.*?)\n[ \t]*"""#', path.read_text(), re.S)
    assert match, f"no raw string literal in {path}"
    return json.loads(match.group(1))


def load_document(cma: CmaServer) -> tuple[dict[str, Any], bool]:
    """The document and whether the server served it.

    The served document (no API key needed) is the one normally used. Only a `cma` binary built
    before the route existed answers 404: then the document comes from the Swift source, so the
    fuzzing can still run against that binary."""
    status, body, headers = http_json("GET", f"{cma.base_url}/openapi.json")
    if status == 404:
        return document_from_swift_source(), False
    assert status == 200, f"GET /v1/openapi.json -> {status}: {body}"
    assert headers.get("content-type", "").startswith("application/json"), headers
    assert isinstance(body, dict), body
    return body, True


# ---------------------------------------------------------------------------------------------
# The server, and the objects whose IDs requests may use


def _auth(cma: CmaServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {cma.key}"}


def _post(cma: CmaServer, path: str, body: Any) -> dict[str, Any]:
    status, parsed, _ = http_json("POST", cma.base_url + path, body, headers=_auth(cma))
    assert status == 200, f"POST {path} -> {status}: {parsed}"
    return parsed


def _upload(cma: CmaServer, name: str) -> dict[str, Any]:
    response = requests.post(
        f"{cma.base_url}/files", headers=_auth(cma), files={"file": (name, b"hello\n", "text/plain")}, data={"purpose": "user_data"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


def _idle_session(cma: CmaServer) -> dict[str, Any]:
    """A session whose first turn (answered by the echo fallback) has finished."""
    session = _post(
        cma,
        "/agents/sessions",
        {"agent": {"model": MODEL}, "environment": {"type": "none"}, "input": "hello " + uuid.uuid4().hex[:8], "metadata": {"k": "v"}},
    )
    wait_for_turns_done(cma.client(), session["id"], 1)
    return session


@pytest.fixture(scope="module")
def fuzz_cma(scripted: ScriptedModel, tmp_path_factory: pytest.TempPathFactory) -> Iterable[CmaServer]:
    scripted.reset()
    scripted.fallback("echo")
    server = CmaServer(tmp_path_factory.mktemp("cma-fuzz"), scripted.base_url, env={"CMA_BWRAP": "/nonexistent/bwrap"}).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def known_ids(fuzz_cma: CmaServer) -> dict[str, dict[str, list[str]]]:
    """Real IDs per path parameter: `shared` ones for every operation, and `disposable` ones for
    the parameter that names the object a DELETE removes."""
    cma = fuzz_cma
    session = _idle_session(cma)
    _, turns, _ = http_json("GET", f"{cma.base_url}/agents/sessions/{session['id']}/turns", headers=_auth(cma))
    shared = {
        "agent_id": [_post(cma, "/agents", {"model": MODEL, "name": "fuzz", "metadata": {"k": "v"}})["id"]],
        "session_id": [session["id"]],
        "turn_id": [t["id"] for t in turns["data"]],
        "environment_template_id": [
            _post(cma, "/agents/environments/templates", {"name": "fuzz", "network": {"access": "restricted", "allowed_domains": ["example.com"]}})["id"]
        ],
        "file_id": [_upload(cma, "fuzz.txt")["id"]],
    }
    disposable = {
        "agent_id": [_post(cma, "/agents", {"model": MODEL})["id"] for _ in range(2)],
        "session_id": [_idle_session(cma)["id"] for _ in range(2)],
        "environment_template_id": [_post(cma, "/agents/environments/templates", {})["id"] for _ in range(2)],
        "file_id": [_upload(cma, f"gone{i}.txt")["id"] for i in range(2)],
    }
    return {"shared": shared, "disposable": disposable}


@pytest.fixture(scope="module")
def api_schema(fuzz_cma: CmaServer, known_ids: dict[str, dict[str, list[str]]]) -> schemathesis.BaseSchema:
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            # Generation speed depends on the machine: never fail a run for it.
            "suppress-health-check": ["all"],
            "base-url": fuzz_cma.base_url,
            "auth": {"openapi": {"bearerAuth": {"bearer": fuzz_cma.key}}},
            "request-timeout": REQUEST_TIMEOUT,
            "generation": {
                "mode": "all",
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
                # Requests carry the real key; `ignored_auth` probes without it and with a wrong one.
                "with-security-parameters": False,
            },
            "operations": [
                {"include-operation-id": "streamSessionEvents", "request-timeout": STREAM_TIMEOUT, "generation": {"max-examples": STREAM_MAX_EXAMPLES}}
            ],
        }
    )
    document, served = load_document(fuzz_cma)
    if not served:
        # A binary older than the route (see load_document): the route itself cannot be tested.
        document["paths"].pop("/openapi.json", None)
    schema = schemathesis.openapi.from_dict(document, config=config)

    @schema.hook
    def flatmap_path_parameters(context: schemathesis.HookContext, path_parameters: dict[str, Any]) -> Any:
        """Each path parameter is the generated value or one of the real IDs."""
        operation = context.operation
        if not path_parameters or operation is None:
            return st.just(path_parameters)
        # The parameter naming the object a DELETE removes is the last one of its path.
        deleted = re.findall(r"\{([^}]+)\}", operation.path)[-1] if operation.method.upper() == "DELETE" else None
        choices = {}
        for name, value in path_parameters.items():
            pool = known_ids["disposable" if name == deleted else "shared"].get(name, [])
            choices[name] = st.sampled_from([value, *pool])
        return st.fixed_dictionaries(choices)

    @schema.hook
    def filter_case(context: schemathesis.HookContext, case: schemathesis.Case) -> bool:
        """Drops path values that a parameter's schema excludes because they name another route
        (`/agents/sessions` is not the agent `sessions`): such a request is not one of this
        operation. The coverage phase generates them on purpose, as invalid values."""
        for parameter in case.operation.path_parameters:
            excluded = parameter.definition.get("schema", {}).get("not", {}).get("enum", [])
            if (case.path_parameters or {}).get(parameter.name) in excluded:
                return False
        return True

    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_api_conforms_to_its_openapi_document(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)


def test_served_document_is_the_source_document(fuzz_cma: CmaServer) -> None:
    """The document is served without an API key, and is the one in OpenAPIDocument.swift."""
    status, body, headers = http_json("GET", f"{fuzz_cma.base_url}/openapi.json")
    if status == 404:
        pytest.skip("this cma binary predates GET /v1/openapi.json")
    assert status == 200, body
    assert headers["content-type"].startswith("application/json")
    assert body == document_from_swift_source()
    assert body["openapi"] == "3.1.0" and body["servers"] == [{"url": "/v1"}]
