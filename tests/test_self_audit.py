"""authlint's own promises about itself: it never runs what it scans and never uses the network.

A static audit of authlint's source (every module of `authlint/` and `rules/`) plus one scan
with the network switched off. A new dependency on `pickle`, `eval` or a socket has to
change this file, in review, with a reason.
"""

from __future__ import annotations

import ast
import socket
from pathlib import Path

import pytest

from conftest import REPO, invoke

SOURCES = sorted([*(REPO / "authlint").rglob("*.py"), *(REPO / "rules").glob("*.py")])

# Loading code or objects from data: nothing authlint reads (sources, configs, specs, its
# cache, baselines) may reach these.
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "marshal", "shelve", "socket", "ssl", "http.client", "urllib.request",
                     "ftplib", "smtplib", "requests", "httpx", "aiohttp", "urllib3"}  # fmt: skip
# Where authlint does run or import something, and why that is safe.
ALLOWED = {
    "subprocess": {"authlint/gitdiff.py"},  # `git diff` of the user's own repository, argument lists, no shell
    "importlib.import_module": {
        "authlint/registry.py",  # authlint's own rule modules
        "authlint/frameworks/__init__.py",  # authlint's own framework adapters
        "authlint/cache.py",  # only the modules of its fixed _MODULES list
    },
}
# The PyYAML entry points that can build arbitrary Python objects from a document.
YAML_UNSAFE = {"load", "load_all", "full_load", "full_load_all", "unsafe_load", "unsafe_load_all", "Loader", "CLoader",
               "FullLoader", "CFullLoader", "UnsafeLoader", "CUnsafeLoader"}  # fmt: skip


def relative(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def imported_modules(tree: ast.AST) -> set[str]:
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    return ""


@pytest.fixture(scope="module")
def trees() -> dict[str, ast.Module]:
    return {relative(path): ast.parse(path.read_text(encoding="utf-8")) for path in SOURCES}


def test_the_audit_reads_authlint_and_its_rules(trees) -> None:
    assert "authlint/engine.py" in trees and "rules/jwt_alg_none.py" in trees


def test_no_code_is_evaluated_from_data(trees) -> None:
    calls = [
        f"{path}:{node.lineno}: {dotted(node.func)}()"
        for path, tree in trees.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and dotted(node.func) in FORBIDDEN_CALLS
    ]
    assert calls == []


def test_no_deserializer_of_objects_and_no_network_module_is_imported(trees) -> None:
    imports = [
        f"{path}: {module}"
        for path, tree in trees.items()
        for module in sorted(imported_modules(tree))
        if module in FORBIDDEN_MODULES or module.split(".")[0] in FORBIDDEN_MODULES
    ]
    assert imports == []


def test_subprocess_is_used_only_for_git_and_never_through_a_shell(trees) -> None:
    users = {path for path, tree in trees.items() if "subprocess" in imported_modules(tree)}
    assert users <= ALLOWED["subprocess"]
    shells = [
        f"{path}:{node.lineno}"
        for path, tree in trees.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if keyword.arg == "shell" and not (isinstance(keyword.value, ast.Constant) and keyword.value.value is False)
    ]
    assert shells == []


def test_modules_are_imported_by_name_only_from_authlint_s_own_lists(trees) -> None:
    users = {
        path
        for path, tree in trees.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and dotted(node.func) in ("importlib.import_module", "import_module")
    }
    assert users <= ALLOWED["importlib.import_module"]


def test_yaml_is_only_read_with_the_safe_loader(trees) -> None:
    uses = {
        f"{path}:{node.lineno}: yaml.{node.attr}"
        for path, tree in trees.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and dotted(node.value) == "yaml" and node.attr in YAML_UNSAFE
    }
    assert uses == set()


def test_a_scan_with_the_network_switched_off_reports_as_usual(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("authlint opened a network connection")

    # The pool forks, so its workers inherit the patches too. Its pipes are socket pairs, which
    # never connect; anything that reaches for a host does.
    for name in ("connect", "connect_ex"):
        monkeypatch.setattr(socket.socket, name, refuse)
    for name in ("create_connection", "getaddrinfo"):
        monkeypatch.setattr(socket, name, refuse)
    monkeypatch.chdir(REPO)
    result = invoke("check", "fixtures/apps", "examples/vulnerable_api", "--jobs", "2", "--no-cache", "-q")
    assert result.exit_code == 1, result.output
    assert "AL301" in result.output
