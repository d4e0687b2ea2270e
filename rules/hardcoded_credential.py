from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst

from authlint.facts import credentials, jwt, settings
from authlint.facts.names import dotted_name
from authlint.model import Precision, Severity
from authlint.rule import FileRule

# Credentials a program is given to use, as opposed to ones it issues or verifies.
_KINDS = frozenset(
    {credentials.PASSWORD, credentials.SECRET, credentials.SECRET_KEY, credentials.CLIENT_SECRET,
     credentials.API_KEY, credentials.PRIVATE_KEY, credentials.TOKEN}
)  # fmt: skip
# `token == "("` in a lexer: a token compared with a literal is rarely a credential check.
_COMPARED_KINDS = _KINDS - {credentials.TOKEN}
# Environment lookups and where their fallback goes: (keyword, position).
_ENV_LOOKUPS = {
    "os.getenv": ("default", 1),
    "os.environ.get": ("default", 1),
    "os.environ.setdefault": ("value", 1),
    "decouple.config": ("default", None),
    "environ.Env()": ("default", None),
    "environ.Env().str": ("default", None),
    "environ.Env().get_value": ("default", None),
}
# Arguments and keys that hold documentation examples (OpenAPI schemas), not configuration.
_EXAMPLE_KEYS = frozenset({"example", "examples", "json_schema_extra", "schema_extra", "openapi_examples"})
_MIN_LENGTH = 4
# Tokens are long random strings: shorter literals named `token` are symbols (`"("`), and
# ones without a digit or mixed case are words (`"set-password"`, a URL segment).
_MIN_TOKEN_LENGTH = 8
_TOKEN_LIKE = re.compile(r"(?=.*[0-9]|.*[a-z].*[A-Z]|.*[A-Z].*[a-z])\S+")
_NOT_A_SECRET_PREFIXES = ("/", "./", "../", "~/", "http://", "https://")
_SCHEME = re.compile(r"^(?:Bearer|Basic|Token|Bot|Digest|ApiKey)\s+", re.I)
_JWT_KEY_OPERATIONS = (jwt.ENCODE, jwt.DECODE, jwt.SIGN, jwt.VERIFY)


class HardcodedCredential(FileRule):
    """A password, API key, client secret or token is written into the source code.

    ## What it does
    Flags string and bytes literals given to credentials:

    - assigned to a credential-named variable, attribute, setting or config key:
      `DB_PASSWORD = "..."`, `app.secret_key = "..."`, `app.config["SECRET_KEY"] = "..."`,
      `stripe.api_key = "..."`, `client_secret: str = "..."` in a settings class;
    - passed as a credential-named keyword argument or dict entry (`password=`,
      `client_secret=`, `api_key=`, `{"PASSWORD": "..."}` in `DATABASES`), or given as a
      parameter's default (`def connect(password="...")`);
    - the fallback of an environment lookup for a credential:
      `os.getenv("API_KEY", "...")`, `os.environ.get(...)`, `os.environ.setdefault(...)`,
      python-decouple `config(..., default=...)`, django-environ `env(..., default=...)`;
    - compared with a password or secret: `if password == "..."`;
    - any string in a well-known key format, whatever its name: Stripe `sk_live_`, GitHub
      `ghp_`/`github_pat_`, AWS `AKIA...`, Slack `xoxb-`/`xoxp-`, Google `AIza...`,
      GitLab `glpat-`, SendGrid, OpenAI-style `sk-...`, npm, PyPI, PEM private keys.

    Names are matched in any case, camelCase or kebab-case and by their last words
    (`stripe_api_key`, `SMTP_PASSWORD`). Not flagged: placeholders that cannot work as
    credentials (`""`, `"<your-key>"`, `"xxx"`, `"..."`, `"${API_KEY}"`,
    `"your_api_key_here"`, `"test"`, `"dummy"`; `"changeme"` does work and is flagged),
    labels and names (`token_type="Bearer"`, `"NextToken"`, `"access_token"`,
    `"X-API-Key"`, a bare `"passwd"` naming a field), sentinels shorter than four
    characters, `token`s without a digit or mixed case (`"set-password"`), paths and
    URLs, OpenAPI `example`s, and development or test code (see
    `non-production-patterns`). Keys of JWT library calls are left to AL108
    (jwt-hardcoded-secret): a literal passed as a JWT key, or a constant or fallback that
    one is built from, is reported once, by AL108, where the token is signed or verified.

    ## Why is this bad?
    A credential in the source is known to everyone who can read the repository, its
    history, a built image or a leaked copy, it is the same in every deployment, and it
    cannot be rotated without a release. A literal fallback is as bad: the day the
    environment variable is missing, the service silently runs with the well-known value.

    ## Example
    ```python
    import os

    import stripe

    stripe.api_key = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
    DATABASE_PASSWORD = os.getenv("DATABASE_PASSWORD", "postgres")
    ```

    ## Use instead
    ```python
    import os

    import stripe

    stripe.api_key = os.environ["STRIPE_API_KEY"]
    DATABASE_PASSWORD = os.environ["DATABASE_PASSWORD"]  # fails loudly when missing
    ```

    Rotate any credential that was ever committed: removing it does not remove it from
    the history.

    ## Options
    - `non-production-patterns` (default `["dev", "devel", "develop", "development",
      "local", "test", "tests", "testing", "unittest", "unittests", "conftest", "ci"]`):
      fnmatch patterns for the words of names that mark development or test code, where
      credentials are fixtures. They are matched against each word of the file name
      (`test_api.py`, `api_test.py`, `conftest.py`, `settings/dev.py`), the three nearest
      folders (`tests/`) and the enclosing classes (`DevelopmentConfig`, `TestingSettings`).
      Functions named `test_*` are test code too.

    ```toml
    [tool.authlint.rules.AL205]
    non-production-patterns = ["test", "tests", "conftest", "fixtures"]
    ```

    ## References
    - OWASP API Security Top 10 2023, API2: Broken Authentication
    - OWASP Secrets Management Cheat Sheet
    - CWE-798: Use of Hard-coded Credentials
    - CWE-259: Use of Hard-coded Password
    """

    code = "AL205"
    name = "hardcoded-credential"
    severity = Severity.HIGH
    precision = Precision.MEDIUM
    owasp = ("API2:2023",)
    cwe = (798, 259)
    # Every credential name and key format: a file with neither cannot hold a finding.
    requires_text = credentials.terms_pattern(_KINDS, extra=credentials.KEY_FORMAT_PREFIXES)
    requires_words = credentials.terms_words(_KINDS, extra=credentials.KEY_FORMAT_PREFIXES)
    words_in_code = True  # the name a literal is bound to, or the key format of the literal itself

    @dataclass(frozen=True)
    class Options:
        non_production_patterns: list[str] = field(default_factory=lambda: list(settings.NON_PRODUCTION_PATTERNS))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._skipped: set[int] = set()  # literals that are JWT keys (AL108's) or documentation examples
        self._reported: set[int] = set()
        # In a file using a JWT library, a constant may turn out to be a signing key further
        # down (AL108 reports it there): findings wait for the end of the module.
        self._deferred: list[tuple[libcst.CSTNode, str]] | None = (
            [] if self.ctx.imported_modules & jwt.JWT_MODULES else None
        )

    # Where literals are given to credentials ---------------------------------------

    def visit_Assign(self, node: libcst.Assign) -> None:
        for target in node.targets:
            self._check_assignment(target.target, node.value)

    def visit_AnnAssign(self, node: libcst.AnnAssign) -> None:
        if node.value is not None:
            self._check_assignment(node.target, node.value)

    def visit_Param(self, node: libcst.Param) -> None:
        name = node.name.value
        kind = self._kind(name)
        if node.default is not None and kind is not None:
            self._check_literal(node.default, kind, f"the default of the parameter `{name}` is", name)

    def visit_DictElement(self, node: libcst.DictElement) -> None:
        key = self.ctx.literal(node.key) if isinstance(node.key, libcst.SimpleString) else None
        if not isinstance(key, str):
            return
        kind = self._kind(key)
        if key in _EXAMPLE_KEYS:
            self._skip(node.value)
        elif kind is not None:
            self._check_literal(node.value, kind, f'the dict entry "{key}" is', key)

    def visit_Call(self, node: libcst.Call) -> None:
        self._skip_jwt_key(node)
        for arg in node.args:
            keyword = arg.keyword.value if arg.keyword is not None else None
            kind = self._kind(keyword)
            if keyword in _EXAMPLE_KEYS:
                self._skip(arg.value)
            elif keyword is not None and kind is not None:
                self._check_literal(arg.value, kind, f"`{keyword}=` is passed", keyword)
        self._check_env_fallback(node, None)

    def visit_Comparison(self, node: libcst.Comparison) -> None:
        left = node.left
        for target in node.comparisons:
            if isinstance(target.operator, (libcst.Equal, libcst.NotEqual)):
                self._check_compared(left, target.comparator)
                self._check_compared(target.comparator, left)
            left = target.comparator

    # Literals in well-known key formats, wherever they are --------------------------

    def visit_ConcatenatedString(self, node: libcst.ConcatenatedString) -> None:
        self._check_key_format(node)

    def visit_SimpleString(self, node: libcst.SimpleString) -> None:
        self._check_key_format(node)

    def leave_Module(self, node: libcst.Module) -> None:
        # Reported after the walk, these findings have no enclosing statement: a suppression
        # comment goes on the literal's own line (for a one-line assignment, the same line).
        for literal, message in self._deferred or ():
            if id(literal) not in self._skipped:
                self.report(literal, message)

    # Checks -------------------------------------------------------------------------

    def _check_assignment(self, target: libcst.BaseExpression, value: libcst.BaseExpression) -> None:
        name = credentials.target_name(target)
        kind = self._kind(name)
        if kind is None or name is None:
            return
        written = credentials.written_name(target, self.ctx.module)
        if isinstance(value, libcst.BooleanOperation) and isinstance(value.operator, libcst.Or):
            self._check_env_fallback(value.left, name)
            self._check_literal(value.right, kind, f"`{written}` falls back (with `or`) to", name)
        elif isinstance(value, libcst.Call):
            self._check_env_fallback(value, name)
        else:
            self._check_literal(value, kind, f"`{written}` is set to", self._setting_name(target, name))

    def _check_env_fallback(self, call: libcst.CSTNode, target: str | None) -> None:
        """`os.getenv("API_KEY", "literal")`: named for a credential by its variable or its target."""
        if not isinstance(call, libcst.Call):
            return
        qualified = self.ctx.qualified_name(call.func)
        if qualified not in _ENV_LOOKUPS:
            return
        keyword, position = _ENV_LOOKUPS[qualified]
        arguments = self.ctx.arguments(call)
        variable = self.ctx.literal(arguments.get("key", 0))
        variable = variable if isinstance(variable, str) else None
        kind = self._kind(variable) or self._kind(target)
        fallback = arguments.get(keyword, position)
        if kind is None or fallback is None:
            return
        lookup = f'{dotted_name(call.func) or qualified}("{variable}")' if variable else qualified
        self._check_literal(fallback, kind, f"`{lookup}` falls back to", variable or target or "SECRET")

    def _check_compared(self, side: libcst.BaseExpression, literal: libcst.BaseExpression) -> None:
        name = credentials.value_name(side)
        kind = self._kind(name)
        if kind in _COMPARED_KINDS and name is not None:
            code = " ".join(self.ctx.module.code_for_node(side).split())
            self._check_literal(literal, kind, f"`{code}` is compared with", name)

    def _check_literal(self, node: libcst.CSTNode, kind: str, where: str, name: str) -> None:
        """Report `node` if it is a literal that could work as the credential `name` of `kind`."""
        if not isinstance(node, (libcst.SimpleString, libcst.ConcatenatedString)):
            return
        value = self.ctx.literal(node)
        if not isinstance(value, (str, bytes)) or self._ignored(node):
            return
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        key_format = credentials.key_format(text)
        if key_format is None and not _could_be_secret(text, kind):
            return
        what = key_format or f"a literal {credentials.singular(kind)}"
        variable = credentials.environment_name(name)
        self._report(node, f"{where} {what}: anyone who can read the code, its history or a built image has it; "
                     f'read it at runtime (os.environ["{variable}"], a secret manager) and rotate this one')

    def _check_key_format(self, node: libcst.SimpleString | libcst.ConcatenatedString) -> None:
        if self._ignored(node):
            return
        key_format = credentials.key_format(self.ctx.literal(node))
        if key_format is not None:
            self._report(node, f"this string is {key_format}: anyone who can read the code, its history or a "
                         "built image can use it; revoke it, and read the new one at runtime (os.environ, a "
                         "secret manager)")  # fmt: skip

    # Helpers --------------------------------------------------------------------------

    def _skip_jwt_key(self, call: libcst.Call) -> None:
        """Leave a JWT key to AL108, the constants it is built from included: one secret, one finding."""
        op = jwt.jwt_operation(self.ctx, call)
        if op is None or op.kind not in _JWT_KEY_OPERATIONS or jwt.signature_check_disabled(self.ctx, op):
            return
        key = op.arg("key")
        if key is None:
            return
        self._skip(key)
        for node in self.ctx.nodes_in(key):
            if isinstance(node, libcst.Name):
                assigned = self.ctx.resolve(node)
                if assigned is not node:
                    self._skip(assigned)

    def _kind(self, name: str | None) -> str | None:
        kind = credentials.credential_kind(name)
        return kind if kind in _KINDS else None

    def _setting_name(self, target: libcst.BaseExpression, name: str) -> str:
        """`stripe_api_key` for `stripe.api_key = ...`: what to call it in the environment."""
        if isinstance(target, libcst.Attribute) and self.ctx.qualified_name(target.value) is not None:
            return f"{dotted_name(target.value) or ''}_{name}"
        return name

    def _skip(self, node: libcst.CSTNode | None) -> None:
        if node is not None:
            self._skipped.update(id(n) for n in self.ctx.nodes_in(node))

    def _ignored(self, node: libcst.CSTNode) -> bool:
        return id(node) in self._skipped or id(node) in self._reported

    def _report(self, node: libcst.CSTNode, message: str) -> None:
        if isinstance(node, libcst.ConcatenatedString):  # its parts are the same literal
            self._reported.update(id(n) for n in self.ctx.nodes_in(node))
        self._reported.add(id(node))
        if self._in_non_production_code():
            return
        if self._deferred is not None:
            self._deferred.append((node, message))
        else:
            self.report(node, message)

    def _in_non_production_code(self) -> bool:
        """A dev/test file, a class named like `DevelopmentConfig`, or a `test_*` function.

        Other functions do not count by name: `issue_local_token()` is production code.
        """
        patterns = self.options.non_production_patterns
        if settings.is_non_production_path(self.ctx.path, patterns):
            return True
        for scope in self.ctx.resolver.scopes[1:]:
            owner = scope.node
            if isinstance(owner, libcst.ClassDef) and settings.name_matches(owner.name.value, patterns):
                return True
            if isinstance(owner, libcst.FunctionDef) and owner.name.value.startswith("test"):
                return True
        return False


def _could_be_secret(text: str, kind: str) -> bool:
    """Whether a literal given to a credential could be a working one (not a placeholder or a label)."""
    stripped = text.strip()
    if credentials.is_placeholder(stripped) or credentials.is_label(stripped):
        return False
    if stripped.startswith(_NOT_A_SECRET_PREFIXES):
        return False
    if len(stripped) < _MIN_LENGTH:  # "-", "*", "0": sentinels
        return False
    if kind == credentials.TOKEN:
        token = _SCHEME.sub("", stripped)  # "Bearer 9f8e..." in an Authorization header
        return len(token) >= _MIN_TOKEN_LENGTH and _TOKEN_LIKE.fullmatch(token) is not None
    return True
