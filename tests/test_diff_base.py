"""`authlint check --diff-base REF`: only findings on lines changed since the merge base with REF.

The patch parser is tested on hand-written `git diff --unified=0` output; the command on
real temporary git repositories (skipped where git is not installed).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from authlint.cli import main
from authlint.gitdiff import ChangedLines, parse_diff

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

NONE_TOKEN = 'TOKEN = jwt.encode({}, None, algorithm="none")\n'  # AL101


def patch(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


# --- the patch parser --------------------------------------------------------------------


def test_added_and_replaced_lines_are_changed() -> None:
    diff = patch(
        "diff --git a/app.py b/app.py", "--- a/app.py", "+++ b/app.py",
        "@@ -3,0 +4 @@ def f():", "+    x = 1",
        "@@ -10,2 +11,3 @@", "-a", "-b", "+a", "+b", "+c",
    )  # fmt: skip
    assert list(parse_diff(diff)) == [("app.py", ((4, 4), (11, 13)))]


def test_a_deletion_touches_the_lines_on_both_sides_of_the_gap() -> None:
    diff = patch("--- a/app.py", "+++ b/app.py", "@@ -5,2 +4,0 @@", "-gone", "-gone too", "@@ -1 +0,0 @@", "-first")
    assert list(parse_diff(diff)) == [("app.py", ((4, 5), (1, 1)))]


def test_hunk_lines_that_look_like_headers_are_content() -> None:
    diff = patch(
        "--- a/app.py", "+++ b/app.py", "@@ -1,0 +2,2 @@", "++++ b/other.py", "+@@ -1 +1 @@",
        "\\ No newline at end of file", "--- a/next.py", "+++ b/next.py", "@@ -1 +1 @@", "-x", "+y",
    )  # fmt: skip
    assert list(parse_diff(diff)) == [("app.py", ((2, 3),)), ("next.py", ((1, 1),))]


def test_deleted_files_have_no_lines_and_new_files_all_of_theirs() -> None:
    diff = patch(
        "--- a/gone.py", "+++ /dev/null", "@@ -1,2 +0,0 @@", "-a", "-b",
        "--- /dev/null", "+++ b/new.py", "@@ -0,0 +1,2 @@", "+a", "+b",
    )  # fmt: skip
    assert list(parse_diff(diff)) == [("new.py", ((1, 2),))]


def test_paths_with_spaces_and_quoted_paths() -> None:
    diff = (
        b"--- a/my app/a b.py\t\n+++ b/my app/a b.py\t\n@@ -1 +1 @@\n-x\n+y\n"
        b'--- "a/caf\\303\\251 \\"q\\".py"\n+++ "b/caf\\303\\251 \\"q\\".py"\n@@ -2 +2 @@\n-x\n+y\n'
    )
    assert list(parse_diff(diff)) == [("my app/a b.py", ((1, 1),)), ('café "q".py', ((2, 2),))]


def test_changed_lines_touch_overlapping_ranges_and_every_line_of_a_new_file() -> None:
    changes = ChangedLines({Path("/p/a.py"): ((4, 6),), Path("/p/new.py"): None})
    assert changes.touches(Path("/p/a.py"), 6, 9) and changes.touches(Path("/p/a.py"), 1, 4)
    assert not changes.touches(Path("/p/a.py"), 1, 3) and not changes.touches(Path("/p/a.py"), 7, 7)
    assert changes.touches(Path("/p/new.py"), 500, 500)
    assert not changes.touches(Path("/p/other.py"), 1, 1)


# --- the command on real repositories ----------------------------------------------------


GIT_IDENTITY = ("-c", "user.name=authlint tests", "-c", "user.email=tests@authlint.invalid",
                "-c", "commit.gpgsign=false")  # fmt: skip


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *GIT_IDENTITY, *args], cwd=cwd, check=True, capture_output=True)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository with one commit on `main` and a checked-out branch `feature`; the working directory."""
    root = tmp_path / "repo"
    write(root / "base.py", "import jwt\n\n" + NONE_TOKEN)
    git(root.parent, "init", "-q", "repo")
    git(root, "checkout", "-q", "-b", "main")
    commit(root, "base")
    git(root, "checkout", "-q", "-b", "feature")
    monkeypatch.chdir(root)
    return root


def commit(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def reported(*args: str, select: str = "AL101") -> set[tuple[str, int]]:
    result = CliRunner().invoke(main, ["check", *args, "--select", select, "--format", "json", "--jobs", "1",
                                       "--exit-zero"], catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    return {(finding["path"], finding["line"]) for finding in json.loads(result.stdout)["findings"]}


def test_only_lines_changed_since_the_merge_base_are_reported(repo: Path) -> None:
    write(repo / "base.py", "import jwt\n\n" + NONE_TOKEN + "\nOTHER = 1\n" + NONE_TOKEN)
    commit(repo, "feature adds a second token")
    assert reported(".") == {("base.py", 3), ("base.py", 6)}
    assert reported(".", "--diff-base", "main") == {("base.py", 6)}


def test_the_comparison_is_with_the_merge_base_not_with_the_tip_of_ref(repo: Path) -> None:
    write(repo / "base.py", "import jwt\n\nSAFE = 1\n" + NONE_TOKEN)
    commit(repo, "feature")
    git(repo, "checkout", "-q", "main")
    write(repo / "base.py", "import jwt\n")  # main fixes the old token after the branch point
    commit(repo, "main moves on")
    git(repo, "checkout", "-q", "feature")
    assert reported(".") == {("base.py", 4)}
    # Against main's tip the old token would look new; the branch only added the line above it.
    assert reported(".", "--diff-base", "main") == set()


def test_uncommitted_edits_and_untracked_files_count_as_changed(repo: Path) -> None:
    write(repo / "base.py", "import jwt\n\n" + NONE_TOKEN + NONE_TOKEN)  # not committed
    write(repo / "new.py", "import jwt\n" + NONE_TOKEN + "\n\n" + NONE_TOKEN)  # not even added
    write(repo / ".gitignore", "ignored/\n")
    write(repo / "ignored" / "local.py", "import jwt\n" + NONE_TOKEN)
    assert reported(".", "--diff-base", "main") == {("base.py", 4), ("new.py", 2), ("new.py", 5)}
    # A file git ignores is not a change, even when it is scanned.
    assert ("ignored/local.py", 2) not in reported(".", "--no-respect-gitignore", "--diff-base", "main")


def test_a_renamed_file_counts_only_its_edited_lines_and_a_deleted_one_nothing(repo: Path) -> None:
    write(repo / "gone.py", "import jwt\n" + NONE_TOKEN)
    write(repo / "base.py", "import jwt\n\n" + NONE_TOKEN + "".join(f"VALUE_{n} = {n}\n" for n in range(20)))
    commit(repo, "more code")
    git(repo, "checkout", "-q", "-b", "move", "main")
    git(repo, "merge", "-q", "feature")
    git(repo, "mv", "base.py", "moved.py")
    git(repo, "rm", "-q", "gone.py")
    with (repo / "moved.py").open("a", encoding="utf-8") as handle:
        handle.write(NONE_TOKEN)
    commit(repo, "rename, delete, and add a token")
    assert reported(".") == {("moved.py", 3), ("moved.py", 24)}
    assert reported(".", "--diff-base", "feature") == {("moved.py", 24)}


def test_a_finding_counts_when_any_line_of_its_statement_before_it_changed(repo: Path) -> None:
    write(repo / "call.py", 'import jwt\n\nTOKEN = jwt.encode(\n    {}, None, algorithm="none"\n)\n')
    commit(repo, "a multi-line call")
    git(repo, "checkout", "-q", "-b", "rename-variable")
    write(repo / "call.py", 'import jwt\n\nACCESS_TOKEN = jwt.encode(\n    {}, None, algorithm="none"\n)\n')
    assert reported(".", "--diff-base", "feature") == {("call.py", 4)}


def test_a_project_in_a_subdirectory_with_spaces_in_its_paths(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = repo / "services" / "my api"
    write(project / "pyproject.toml", "[tool.authlint]\n")
    write(project / "old code.py", "import jwt\n" + NONE_TOKEN)
    commit(repo, "a service")
    write(project / "old code.py", "import jwt\n" + NONE_TOKEN + NONE_TOKEN)
    write(project / 'new "quoted" café.py', "import jwt\n" + NONE_TOKEN)
    git(repo, "add", "-A")  # staged, not committed
    monkeypatch.chdir(project)
    assert reported(".", "--diff-base", "HEAD") == {("old code.py", 3), ('new "quoted" café.py', 2)}
    monkeypatch.chdir(repo)
    assert reported("services/my api", "--diff-base", "main") == {
        ("services/my api/old code.py", 2), ("services/my api/old code.py", 3),
        ('services/my api/new "quoted" café.py', 2)}  # fmt: skip


FASTAPI_DEPS = """\
from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

oauth2 = OAuth2PasswordBearer(tokenUrl="token")


def current_user(token: str = Depends(oauth2)):
    return token
"""
FASTAPI_ORDERS = """\
from fastapi import APIRouter

router = APIRouter()


@router.delete("/orders/{order_id}")
def delete_order(order_id: int):
    return {"deleted": order_id}
"""
FASTAPI_MAIN = """\
from fastapi import Depends, FastAPI

import orders
from deps import current_user

app = FastAPI()
app.include_router(orders.router, dependencies=[Depends(current_user)])
"""


def test_a_route_that_lost_its_auth_in_a_changed_file_is_reported_where_it_is_defined(repo: Path) -> None:
    for name, text in {"deps.py": FASTAPI_DEPS, "orders.py": FASTAPI_ORDERS, "main.py": FASTAPI_MAIN}.items():
        write(repo / name, text)
    commit(repo, "a protected API")
    git(repo, "checkout", "-q", "-b", "drop-auth")
    assert reported(".", "--diff-base", "feature", select="AL301") == set()
    write(repo / "main.py", FASTAPI_MAIN.replace(", dependencies=[Depends(current_user)]", ""))
    # orders.py did not change, but the include in main.py through which its route was protected did.
    assert reported(".", "--diff-base", "feature", select="AL301") == {("orders.py", 7)}


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("no-such-branch", "authlint: error: --diff-base: unknown git revision 'no-such-branch'\n"),
        ("--output=/tmp/x", "authlint: error: --diff-base: unknown git revision '--output=/tmp/x'\n"),
        ("orphan", "authlint: error: --diff-base: 'orphan' and HEAD have no common ancestor\n"),
    ],
)
def test_a_revision_that_cannot_be_compared_is_one_line_and_exit_2(repo: Path, ref: str, message: str) -> None:
    git(repo, "checkout", "-q", "--orphan", "orphan")
    commit(repo, "unrelated history")
    git(repo, "checkout", "-q", "feature")
    result = CliRunner().invoke(main, ["check", ".", "--diff-base", ref])
    assert (result.exit_code, result.stderr, result.stdout) == (2, message, "")


def test_outside_a_git_repository_is_one_line_and_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "plain" / "app.py", "x = 1\n")
    monkeypatch.chdir(tmp_path / "plain")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # never find a repository above the test's
    result = CliRunner().invoke(main, ["check", ".", "--diff-base", "main"])
    assert (result.exit_code, result.stderr) == (2, "authlint: error: --diff-base: '.' is not in a git repository\n")


def test_without_git_is_one_line_and_exit_2(repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = CliRunner().invoke(main, ["check", ".", "--diff-base", "main"])
    message = "authlint: error: --diff-base needs git, and no `git` command was found\n"
    assert (result.exit_code, result.stderr) == (2, message)


def test_with_fix_the_changed_lines_are_those_of_the_fixed_files(repo: Path) -> None:
    # The AL203 fix adds `import secrets` under `import jwt`, so every line below moves down one.
    added = "\n\ndef reset_token():\n    import random\n\n    return ''.join(random.choices('abcdef', k=32))\n\n\n"
    write(repo / "base.py", "import jwt\n\n" + NONE_TOKEN + added + "SECOND_" + NONE_TOKEN)
    commit(repo, "feature")
    assert reported(".", "--diff-base", "main", select="AL101,AL203") == {("base.py", 9), ("base.py", 12)}
    assert reported(".", "--diff-base", "main", "--fix", select="AL101,AL203") == {("base.py", 13)}
    assert "import secrets" in (repo / "base.py").read_text(encoding="utf-8")
