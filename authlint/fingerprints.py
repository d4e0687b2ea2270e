"""Fingerprints of findings that survive code moving up or down a file.

Two kinds, for two readers. A baseline entry names a statement by `statement_digest`, its
tokens with layout and comments left out, so reindenting or rewording a comment keeps
it. Code scanning (SARIF `partialFingerprints`, GitLab `fingerprint`) gets `line_hashes`:
the rule, the file and the flagged line's text with an occurrence counter.
"""

from __future__ import annotations

import hashlib
import io
import re
import tokenize
from collections import Counter

from authlint.model import Finding, ScanResult
from authlint.reporters import posix_path

_LAYOUT_TOKENS = frozenset(
    {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
)


def normalized_source(source: str) -> str:
    """The tokens of `source` separated by single spaces: indentation, line breaks and comments left out."""
    tokens: list[str] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type not in _LAYOUT_TOKENS:
                tokens.append(token.string)
    except (tokenize.TokenError, SyntaxError):  # the header of a compound statement can end inside brackets
        pass
    return " ".join(tokens)


def statement_digest(source: str) -> str:
    return hashlib.sha256(normalized_source(source).encode("utf-8")).hexdigest()[:16]


def line_hashes(result: ScanResult) -> dict[int, str]:
    """A fingerprint per finding (by `id`) that survives the code moving up or down the file.

    It hashes the rule, the file and the finding's line text (not its number); an
    occurrence counter keeps two identical lines in one file apart. Suppressed findings
    are counted too, so showing them (`--sarif-include-suppressed`) renumbers nothing.
    """
    seen: Counter[tuple[str, str]] = Counter()
    fingerprints = {}
    for finding in sorted([*result.findings, *result.suppressed_findings], key=lambda f: f.sort_key):
        digest = content_hash(finding)
        seen[(finding.path, digest)] += 1
        fingerprints[id(finding)] = f"{digest}:{seen[(finding.path, digest)]}"
    return fingerprints


def content_hash(finding: Finding) -> str:
    normalized = re.sub(r"\s+", " ", finding.source_line).strip()
    payload = "\0".join((finding.code, posix_path(finding.path), normalized))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]
