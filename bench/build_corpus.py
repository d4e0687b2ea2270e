"""Build the benchmark corpus: the .py files of pinned releases of popular web/auth libraries.

Downloads pinned wheels with pip (no dependencies), unpacks only their .py files into
bench/.corpus/<name>/, and copies the fastapi, flask, starlette, werkzeug, requests and httpx files into bench/.corpus-small/.
Nothing is ever imported. Run: python bench/build_corpus.py
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PINNED = {
    "django": "5.1.4",
    "djangorestframework": "3.15.2",
    "fastapi": "0.115.6",
    "starlette": "0.41.3",
    "flask": "3.1.0",
    "werkzeug": "3.1.3",
    "sqlalchemy": "2.0.36",
    "pydantic": "2.10.3",
    "authlib": "1.3.2",
    "pyjwt": "2.10.1",
    "requests": "2.32.3",
    "httpx": "0.28.1",
}
# Wheels ship no tests, so fastapi + flask alone is ~70 files; these six make a ~200-file "small project".
SMALL_SUBSET = ("fastapi", "flask", "starlette", "werkzeug", "requests", "httpx")
BENCH = Path(__file__).resolve().parent


def download(name: str, version: str, dest: Path) -> Path:
    """Fetch the wheel of name==version into dest and return its path."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
         "--only-binary", ":all:", "--dest", str(dest), f"{name}=={version}"],
        check=True,
    )
    wheels = [w for w in dest.glob("*.whl") if w.name.lower().replace("_", "-").startswith(name.lower().replace("_", "-") + "-")]
    if len(wheels) != 1:
        raise SystemExit(f"expected one wheel for {name}, found {wheels}")
    return wheels[0]


def unpack_py(wheel: Path, target: Path) -> None:
    """Extract only the .py members of a wheel (a zip file) into target."""
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            if member.endswith(".py") and ".dist-info/" not in member and "__pycache__" not in member:
                out = target / member
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(archive.read(member))


def count(root: Path) -> tuple[int, int]:
    """Return (files, lines) of the .py files under root."""
    files = [p for p in root.rglob("*.py") if "__pycache__" not in p.parts]
    lines = sum(p.read_bytes().count(b"\n") for p in files)
    return len(files), lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=BENCH / ".corpus")
    parser.add_argument("--small", type=Path, default=BENCH / ".corpus-small")
    args = parser.parse_args()

    for root in (args.corpus, args.small):
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, version in PINNED.items():
            wheel = download(name, version, Path(tmp))
            unpack_py(wheel, args.corpus / f"{name}-{version}")
            files, lines = count(args.corpus / f"{name}-{version}")
            print(f"{name:22} {version:10} {files:6} files {lines:9} lines")
    for name in SMALL_SUBSET:
        src = args.corpus / f"{name}-{PINNED[name]}"
        shutil.copytree(src, args.small / src.name)
    for label, root in (("full corpus", args.corpus), ("small corpus", args.small)):
        files, lines = count(root)
        print(f"{label}: {files} files, {lines} lines in {root}")


if __name__ == "__main__":
    main()
