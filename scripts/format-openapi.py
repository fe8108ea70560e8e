#!/usr/bin/env python3
"""Re-formats the OpenAPI document embedded in Sources/Server/OpenAPIDocument.swift (2-space
indentation, small objects and arrays on one line). Usage: scripts/format-openapi.py [--check]"""
import json
import re
import sys
from pathlib import Path

PATH = Path(__file__).resolve().parent.parent / "Sources/Server/OpenAPIDocument.swift"
WIDTH = 100


def render(value, indent):
    compact = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if not isinstance(value, (dict, list)) or len(compact) + indent <= WIDTH or not value:
        return compact
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        inner = [f"{pad}{json.dumps(k, ensure_ascii=False)}: {render(v, indent + 2)}" for k, v in value.items()]
        return "{\n" + ",\n".join(inner) + "\n" + " " * indent + "}"
    inner = [pad + render(v, indent + 2) for v in value]
    return "[\n" + ",\n".join(inner) + "\n" + " " * indent + "]"


def main() -> int:
    source = PATH.read_text()
    match = re.search(r'(#"""\n)(.*)(\n\s*"""#)', source, re.S)
    document = json.loads(match.group(2))
    text = render(document, 0)
    assert '"""#' not in text
    body = "\n".join(("        " + line) if line else line for line in text.split("\n"))
    updated = source[: match.start(2)] + body + source[match.end(2) :]
    if "--check" in sys.argv:
        return 0 if updated == source else 1
    PATH.write_text(updated)
    return 0


if __name__ == "__main__":
    sys.exit(main())
