"""The link phase: FileFacts, cross-module resolution, configured auth vocabulary, `authlint routes`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from authlint.cli import main, scan
from authlint.config import Config, ConfigError, load_config
from authlint.engine import FileSettings, analyze_text
from authlint.facts.expr import Call, Const, Name, Ref
from authlint.facts.file_facts import module_name
from authlint.project import Class, External, Function, Module, Value
from authlint.testing import file_facts, project_of

FACTS_ONLY = FileSettings((), (), collect_facts=True)
facts_of = file_facts


def test_module_names_come_from_paths() -> None:
    assert module_name("app/routes/users.py") == ("app.routes.users", False)
    assert module_name("app/__init__.py") == ("app", True)
    assert module_name("./main.py") == ("main", False)


def test_facts_record_definitions_assignments_and_calls_with_lines() -> None:
    source = (
        "from fastapi import APIRouter, Depends\n"
        "from .deps import user\n"
        "router = APIRouter(prefix='/x')\n"
        "if True:\n"
        "    router.include_router(other, prefix='/y')\n"
        "@router.get('/a')\n"
        "async def handler(u=Depends(user)):\n"
        "    x = 1; y = 2\n"
        "    def inner(): pass\n"
        "class View(Base):\n"
        "    permission_classes = [IsAuthenticated]\n"
        "    def get(self): pass\n"
    )
    facts = facts_of("app/routes.py", source)
    assert facts.imports == {"APIRouter": "fastapi.APIRouter", "Depends": "fastapi.Depends", "user": ".deps.user"}
    assert facts.assignments["router"] == Call(Ref("fastapi.APIRouter"), (), (("prefix", Const("/x")),))
    assert facts.assignment_lines["router"] == 3
    assert [site.line for site in facts.calls] == [5]
    handler = facts.functions["handler"]
    assert (handler.line, handler.column, handler.is_async) == (7, 1, True)
    assert handler.params[0].default == Call(Ref("fastapi.Depends"), (Ref(".deps.user"),))
    assert facts.functions["handler.inner"].line == 9
    assert facts.assignments["handler.y"] == Const(2)
    view = facts.classes["View"]
    assert (view.line, view.methods) == (10, ("get",))
    assert view.attributes["permission_classes"].items == (Name("IsAuthenticated"),)
    assert facts.functions["View.get"].column == 5


def test_lines_fall_back_to_libcst_when_cpython_cannot_parse(monkeypatch) -> None:
    import authlint.parse as parse_module

    monkeypatch.setattr(parse_module, "_screen_with_cpython", lambda text: (None, None))
    facts = facts_of("m.py", "import fastapi\n\n\n@app.route('/')\ndef index():\n    pass\nx = 1\n")
    assert facts.functions["index"].line == 5
    assert facts.assignment_lines["x"] == 7


def test_project_resolves_relative_imports_re_exports_and_aliases() -> None:
    project = project_of({
        "app/__init__.py": "from .deps import get_user as current\n",
        "app/deps.py": "import fastapi\ndef get_user(): pass\nCurrent = fastapi.Depends(get_user)\n",
        "app/routes/__init__.py": "",
        "app/routes/users.py": "import fastapi\nfrom .. import current\nfrom app.deps import Current as C\nalias = current\n",
    })  # fmt: skip
    users = project.module("app.routes.users")
    assert users is not None
    resolved = project.resolve_value(users, Name("alias"))
    assert isinstance(resolved, Function) and resolved.qualified == "app.deps.get_user"
    value = project.resolve(users, Name("C"))
    assert isinstance(value, Value) and project.callee_name(value.file, value.expr) == "fastapi.Depends"
    assert isinstance(project.resolve_dotted("app.routes"), Module)
    assert project.resolve_dotted("flask.Flask") == External("flask.Flask")


def test_project_matches_modules_below_the_scan_root_but_not_inside_packages() -> None:
    project = project_of({
        "backend/app/__init__.py": "",
        "backend/app/deps.py": "import fastapi\nclass Settings: pass\n",
        "backend/app/jwt.py": "import fastapi\n",
    })  # fmt: skip
    deps = project.module("app.deps")
    assert deps is not None and deps.path == "backend/app/deps.py"
    assert isinstance(project.resolve_dotted("app.deps.Settings"), Class)
    # `import jwt` is the library, not app/jwt.py inside the package `app`.
    assert project.resolve_dotted("jwt.decode") == External("jwt.decode")


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


APP = {
    "app/__init__.py": "",
    "app/security.py": "def caller():\n    return None\n",
    "app/main.py": (
        "from fastapi import Depends, FastAPI\n"
        "from app.security import caller\n"
        "app = FastAPI()\n"
        "@app.post('/orders')\n"
        "def create(user=Depends(caller)):\n"
        "    return {}\n"
        "@app.post('/webhooks/stripe')\n"
        "def hook():\n"
        "    return {}\n"
    ),
}  # fmt: skip


def test_configured_auth_dependencies_and_public_routes_reach_the_route_table(tmp_path, monkeypatch) -> None:
    _write(tmp_path, APP)
    monkeypatch.chdir(tmp_path)
    plain = scan([Path(".")], Config(root=tmp_path), jobs=1)
    assert sorted((f.code, f.span.line) for f in plain.findings) == [("AL301", 5), ("AL301", 8)]

    (tmp_path / "pyproject.toml").write_text(
        '[tool.authlint]\nauth-dependencies = ["app.security.caller"]\nextend-public-routes = ["/webhooks/*"]\n'
    )
    config = load_config(None, tmp_path)
    taught = scan([Path(".")], config, jobs=1)
    assert taught.findings == []
    auth = {r.path: [e.mechanism for e in r.auth] for r in taught.routes}
    assert auth["/orders"] == ["Depends(caller) via app.security.caller (configured auth dependency)"]
    assert [r.public for r in taught.routes] == [False, True]


@pytest.mark.parametrize("key", ["auth-decorators", "public-routes", "admin-checks"])
def test_auth_keys_must_be_string_lists(tmp_path, key) -> None:
    (tmp_path / "authlint.toml").write_text(f'{key} = "app.auth"\n')
    with pytest.raises(ConfigError, match=rf"authlint.toml: '{key}' must be a list of strings"):
        load_config(None, tmp_path)


def test_routes_command_formats(tmp_path, monkeypatch) -> None:
    _write(tmp_path, APP)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    data = json.loads(runner.invoke(main, ["routes", "--format", "json"]).output)
    first = data["routes"][0]
    assert (first["methods"], first["path"], first["file"], first["line"]) == (["POST"], "/orders", "app/main.py", 5)
    assert first["authenticated"] is False and first["flags"] == []
    markdown = runner.invoke(main, ["routes", "--format", "markdown"]).output
    assert markdown.splitlines()[2].startswith("| POST | `/orders` | `app/main.py:5` | fastapi | none |")
    table = runner.invoke(main, ["routes", "--color", "never"]).output
    assert "2 routes" in table and "/webhooks/stripe" in table
    taught = tmp_path / "authlint.toml"
    taught.write_text('auth-dependencies = ["app.security.caller"]\n')
    assert "[handler]" in runner.invoke(main, ["routes", "--color", "always"]).output
    taught.unlink()
    out = tmp_path / "routes.csv"
    assert runner.invoke(main, ["routes", "--format", "csv", "-o", str(out)]).exit_code == 0
    assert out.read_text().startswith("method,path,handler,framework,auth,roles/scopes,flags\n")
    missing = runner.invoke(main, ["routes", "nope"])
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_route_findings_carry_related_locations_in_sarif(tmp_path, monkeypatch, sarif_validator) -> None:
    _write(tmp_path, {
        "app/__init__.py": "",
        "app/api.py": "from fastapi import APIRouter\nrouter = APIRouter(prefix='/a')\n@router.delete('/{id}')\ndef drop(id: int):\n    pass\n",
        "app/main.py": "from fastapi import FastAPI\nfrom app import api\napp = FastAPI()\napp.include_router(api.router)\n",
    })  # fmt: skip
    monkeypatch.chdir(tmp_path)
    outcome = CliRunner().invoke(main, ["check", "--format", "sarif", "--exit-zero"])
    log = json.loads(outcome.output)
    errors = sorted(sarif_validator.iter_errors(log), key=str)
    assert not errors, errors[0].message
    result = log["runs"][0]["results"][0]
    assert result["ruleId"] == "AL301"
    assert "DELETE /a/{id}" in result["message"]["text"]
    related = [(r["physicalLocation"]["artifactLocation"]["uri"], r["physicalLocation"]["region"]["startLine"])
               for r in result["relatedLocations"]]  # fmt: skip
    # From the outside in: the app, the include_router call, the router itself.
    assert related == [("app/main.py", 3), ("app/main.py", 4), ("app/api.py", 2)]


def test_cyclic_aliases_and_instances_resolve_to_unknown_instead_of_recursing() -> None:
    project = project_of({
        "a.py": "import fastapi\nfrom b import y as x\nclass K(fastapi.FastAPI):\n    attr = K().attr\nk = K()\n",
        "b.py": "import fastapi\nfrom a import x as y\n",
    })  # fmt: skip
    a = project.module("a")
    assert a is not None
    assert not isinstance(project.resolve_value(a, Name("x")), (Function, Class, Value))
    assert project.member(project.resolve(a, Name("k")), "attr") is not None


def test_a_failing_adapter_is_an_internal_error_and_the_others_still_run(tmp_path, monkeypatch) -> None:
    from authlint.frameworks.fastapi import FastAPI

    def broken(self, project, settings):
        raise RuntimeError("boom")

    monkeypatch.setattr(FastAPI, "routes", broken)
    _write(tmp_path, APP)
    monkeypatch.chdir(tmp_path)
    result = scan([Path(".")], Config(root=tmp_path), jobs=1)
    assert [e.message for e in result.internal_errors] == ["the fastapi adapter failed: RuntimeError: boom"]


def test_project_rules_with_a_gate_get_full_facts_of_the_files_it_passes() -> None:
    from authlint.rule import ProjectRule

    class NeedsModels(ProjectRule):
        requires = frozenset({"sqlalchemy"})

    source = "from sqlalchemy.orm import DeclarativeBase\nclass User(DeclarativeBase):\n    password: str\n"
    without = analyze_text(source, "models.py", FACTS_ONLY, module_path="models.py")
    assert without.facts is not None and not without.facts.classes and "DeclarativeBase" in without.facts.imports
    gated = FileSettings((), (), collect_facts=True, fact_rules=(NeedsModels,))
    facts = analyze_text(source, "models.py", gated, module_path="models.py").facts
    assert facts is not None and list(facts.classes) == ["User"]


PROTECTED_ONE_LEVEL_UP = {
    "app/__init__.py": "",
    "app/deps.py": "from fastapi import Depends\nfrom fastapi.security import HTTPBearer\nbearer = HTTPBearer()\n",
    "app/users.py": (
        "from fastapi import APIRouter\n"
        "router = APIRouter(prefix='/users')\n"
        "@router.delete('/{user_id}/sessions')\n"
        "def end_sessions(user_id: int):\n"
        "    pass\n"
    ),
    "app/main.py": (
        "from fastapi import Depends, FastAPI\n"
        "from app import users\n"
        "from app.deps import bearer\n"
        "app = FastAPI()\n"
        "app.include_router(users.router, dependencies=[Depends(bearer)])\n"
        "@app.post('/orders')\n"
        "def create_order():\n"
        "    pass\n"
    ),
    "app/broken.py": "import fastapi\ndef broken(:\n",
}  # fmt: skip


def test_named_files_are_linked_against_the_whole_project_and_only_they_are_reported(tmp_path, monkeypatch) -> None:
    """pre-commit names the changed files; the router that protects them may be elsewhere."""
    _write(tmp_path, PROTECTED_ONE_LEVEL_UP)
    monkeypatch.chdir(tmp_path)
    changed = scan([Path("app/users.py")], Config(root=tmp_path), jobs=1, want_routes=True)
    assert changed.findings == [] and changed.errors == []
    assert [(r.label, r.authenticated) for r in changed.routes] == [("DELETE /users/{user_id}/sessions", True)]
    whole = scan([Path(".")], Config(root=tmp_path), jobs=1)
    assert [(f.path, f.code) for f in whole.findings] == [("app/main.py", "AL301")]
    assert [e.path for e in whole.errors] == ["app/broken.py"]
