"""The `cma serve` command line: configuration errors stop it with a clear message."""

from __future__ import annotations

import subprocess

from conftest import CMA_BIN


def _serve(tmp_path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CMA_BIN, "serve", "--port", "0", "--data-dir", str(tmp_path / "data"), *args],
        capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin", **(env or {})},
    )


def test_an_invalid_model_catalog_is_refused(tmp_path):
    catalog = tmp_path / "catalog.json"
    catalog.write_text('{"models": {"llama3.1": {"context_window": 10}}}')
    out = _serve(tmp_path, "--model-catalog", str(catalog))
    assert out.returncode != 0
    assert "context_window" in out.stderr and "llama3.1" in out.stderr
    out = _serve(tmp_path, env={"CMA_MODEL_CATALOG": str(tmp_path / "missing.json")})
    assert out.returncode != 0 and "Cannot read the model catalog" in out.stderr


def test_an_invalid_idle_timeout_is_refused(tmp_path):
    out = _serve(tmp_path, env={"CMA_SANDBOX_IDLE_TIMEOUT": "soon"})
    assert out.returncode != 0 and "CMA_SANDBOX_IDLE_TIMEOUT" in out.stderr
