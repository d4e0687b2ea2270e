"""Property tests: generated programs, bytes and configurations through the whole engine.

Whatever the input, no exception escapes, the SARIF report is valid, and the same input
gives the same report twice. Programs come from hypothesmith (valid Python from the
grammar and from libcst's node types), prefixed with the imports that open every
rule's and adapter's gate so that they are really parsed and walked; a second file
mounts them in a FastAPI app so that the link phase and the project rules run too.
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authlint.cli import scan
from authlint.config import Config, ConfigError, file_settings, load_config
from authlint.reporters import render

GATE_OPENERS = (
    "import jwt\nimport requests\nimport flask\nimport django\nimport sqlalchemy\n"
    "from fastapi import FastAPI, APIRouter, Depends\n"
)
APP = """from fastapi import FastAPI
from generated import *

app = FastAPI()


@app.get("/items/{item_id}")
def read(item_id: int):
    return item_id
"""

# Each example is two whole scans; a few dozen keep the suite fast and still cover odd grammar.
ENGINE_SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@contextmanager
def project(generated: bytes) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / "generated.py").write_bytes(generated)
        (root / "app.py").write_text(APP, encoding="utf-8")
        cwd = os.getcwd()
        os.chdir(root)
        try:
            yield root
        finally:
            os.chdir(cwd)


def reports(root: Path) -> tuple[str, str]:
    """The SARIF and JSON reports of a scan of `root` with every rule (in-process, no time limit)."""
    config = Config(root=root, file_timeout=0)
    result = scan([root], config, jobs=1)
    return render("sarif", result), render("json", result)


def assert_whole_engine_holds(generated: bytes, sarif_validator) -> None:
    with project(generated) as root:
        first = reports(root)
        second = reports(root)
    assert first == second
    sarif_validator.validate(json.loads(first[0]))
    document = json.loads(first[1])
    assert [e for e in document["errors"] if e["kind"] == "internal"] == []
    assert document["summary"]["files_scanned"] == 2


@ENGINE_SETTINGS
@given(hypothesmith.from_grammar())
def test_programs_from_the_grammar(sarif_validator, source: str) -> None:
    assert_whole_engine_holds((GATE_OPENERS + source).encode("utf-8", "surrogatepass"), sarif_validator)


# from_node rejects most of what it draws (hypothesmith's own tests call it slow): fewer examples.
# It compiles what it draws to reject invalid code, and CPython warns about some of it (`1.0()`).
@pytest.mark.filterwarnings("ignore::SyntaxWarning")
@settings(ENGINE_SETTINGS, max_examples=8, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(hypothesmith.from_node())
def test_programs_from_libcst_nodes(sarif_validator, source: str) -> None:
    assert_whole_engine_holds((GATE_OPENERS + source).encode("utf-8", "surrogatepass"), sarif_validator)


@ENGINE_SETTINGS
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(sarif_validator, data: bytes) -> None:
    assert_whole_engine_holds(GATE_OPENERS.encode() + data, sarif_validator)


# Configuration --------------------------------------------------------------------

KEYS = st.sampled_from(["select", "ignore", "extend-select", "exclude", "extend-exclude", "fail-on", "file-timeout",
                        "per-file-ignores", "rules", "respect-gitignore", "force-exclude", "auth-decorators",
                        "public-routes", "selct", "AL101"])  # fmt: skip
SCALARS = st.one_of(
    st.booleans(),
    st.integers(-10, 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["AL101", "AL1", "ALL", "low", "critical", "[", "**/*.py", "!", "\\", "", "AL999"]),
    st.text(max_size=10),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS | st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(repr(value), repr(value))
    if isinstance(value, (int, str)):
        return json.dumps(value)  # JSON strings are TOML basic strings, except for lone surrogates (invalid TOML)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{json.dumps(key)} = {toml_value(item)}" for key, item in value.items()) + "}"


def assert_config_error_or_valid(text: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "authlint.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            file_settings(load_config(path, Path(directory)))
        except ConfigError as exc:
            message = str(exc)
            assert "\n" not in message.strip(), message
            assert "authlint.toml" in message, message


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(KEYS, VALUES, max_size=4))
def test_generated_configurations_load_or_fail_with_one_line(table: dict) -> None:
    assert_config_error_or_valid("".join(f"{json.dumps(key)} = {toml_value(value)}\n" for key, value in table.items()))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_as_configuration(text: str) -> None:
    assert_config_error_or_valid(text)
