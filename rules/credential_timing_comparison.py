from __future__ import annotations

import libcst

from authlint import fix
from authlint.facts import credentials, literals, request_input, settings
from authlint.facts.literals import subscript_key
from authlint.facts.names import dotted_name
from authlint.model import Precision, Severity
from authlint.rule import FileRule

# Verifiers an attacker guesses at. Plain passwords are AL204's (comparing one at all means
# it is stored unhashed); salts are not secret; session ids are looked up, and ORMs and
# frameworks compare their own `session_id` counters.
_KINDS = frozenset(
    {credentials.SECRET, credentials.SECRET_KEY, credentials.CLIENT_SECRET, credentials.API_KEY,
     credentials.PRIVATE_KEY, credentials.TOKEN, credentials.PASSWORD_HASH, credentials.SIGNATURE,
     credentials.HMAC_DIGEST, credentials.ONE_TIME_CODE}
)  # fmt: skip
# Calls whose result is an HMAC (`hmac.new(key, body, sha256).hexdigest()`, also through a name).
_HMAC_RESULTS = frozenset(
    {"hmac.new().hexdigest", "hmac.new().digest", "hmac.HMAC().hexdigest", "hmac.HMAC().digest", "hmac.digest"}
)  # fmt: skip
# Calls that hand on the value they are given: `base64.b64encode(mac.digest())`, `str(sig)`.
_SAME_VALUE_CALLS = frozenset(
    {"str", "bytes", "base64.b64encode", "base64.urlsafe_b64encode", "base64.b16encode", "binascii.hexlify"}
)  # fmt: skip
# Collections of credentials read from: `key in API_KEYS.split(",")`, `key in KEYS.values()`.
_COLLECTION_METHODS = frozenset({"split", "keys", "values"})
# A credential found in one of these is a revoked one: knowing it gains an attacker nothing.
_DENYLIST_WORDS = frozenset(
    {"revoked", "blacklist", "blacklisted", "blocklist", "blocked", "denylist", "denied", "used", "expired",
     "invalid", "seen", "consumed", "banned", "old", "stale", "previous"}
)  # fmt: skip
# Hash-based collections: `in` looks a value up by its hash, not by comparing it with each.
_HASHED_COLLECTIONS = frozenset({"set", "frozenset", "dict"})
# Spellings that make an environment variable, setting or header a key when request input is
# compared with it (`X-Internal-Auth`, `SERVICE_KEY`); `key` alone is too common anywhere else.
_KEY_SPELLINGS = ("_KEY", "-Key", "-KEY", "-key", "_AUTH", "-Auth", "-AUTH")
_ENVIRONMENT_LOOKUPS = frozenset({"os.getenv", "os.environ.get"})
_CONFIG_OBJECTS = frozenset({"settings", "config", "conf"})
_STORED_KEY = "a request value and a stored key"
_TEST_PATTERNS = ("test", "tests", "conftest")
_EQUALITY_METHODS = frozenset({"__eq__", "__ne__", "__hash__"})
# Expressions `.encode()` can follow without parentheses (names, not classes: libcst loads lazily).
_ATOMS = frozenset({"Name", "Attribute", "Call", "Subscript", "SimpleString", "FormattedString"})
# What calls return, for telling whether both sides of a comparison are str or both bytes.
_STR_CALLS = frozenset({"str", "hmac.new().hexdigest", "hmac.HMAC().hexdigest"})
_BYTES_CALLS = frozenset(
    {"bytes", "hmac.digest", "hmac.new().digest", "hmac.HMAC().digest", "base64.b64encode", "base64.b64decode",
     "base64.urlsafe_b64encode", "base64.urlsafe_b64decode", "base64.b16encode", "binascii.hexlify"}
)  # fmt: skip
_STR_METHODS = frozenset({"hexdigest", "hex", "decode"})
_BYTES_METHODS = frozenset({"digest", "encode"})
_SAME_TYPE_METHODS = frozenset({"strip", "lstrip", "rstrip", "lower", "upper", "casefold", "join", "format"})
_MIN_SECRET_LENGTH = 8
_MAX_DEPTH = 8


class CredentialTimingComparison(FileRule):
    """A secret, token, API key, signature or password hash is compared with `==` instead of in constant time.

    ## What it does
    Flags `==`, `!=`, `in` and `not in` comparisons where one side is a credential that an
    attacker tries to guess:

    - by name, in any case or spelling: secrets, client secrets, API keys, tokens
      (`api_token`, `reset_token`, `csrf_token`, an `Authorization` header), signatures
      (`X-Hub-Signature-256`, `Stripe-Signature`), HMAC digests, password hashes, one-time
      and reset codes — as variables, attributes, dict keys or
      `request.headers.get("X-API-Key")`;
    - by origin: `hmac.new(key, body, sha256).hexdigest()` and `.digest()`, directly, through
      a local name, or inside `"sha256=" + ...` and f-strings (`f"Bearer {API_TOKEN}"`);
    - request input (a header, query, form or JSON value, a FastAPI `Header()` parameter)
      compared with a key from the environment or the settings (`os.environ["SERVICE_KEY"]`,
      `settings.INTERNAL_AUTH`, `app.config["HOOK_KEY"]`) when either is named like a
      credential or a key (`X-Internal-Auth`, `*_KEY`, `*-Key`);
    - `api_key in API_KEYS` where the collection is named for credentials and is not a set
      or dict literal.

    Not flagged: comparisons with literals, containers, `None`, numbers, lengths or
    constants too short to be secrets (`token is None`, `password == ""`,
    `token_type == "bearer"`, `tok == WILDCARD_TOKEN`), pagination and tokenizer tokens
    (`NextToken`, `eos_token`), lookups in denylists (`token in revoked_tokens`), `assert`
    statements, `__eq__` methods and test code. A value named only `token` is too often a
    lexer's or an ORM's: it needs a second sign, a credential-named other side or request
    input (`request.form["token"] == user.reset_token`). Plain passwords are left to AL204
    (plaintext-secret-storage): a password compared at all is stored unhashed.

    ## Why is this bad?
    `==` on strings and bytes returns as soon as two characters differ, so it takes
    slightly longer the more leading characters of a guess are right. Measured over many
    requests, that difference lets an attacker recover an API key, a webhook signature or
    a reset token one character at a time instead of guessing it whole.

    ## Example
    ```python
    import hashlib
    import hmac

    from flask import abort, request

    def verify_webhook(secret: bytes) -> None:
        expected = "sha256=" + hmac.new(secret, request.data, hashlib.sha256).hexdigest()
        if request.headers.get("X-Hub-Signature-256") != expected:
            abort(403)
    ```

    ## Use instead
    ```python
    import hashlib
    import hmac

    from flask import abort, request

    def verify_webhook(secret: bytes) -> None:
        expected = "sha256=" + hmac.new(secret, request.data, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("X-Hub-Signature-256", ""), expected):
            abort(403)
    ```

    `secrets.compare_digest` is the same function. To find which of many API keys a request
    carries, store each key's SHA-256 and look the hash up instead of comparing keys.

    ## Fix
    `--fix` rewrites `a == b` as `hmac.compare_digest(a, b)` and `a != b` as
    `not hmac.compare_digest(a, b)` (adding `import hmac`) when the comparison is not chained
    and both sides are known to be `str`, or both `bytes`: literals, f-strings, `+`,
    `str()`/`bytes()`, `.hexdigest()`/`.digest()`, `.encode()`/`.decode()`, base64, parameters
    annotated `str` or `bytes`, and names bound once, to one of these. Two `str` are compared
    as their UTF-8 bytes (`hmac.compare_digest(a.encode(), b.encode())`), since
    `compare_digest` refuses a `str` with non-ASCII characters; two strings are equal exactly
    when their UTF-8 encodings are (only a lone surrogate, which no decoder produces by
    default, cannot be encoded). `compare_digest` raises `TypeError` for a `str` and `bytes`
    pair and for `None` (`headers.get("X-Key")` without a default), so a side of unknown type
    is left for you. `in` and `not in` are never rewritten.

    ## References
    - OWASP API Security Top 10 2023, API2: Broken Authentication
    - Python documentation, `hmac.compare_digest`
    - CWE-208: Observable Timing Discrepancy
    """

    code = "AL202"
    name = "credential-timing-comparison"
    severity = Severity.MEDIUM
    precision = Precision.MEDIUM
    owasp = ("API2:2023",)
    cwe = (208,)
    # Every credential name (and `hmac`), and key-like setting and header names.
    requires_text = credentials.terms_pattern(_KINDS, extra=_KEY_SPELLINGS)
    requires_words = credentials.terms_words(_KINDS, extra=_KEY_SPELLINGS)
    # Every finding is an `==`/`!=`/`in`/`not in` comparison, and the credential name is a name or a
    # literal of the code (where the value comes from, a header name, a setting), never a comment.
    requires_nodes = frozenset({"Eq", "NotEq", "In", "NotIn"})
    words_in_code = True
    fixable = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._asserts = 0
        self._test_file = settings.is_non_production_path(self.ctx.path, _TEST_PATTERNS)

    def visit_Assert(self, node: libcst.Assert) -> None:
        self._asserts += 1

    def leave_Assert(self, node: libcst.Assert) -> None:
        self._asserts -= 1

    def visit_Comparison(self, node: libcst.Comparison) -> None:
        if self._asserts or self._test_file or self._in_excluded_function():
            return
        left = node.left
        for target in node.comparisons:
            right = target.comparator
            if isinstance(target.operator, (libcst.Equal, libcst.NotEqual)):
                self._check_equality(node, left, right, target.operator)
            elif isinstance(target.operator, (libcst.In, libcst.NotIn)):
                self._check_membership(node, left, right)
            left = right

    def _check_equality(self, node: libcst.Comparison, left, right, operator) -> None:
        if self._is_constant(left) or self._is_constant(right):
            return
        left_kind, right_kind = self._kind(left, 0), self._kind(right, 0)
        kind = left_kind or right_kind or self._request_against_stored_key(left, right)
        if kind is None:
            return
        if kind == credentials.TOKEN and not (left_kind and right_kind) and not self._from_request(left, right):
            return  # `token` alone also names lexer, parser and ORM tokens: want a second sign
        written, negation = ("==", "") if isinstance(operator, libcst.Equal) else ("!=", "not ")
        a, b = self._code(left), self._code(right)
        self.report(node, f"`{a} {written} {b}` compares {kind} with `{written}`, which stops at the first "
                    "differing character: response times let an attacker recover the value one character "
                    f"at a time; use `{negation}hmac.compare_digest({a}, {b})`",
                    fix=self._constant_time(node, bool(negation)))  # fmt: skip

    def _constant_time(self, node: libcst.Comparison, negated: bool) -> fix.Fix | None:
        """`hmac.compare_digest(a, b)` for `a == b` when both sides are str or both bytes."""
        if len(node.comparisons) != 1 or not fix.module_usable(self.ctx, "hmac"):
            return None
        left, right = node.left, node.comparisons[0].comparator
        kind = self._value_type(left, 0)
        if kind is None or kind != self._value_type(right, 0):
            return None
        if kind == "str":  # compare_digest refuses a non-ASCII str; equal strings have equal UTF-8
            left, right = _utf8(left), _utf8(right)
        call = fix.expression("hmac.compare_digest(a, b)")
        call = call.with_changes(args=(call.args[0].with_changes(value=left), call.args[1].with_changes(value=right)))
        replacement = libcst.UnaryOperation(libcst.Not(), call) if negated else call
        return fix.replace(node, replacement, imports=("hmac",))

    def _value_type(self, expr: libcst.CSTNode | None, depth: int) -> str | None:
        """"str" or "bytes" when `expr` certainly holds one (never None), else None."""
        if expr is None or depth > _MAX_DEPTH:
            return None
        if isinstance(expr, libcst.SimpleString):
            return "bytes" if "b" in expr.prefix.lower() else "str"
        if isinstance(expr, libcst.ConcatenatedString):
            return self._value_type(expr.left, depth + 1)
        if isinstance(expr, libcst.FormattedString):
            return "str"
        if isinstance(expr, libcst.BinaryOperation) and isinstance(expr.operator, libcst.Add):
            return self._value_type(expr.left, depth + 1) or self._value_type(expr.right, depth + 1)
        if isinstance(expr, libcst.Call):
            return self._call_type(expr, depth)
        if isinstance(expr, libcst.Name):
            if not self.ctx.resolver.bound_once(expr.value):
                return None  # a fix must hold on every path, not only the last assignment's
            assigned = self.ctx.resolve(expr)
            if assigned is not expr:
                return self._value_type(assigned, depth + 1)
            return self._parameter_type(expr.value)
        return None

    def _call_type(self, call: libcst.Call, depth: int) -> str | None:
        qualified = self.ctx.qualified_name(call.func)
        if qualified in _STR_CALLS:
            return "str"
        if qualified in _BYTES_CALLS:
            return "bytes"
        if not isinstance(call.func, libcst.Attribute):
            return None
        method = call.func.attr.value
        if method in _STR_METHODS:
            return "str"
        if method in _BYTES_METHODS:
            return "bytes"
        return self._value_type(call.func.value, depth + 1) if method in _SAME_TYPE_METHODS else None

    def _parameter_type(self, name: str) -> str | None:
        """The type of a parameter of the enclosing function annotated `str` or `bytes` (without a default)."""
        function = self.ctx.enclosing_function
        if not isinstance(function, libcst.FunctionDef):
            return None
        params = function.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            if param.name.value == name and param.default is None and param.annotation is not None:
                annotation = param.annotation.annotation
                if isinstance(annotation, libcst.Name) and annotation.value in ("str", "bytes"):
                    return annotation.value
        return None

    def _check_membership(self, node: libcst.Comparison, left, right) -> None:
        if self._is_constant(left) or self._is_hashed_collection(right):
            return
        name = _collection_name(right)
        kind = credentials.collection_kind(name)
        if kind not in _KINDS or name is None or _DENYLIST_WORDS & set(credentials.normalize_name(name).split("_")):
            return
        a, b = self._code(left), self._code(right)
        self.report(node, f"`{a} in {b}` looks for one of several {kind} with `in`, which compares with `==` "
                    "and stops at the first differing character: response times leak the valid values; "
                    f"use `any(hmac.compare_digest({a}, k) for k in {b})`, or keep the SHA-256 hashes of the "
                    "values in a set and look up the hash")  # fmt: skip

    # What a side of a comparison holds ---------------------------------------------

    def _kind(self, expr: libcst.CSTNode | None, depth: int) -> str | None:
        """The kind of credential `expr` holds, by its name or where it comes from; None if none."""
        if expr is None or depth > _MAX_DEPTH:
            return None
        kind = credentials.credential_kind(credentials.value_name(expr))
        if kind in _KINDS:
            return kind
        if isinstance(expr, libcst.Name):
            if not self.ctx.resolver.bound_once(expr.value):
                return None  # a fix must hold on every path, not only the last assignment's
            assigned = self.ctx.resolve(expr)
            return self._kind(assigned, depth + 1) if assigned is not expr else None
        if isinstance(expr, libcst.FormattedString):
            parts = [p.expression for p in expr.parts if isinstance(p, libcst.FormattedStringExpression)]
            return next(filter(None, (self._kind(part, depth + 1) for part in parts)), None)
        if isinstance(expr, libcst.BinaryOperation) and isinstance(expr.operator, (libcst.Add, libcst.Modulo)):
            return self._kind(expr.left, depth + 1) or self._kind(expr.right, depth + 1)
        if isinstance(expr, libcst.Call):
            return self._call_kind(expr, depth)
        return None

    def _is_constant(self, node: libcst.CSTNode) -> bool:
        """A literal, a container, or a constant too short to be a secret (`_WILDCARD_TOKEN = "*"`)."""
        if _is_constant(node):
            return True
        if isinstance(node, libcst.FormattedString):  # f"{PREFIX}:{WILDCARD}": text the code chose
            parts = [p.expression for p in node.parts if isinstance(p, libcst.FormattedStringExpression)]
            return all(self.ctx.literal(part) is not literals.UNKNOWN for part in parts)
        value = self.ctx.literal(node)
        if value is literals.UNKNOWN:
            return False
        return not isinstance(value, (str, bytes)) or len(value) < _MIN_SECRET_LENGTH

    def _from_request(self, *sides) -> bool:
        return any(request_input.request_inputs(self.ctx, side) for side in sides)

    def _request_against_stored_key(self, left, right) -> str | None:
        """`request.headers["X-Internal-Auth"] == os.environ["SERVICE_KEY"]`: client input against
        a key from the environment or the settings, when either is named like a key."""
        for provided, stored in ((left, right), (right, left)):
            setting = self._stored_setting(stored, 0)
            if setting is None:
                continue
            for origin in request_input.request_inputs(self.ctx, provided):
                # Named like a key in a spelling the text gate sees, so the gate never hides one.
                if self.requires_text.search(f"{origin.key or ''} {setting}"):
                    return _STORED_KEY
        return None

    def _stored_setting(self, expr, depth: int) -> str | None:
        """The name of the environment variable or setting `expr` reads (through local names), or None."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(expr, libcst.Name):
            if not self.ctx.resolver.bound_once(expr.value):
                return None  # a fix must hold on every path, not only the last assignment's
            assigned = self.ctx.resolve(expr)
            return self._stored_setting(assigned, depth + 1) if assigned is not expr else None
        if isinstance(expr, libcst.Subscript):
            owner = dotted_name(expr.value) or ""
            stored = self.ctx.qualified_name(expr.value) == "os.environ" or owner.endswith(".config")
            return subscript_key(expr) if stored else None
        if isinstance(expr, libcst.Call) and self.ctx.qualified_name(expr.func) in _ENVIRONMENT_LOOKUPS:
            return credentials.value_name(expr)
        if isinstance(expr, libcst.Attribute):
            owner = (dotted_name(expr.value) or "").rsplit(".", 1)[-1]
            return expr.attr.value if owner in _CONFIG_OBJECTS else None
        return None

    def _call_kind(self, call: libcst.Call, depth: int) -> str | None:
        qualified = self.ctx.qualified_name(call.func)
        if qualified in _HMAC_RESULTS:
            return credentials.HMAC_DIGEST
        if isinstance(call.func, libcst.Attribute) and call.func.attr.value in credentials.SAME_VALUE_METHODS:
            return self._kind(call.func.value, depth + 1)
        if qualified in _SAME_VALUE_CALLS and call.args:
            return self._kind(call.args[0].value, depth + 1)
        return None

    def _is_hashed_collection(self, expr: libcst.CSTNode) -> bool:
        """A set or dict built here: `in` finds a value by its hash, not by comparing it with each."""
        value = self.ctx.resolve(expr)
        if isinstance(value, (libcst.Set, libcst.Dict, libcst.SetComp, libcst.DictComp)):
            return True
        return isinstance(value, libcst.Call) and self.ctx.qualified_name(value.func) in _HASHED_COLLECTIONS

    def _in_excluded_function(self) -> bool:
        """Inside `__eq__` (objects comparing themselves) or a `test_*` function."""
        function = self.ctx.enclosing_function
        if not isinstance(function, libcst.FunctionDef):
            return False
        name = function.name.value
        return name in _EQUALITY_METHODS or name.startswith("test")

    def _code(self, node: libcst.CSTNode) -> str:
        code = " ".join(self.ctx.module.code_for_node(node).split())
        return code if len(code) <= 40 else code[:37] + "..."


# libcst node types by name: importing this module must not load libcst (authlint/lazy.py).
_CONSTANT_NODES = frozenset({
    "SimpleString", "ConcatenatedString", "Integer", "Float", "List", "Tuple", "Set", "Dict", "ListComp", "SetComp",
    "DictComp",
})  # fmt: skip


def _is_constant(node: libcst.CSTNode) -> bool:
    """A literal, `None`/`True`/`False`, a number or a container: comparing with one leaks nothing secret."""
    if type(node).__name__ in _CONSTANT_NODES:
        return True
    if isinstance(node, libcst.Name):
        return node.value in ("None", "True", "False")
    if isinstance(node, libcst.UnaryOperation):
        return _is_constant(node.expression)
    return False


def _collection_name(node: libcst.CSTNode) -> str | None:
    """The name a collection goes by: `API_KEYS`, `settings.API_KEYS`, `API_KEYS.split(",")`."""
    if (
        isinstance(node, libcst.Call)
        and isinstance(node.func, libcst.Attribute)
        and node.func.attr.value in _COLLECTION_METHODS
    ):
        node = node.func.value
    return credentials.value_name(node)


def _utf8(expr: libcst.BaseExpression) -> libcst.Call:
    """`expr.encode()`, parenthesized unless `expr` is an atom (`"a" "b".encode()` encodes "b" only)."""
    if not expr.lpar and type(expr).__name__ not in _ATOMS:
        expr = expr.with_changes(lpar=[libcst.LeftParen()], rpar=[libcst.RightParen()])
    return libcst.Call(libcst.Attribute(expr, libcst.Name("encode")))
