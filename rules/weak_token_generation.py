from __future__ import annotations

from dataclasses import dataclass

import libcst

from authlint import fix
from authlint.facts import credentials, settings
from authlint.facts.literals import string_value
from authlint.model import Precision, Severity
from authlint.rule import FileRule

# Values that must be unguessable: whoever predicts one takes over an account or a session.
_KINDS = frozenset(
    {credentials.TOKEN, credentials.API_KEY, credentials.SECRET, credentials.SECRET_KEY, credentials.CLIENT_SECRET,
     credentials.ONE_TIME_CODE, credentials.SESSION_ID, credentials.SALT, credentials.PASSWORD}
)  # fmt: skip
# Six-digit codes are short by design (and rate-limited); only their source matters.
_SHORT_BY_DESIGN = frozenset({credentials.ONE_TIME_CODE})
# Calls and methods that pass the randomness of their arguments on: `str(...)`, `"".join(...)`,
# `hashlib.sha256(...).hexdigest()` (a hash of a guessable value is guessable).
_SAME_RANDOMNESS_CALLS = frozenset(
    {"str", "int", "hex", "oct", "bytes", "bytearray", "abs", "format", "round", "repr",
     "base64.b64encode", "base64.urlsafe_b64encode", "base64.b32encode", "base64.b16encode",
     "binascii.hexlify", "binascii.b2a_hex"}
)  # fmt: skip
_SAME_RANDOMNESS_METHODS = frozenset(
    {"join", "format", "encode", "decode", "hex", "hexdigest", "digest", "upper", "lower", "replace", "strip",
     "zfill", "rjust", "ljust", "to_bytes", "strftime", "isoformat", "timestamp"}
)  # fmt: skip
_SUGGESTIONS = {
    credentials.ONE_TIME_CODE: 'f"{secrets.randbelow(10**6):06d}"',
    credentials.SALT: "os.urandom(16) (or let bcrypt/argon2 make the salt)",
    credentials.PASSWORD: "secrets.token_urlsafe(16)",
}
# Credentials that are opaque strings of any alphabet and length: `--fix` may make them with `secrets`.
_TOKEN_STRINGS = frozenset(
    {credentials.TOKEN, credentials.API_KEY, credentials.SECRET, credentials.SECRET_KEY, credentials.CLIENT_SECRET,
     credentials.SESSION_ID}
)  # fmt: skip
_RANDOM_CHARACTERS = frozenset({"random.choice", "random.choices"})
_FIX_BYTES = 32
_TEST_PATTERNS = ("test", "tests", "conftest")
_MAX_DEPTH = 10

STRONG, WEAK = credentials.STRONG, credentials.WEAK
# (STRONG, None, "") or (WEAK, the node at fault, why); None when nothing random is seen.
Verdict = tuple[str, "libcst.CSTNode | None", str]


class WeakTokenGeneration(FileRule):
    """A token, API key, reset code, session id or salt is made from a predictable source.

    ## What it does
    Flags values assigned, passed or returned as credentials (names like `token`,
    `api_key`, `reset_token`, `otp`, `verification_code`, `session_id`, `salt`, a
    generated `password`, or a function named like `generate_token`) when their
    randomness comes from:

    - the `random` module (`random.choice`, `choices`, `randint`, `getrandbits`, a
      `random.Random()`) or `numpy.random`;
    - `uuid.uuid1()` (clock and MAC address) or the name-based `uuid3`/`uuid5`;
    - the clock: `time.time()`, `time.time_ns()`, `datetime.now()`, `timezone.now()`;
    - `hash(...)`;
    - a strong value cut short: `str(uuid.uuid4())[:8]`, `secrets.token_hex(32)[:10]`;
    - `secrets.token_hex/token_urlsafe/token_bytes` or `os.urandom` with fewer than
      `min-bytes` bytes (one-time codes are short by design and exempt).

    The source is followed through `str()`, f-strings, `+`, `"".join(...)`, base64,
    hashing (`hashlib.md5(str(time.time()))` is as guessable as the clock) and local
    names. A value that also mixes in a strong source (`secrets`, `os.urandom`,
    `uuid4()`, `random.SystemRandom()`) is not flagged, nor is anything made by another
    function (`jwt.encode(...)`, `serializer.dumps(...)`), nor test code.

    ## Why is this bad?
    `random` is a Mersenne Twister: after 624 outputs its whole future is known, and its
    seed is often guessable. The clock, a MAC address or a truncated UUID leave only a
    few million candidates. A predictable reset token, API key or session id is a
    predictable account takeover.

    ## Example
    ```python
    import random
    import string
    import uuid

    reset_token = "".join(random.choices(string.ascii_letters + string.digits, k=32))
    api_key = str(uuid.uuid4())[:8]
    ```

    ## Use instead
    ```python
    import secrets

    reset_token = secrets.token_urlsafe(32)
    api_key = secrets.token_urlsafe(32)
    ```

    ## Fix
    `--fix` replaces a token, API key, secret or session id that is a string of characters
    drawn with the `random` module, `"".join(random.choices(ALPHABET, k=32))` or
    `"".join(random.choice(ALPHABET) for _ in range(32))`, by `secrets.token_urlsafe(32)`
    (at least `min-bytes` bytes), adding `import secrets`. The token's alphabet and length
    change, which is what a token string may do. One-time codes, salts, passwords and every
    other construction (uuid, the clock, truncation) are left for you.

    ## Options
    - `min-bytes` (default `16`): the fewest random bytes a token may have: `secrets.token_*`
      and `os.urandom` byte counts below it are flagged, and so are strong values cut to
      fewer than twice as many characters (counted as hex digits).

    ```toml
    [tool.authlint.rules.AL203]
    min-bytes = 32
    ```

    ## References
    - OWASP API Security Top 10 2023, API2: Broken Authentication
    - OWASP Forgot Password Cheat Sheet, "URL Tokens"
    - Python documentation, `secrets` ("Recommended Sources of Randomness")
    - CWE-330: Use of Insufficiently Random Values
    - CWE-338: Use of Cryptographically Weak Pseudo-Random Number Generator (PRNG)
    """

    code = "AL203"
    name = "weak-token-generation"
    severity = Severity.HIGH
    precision = Precision.HIGH
    owasp = ("API2:2023",)
    cwe = (330, 338)
    # A credential name and a random or clock source somewhere in the file.
    requires_words = credentials.terms_words(_KINDS)
    fixable = True
    requires_text = credentials.DeferredPattern(
        lambda: rf"\A(?=[\s\S]*?(?:{credentials.terms_pattern(_KINDS).pattern}))"
        r"(?=[\s\S]*?(?:random|Random|uuid|time|hash|secrets|urandom))"
    )
    words_in_code = True  # a credential name and a generator's name, both in the code

    @dataclass(frozen=True)
    class Options:
        min_bytes: int = 16

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._reported: set[int] = set()  # the weak sources already reported
        self._test_file = settings.is_non_production_path(self.ctx.path, _TEST_PATTERNS)

    # Where credentials get their values ----------------------------------------------

    def visit_Assign(self, node: libcst.Assign) -> None:
        for target in node.targets:
            self._check(credentials.target_name(target.target), node.value, target.target)

    def visit_AnnAssign(self, node: libcst.AnnAssign) -> None:
        self._check(credentials.target_name(node.target), node.value, node.target)

    def visit_Call(self, node: libcst.Call) -> None:
        for arg in node.args:
            if arg.keyword is not None:
                self._check(arg.keyword.value, arg.value, arg.keyword)

    def visit_DictElement(self, node: libcst.DictElement) -> None:
        key = string_value(node.key) if isinstance(node.key, libcst.SimpleString) else None
        if isinstance(key, str):
            self._check(key, node.value, node.key)

    def visit_Return(self, node: libcst.Return) -> None:
        function = self.ctx.enclosing_function
        if isinstance(function, libcst.FunctionDef):
            self._check(function.name.value, node.value, function.name, returned=True)

    # Checks ------------------------------------------------------------------------

    def _check(self, name: str | None, value, target: libcst.CSTNode, returned: bool = False) -> None:
        kind = credentials.credential_kind(name)
        if kind not in _KINDS or value is None or self._in_test_code():
            return
        verdict = self._randomness(value, kind, 0)
        if verdict is None or verdict[0] != WEAK or verdict[1] is None:
            return
        _, culprit, why = verdict
        if id(culprit) in self._reported:  # `token = random...` then `return token`: one finding
            return
        self._reported.add(id(culprit))
        inside = any(node is culprit for node in self.ctx.nodes_in(value))
        where = culprit if inside else value  # through a local name: report where the credential is set
        what = f"`{name}()` returns a value" if returned else f"`{self._code(target)}` is"
        origin = "" if inside else f" (through `{self._code(value)}`)"
        suggestion = _SUGGESTIONS.get(kind, "secrets.token_urlsafe(32)")
        self.report(where, f"{what} made with `{self._code(culprit)}`{origin}: {why}, so an attacker can guess "
                    f"{credentials.singular(kind)} values; use {suggestion}",
                    fix=self._secrets_token(value, kind) if inside else None)  # fmt: skip

    def _secrets_token(self, value: libcst.BaseExpression, kind: str) -> fix.Fix | None:
        """`secrets.token_urlsafe(32)` for `"".join(random.choices(...))` and `"".join(random.choice(...) for ...)`."""
        if kind not in _TOKEN_STRINGS or not fix.module_usable(self.ctx, "secrets"):
            return None
        if not (isinstance(value, libcst.Call) and len(value.args) == 1 and isinstance(value.func, libcst.Attribute)):
            return None
        joined = value.args[0].value
        if isinstance(joined, (libcst.GeneratorExp, libcst.ListComp)):
            joined = joined.elt
        separator = value.func.value
        if not (
            value.func.attr.value == "join"
            and isinstance(separator, libcst.SimpleString)
            and string_value(separator) == ""
            and isinstance(joined, libcst.Call)
            and self.ctx.qualified_name(joined.func) in _RANDOM_CHARACTERS
        ):
            return None
        count = max(_FIX_BYTES, self.options.min_bytes)
        return fix.replace(value, fix.expression(f"secrets.token_urlsafe({count})"), imports=("secrets",))

    def _randomness(self, expr: libcst.CSTNode | None, kind: str, depth: int) -> Verdict | None:
        """Where the randomness of `expr` comes from, as far as it can be followed."""
        if expr is None or depth > _MAX_DEPTH:
            return None
        if isinstance(expr, libcst.Name):
            assigned = self.ctx.resolve(expr)
            return self._randomness(assigned, kind, depth + 1) if assigned is not expr else None
        if isinstance(expr, libcst.Await):
            return self._randomness(expr.expression, kind, depth + 1)
        if isinstance(expr, libcst.Call):
            return self._call_randomness(expr, kind, depth)
        if isinstance(expr, libcst.Attribute):  # uuid4().hex, uuid1().int
            return self._randomness(expr.value, kind, depth + 1)
        if isinstance(expr, libcst.Subscript):
            return self._subscript_randomness(expr, kind, depth)
        return self._combined(_parts(expr), kind, depth)

    def _call_randomness(self, call: libcst.Call, kind: str, depth: int) -> Verdict | None:
        qualified = self.ctx.qualified_name(call.func)
        source = credentials.random_source(qualified)
        if source is not None and qualified is not None:
            strength, why = source
            if strength == WEAK:
                return WEAK, call, why
            count = credentials.byte_count(self.ctx, call, qualified)
            needed = self.options.min_bytes
            if count is not None and count < needed and kind not in _SHORT_BY_DESIGN:
                return WEAK, call, f"{count} random bytes ({count * 8} bits) are fewer than the {needed} needed"
            return STRONG, None, ""
        parts = [arg.value for arg in call.args]
        if isinstance(call.func, libcst.Attribute) and call.func.attr.value in _SAME_RANDOMNESS_METHODS:
            return self._combined([call.func.value, *parts], kind, depth)
        if qualified in _SAME_RANDOMNESS_CALLS or (qualified or "").startswith("hashlib."):
            return self._combined(parts, kind, depth)
        return None  # made by some other function: its own business

    def _subscript_randomness(self, node: libcst.Subscript, kind: str, depth: int) -> Verdict | None:
        verdict = self._randomness(node.value, kind, depth + 1)
        if verdict is None or verdict[0] != STRONG or kind in _SHORT_BY_DESIGN:
            return verdict
        kept = self._kept_characters(node)
        if kept is not None and kept < 2 * self.options.min_bytes:
            return WEAK, node, f"cutting it to {kept} characters leaves at most {kept * 4} bits of randomness"
        return verdict

    def _kept_characters(self, node: libcst.Subscript) -> int | None:
        """How many characters `value[:8]`, `value[-8:]`, `value[2:10]` keep; None if unknown."""
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, libcst.Slice):
            return None
        piece = node.slice[0].slice
        lower, upper = self.ctx.literal(piece.lower), self.ctx.literal(piece.upper)
        if piece.lower is None and isinstance(upper, int) and upper > 0:
            return upper
        if piece.upper is None and isinstance(lower, int) and lower < 0:
            return -lower
        if isinstance(lower, int) and isinstance(upper, int) and 0 <= lower < upper:
            return upper - lower
        return None

    def _combined(self, parts: list, kind: str, depth: int) -> Verdict | None:
        """Strong if any part is (mixing in a strong source is enough), else the first weak part."""
        verdicts = [v for v in (self._randomness(part, kind, depth + 1) for part in parts) if v is not None]
        strong = next((v for v in verdicts if v[0] == STRONG), None)
        return strong or next(iter(verdicts), None)

    # Helpers --------------------------------------------------------------------------

    def _in_test_code(self) -> bool:
        function = self.ctx.enclosing_function
        in_test = isinstance(function, libcst.FunctionDef) and function.name.value.startswith("test")
        return self._test_file or in_test

    def _code(self, node: libcst.CSTNode) -> str:
        code = " ".join(self.ctx.module.code_for_node(node).split())
        return code if len(code) <= 50 else code[:47] + "..."


def _parts(expr: libcst.CSTNode) -> list:
    """The sub-expressions whose randomness an f-string, `+`/`%`, or comprehension passes on."""
    if isinstance(expr, libcst.FormattedString):
        return [part.expression for part in expr.parts if isinstance(part, libcst.FormattedStringExpression)]
    if isinstance(expr, libcst.BinaryOperation):
        return [expr.left, expr.right]
    if isinstance(expr, (libcst.GeneratorExp, libcst.ListComp)):
        return [expr.elt]
    return []
