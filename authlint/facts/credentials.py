"""Credentials: which names hold one, which literals are one, which generators make one.

One classifier for every rule that cares whether `api_key`, `hashedPassword`,
`X-Reset-Token` or `NextToken` names a secret: names are normalized (camelCase,
kebab-case, UPPER_SNAKE -> snake), matched by their last words (`stripe_api_key` is an
API key), and rejected when the words around the term make them something else: a flag
(`is_secret`, `has_password`), a counter (`max_tokens`), a pagination cursor
(`next_token`), a tokenizer's special token (`eos_token`), or a password action
(`reset_password`). Names that merely start with a term (`token_type`, `password_url`,
`api_key_id`, `password_reset_required`) never match, because the term must end them.

Literals get two recognizers: well-known key formats (`sk_live_...`, `ghp_...`,
`AKIA...`, a PEM private key) and placeholders that cannot be a working credential
(`""`, `"<your-key>"`, `"xxx"`, `"${API_KEY}"`). `"changeme"` is not a placeholder: it
is the default that ships.
"""

from __future__ import annotations

import functools
import itertools
import re
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

import libcst

from authlint.facts.literals import string_value, subscript_key

if TYPE_CHECKING:
    from authlint.context import FileContext

# Kinds, worded for messages ("keep {kind} out of tokens", "{kind} compared with ==").
PASSWORD = "passwords"
PASSWORD_HASH = "password hashes"
SECRET = "secrets"
SECRET_KEY = "secret keys"
CLIENT_SECRET = "client secrets"
API_KEY = "API keys"
PRIVATE_KEY = "private keys"
TOKEN = "tokens"
SIGNATURE = "signatures"
HMAC_DIGEST = "HMAC digests"
ONE_TIME_CODE = "one-time codes"
SESSION_ID = "session ids"
SALT = "salts"

# Secrets a system keeps (rather than issues): what must never leave it or be written down.
STORED_SECRETS = frozenset({PASSWORD, PASSWORD_HASH, SECRET, SECRET_KEY, CLIENT_SECRET, API_KEY, PRIVATE_KEY})

_PASSWORD_SERVICES = ("db", "database", "smtp", "mail", "email", "mysql", "postgres", "pg", "redis", "admin",
                      "root", "ftp", "ldap", "sql", "amqp", "rabbitmq", "mongo", "proxy")  # fmt: skip

# Normalized names (snake_case) and the kind they name, whole or as the last words of a name.
TERMS: Mapping[str, str] = {
    "password": PASSWORD, "passwd": PASSWORD, "pwd": PASSWORD, "passphrase": PASSWORD,
    **{f"{service}_pass": PASSWORD for service in _PASSWORD_SERVICES},
    "password_hash": PASSWORD_HASH, "hashed_password": PASSWORD_HASH, "password_digest": PASSWORD_HASH,
    "pwd_hash": PASSWORD_HASH, "passwd_hash": PASSWORD_HASH, "hashed_pwd": PASSWORD_HASH,
    "secret": SECRET,
    "secret_key": SECRET_KEY, "secret_access_key": SECRET_KEY, "signing_key": SECRET_KEY,
    "client_secret": CLIENT_SECRET, "consumer_secret": CLIENT_SECRET,
    "api_key": API_KEY, "apikey": API_KEY, "subscription_key": API_KEY,
    "private_key": PRIVATE_KEY, "priv_key": PRIVATE_KEY, "private_key_pem": PRIVATE_KEY,
    "token": TOKEN, "authorization": TOKEN,
    "signature": SIGNATURE, "sig": SIGNATURE,
    "hmac": HMAC_DIGEST, "hmac_digest": HMAC_DIGEST, "hmac_signature": HMAC_DIGEST,
    "otp": ONE_TIME_CODE, "totp": ONE_TIME_CODE, "hotp": ONE_TIME_CODE, "one_time_password": ONE_TIME_CODE,
    "one_time_code": ONE_TIME_CODE, "otp_code": ONE_TIME_CODE, "reset_code": ONE_TIME_CODE,
    "verification_code": ONE_TIME_CODE, "verify_code": ONE_TIME_CODE, "confirmation_code": ONE_TIME_CODE,
    "activation_code": ONE_TIME_CODE, "mfa_code": ONE_TIME_CODE, "sms_code": ONE_TIME_CODE,
    "email_code": ONE_TIME_CODE, "login_code": ONE_TIME_CODE, "pin_code": ONE_TIME_CODE,
    "recovery_code": ONE_TIME_CODE, "backup_code": ONE_TIME_CODE, "invite_code": ONE_TIME_CODE,
    "session_id": SESSION_ID, "sessionid": SESSION_ID, "session_key": SESSION_ID,
    "salt": SALT,
}  # fmt: skip
# Terms that name a credential only after another word (`expected_sig`): a bare `sig` is a signal.
_SUFFIX_ONLY = frozenset({"sig"})

# First words that make a name a flag or a count about the data, never the data.
_PREDICATES = frozenset(
    {"is", "has", "must", "need", "needs", "require", "requires", "force", "should", "can", "allow", "no",
     "use", "show", "hide", "enable", "enabled", "disable", "disabled", "max", "min", "num", "n", "count",
     "total", "len", "verify", "validate", "check"}
)  # fmt: skip
# First words that make `change_password` or `reset_password` an action, not a password.
_ACTIONS = frozenset({"change", "reset", "forgot", "forget", "set", "update", "remember"})
# Words right before `token` that make it a cursor or a tokenizer's symbol: `next_token`, `eos_token`.
_NOT_CREDENTIAL_TOKENS = frozenset(
    {"next", "prev", "previous", "page", "pagination", "continuation", "cursor", "sync", "marker", "start",
     "end", "stop", "eos", "bos", "pad", "unk", "sep", "cls", "mask", "special", "cancel", "cancellation",
     "lexer", "parser", "identity", "wildcard", "path", "sentinel"}
)  # fmt: skip
_LAST_WORDS_EXCLUDED = {TOKEN: _NOT_CREDENTIAL_TOKENS}

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_WORD = re.compile(r"[^a-z0-9]+")


@functools.lru_cache(maxsize=4096)
def normalize_name(name: str) -> str:
    """`hashedPassword`, `Hashed-Password`, `HASHED_PASSWORD`, `X-Api-Key` -> snake_case words."""
    return _NOT_WORD.sub("_", _CAMEL_BOUNDARY.sub("_", name).lower()).strip("_")


def term_kind(name: str, terms: Mapping[str, str]) -> str | None:
    """The kind of the longest term of `terms` that `name` is or ends with, unless it is a flag or count."""
    normalized = normalize_name(name)
    if normalized in terms and normalized not in _SUFFIX_ONLY:
        return terms[normalized]
    words = normalized.split("_")
    if len(words) > 1 and words[-1].isdigit():  # X-Hub-Signature-256, api_key_2
        return term_kind("_".join(words[:-1]), terms)
    if words[0] in _PREDICATES:
        return None
    for start in range(1, len(words)):
        suffix = "_".join(words[start:])
        if suffix in terms:
            kind = terms[suffix]
            return None if words[0] in _ACTIONS and kind == PASSWORD else kind
    return None


@functools.lru_cache(maxsize=4096)
def credential_kind(name: str | None) -> str | None:
    """What kind of credential a variable, attribute, key, header or parameter name names, or None."""
    if not name:
        return None
    kind = term_kind(name, TERMS)
    if kind is None:
        return None
    words = normalize_name(name).split("_")
    if len(words) > 1 and words[-2] in _LAST_WORDS_EXCLUDED.get(kind, ()):
        return None
    return kind


def secret_kind(name: str | None) -> str | None:
    """Like `credential_kind`, for secrets a system keeps: passwords, keys, client secrets."""
    kind = credential_kind(name)
    return kind if kind in STORED_SECRETS else None


def collection_kind(name: str | None) -> str | None:
    """The credential kind a plural name holds many of: `API_KEYS`, `valid_tokens`, `secrets`."""
    if not name:
        return None
    normalized = normalize_name(name)
    if not normalized.endswith("s") or normalized.endswith("ss"):
        return None
    return credential_kind(normalized[:-1])


# Reading the name a value goes by ---------------------------------------------------

# Methods that hand back the same value: `password.encode()`, `token.strip()`.
SAME_VALUE_METHODS = frozenset({"encode", "decode", "strip", "lstrip", "rstrip", "lower", "upper", "casefold"})
# `.get("X-Api-Key")` on headers, forms, dicts and os.environ names the value by its key.
_KEYED_GETTERS = frozenset({"get", "getlist", "pop", "getenv"})


def value_name(node: libcst.CSTNode | None) -> str | None:
    """The name a value is read by: `password`, `user.password`, `form["password"]`,
    `request.headers.get("X-Api-Key")`, `form.password.data` (WTForms), `password.encode()`."""
    while isinstance(node, libcst.Await):
        node = node.expression
    if isinstance(node, libcst.Name):
        return node.value
    if isinstance(node, libcst.Attribute):
        if node.attr.value == "data" and isinstance(node.value, libcst.Attribute):
            return node.value.attr.value
        return node.attr.value
    if isinstance(node, libcst.Subscript):
        return subscript_key(node)
    if isinstance(node, libcst.Call) and isinstance(node.func, libcst.Attribute):
        method = node.func.attr.value
        if method in SAME_VALUE_METHODS:
            return value_name(node.func.value)
        if method in _KEYED_GETTERS and node.args and isinstance(node.args[0].value, libcst.SimpleString):
            key = string_value(node.args[0].value)
            return key if isinstance(key, str) else None
    return None


def target_name(target: libcst.CSTNode) -> str | None:
    """The name an assignment target writes: `token`, `user.api_key`, `app.config["SECRET_KEY"]`."""
    if isinstance(target, libcst.Name):
        return target.value
    if isinstance(target, libcst.Attribute):
        return target.attr.value
    if isinstance(target, libcst.Subscript):
        return subscript_key(target)
    return None


def written_name(target: libcst.CSTNode, module: libcst.Module) -> str:
    """A target as written, for messages: `user.api_key`, `app.config["SECRET_KEY"]`."""
    code = " ".join(module.code_for_node(target).split())
    return code if len(code) <= 50 else (target_name(target) or code[:47] + "...")


# Literals: key formats, placeholders, labels ---------------------------------------

# (what it is, pattern). Lengths and alphabets are the real ones, so `sk_live_xxx` and
# `ghp_<token>` in docs and examples do not match.
KEY_FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a Stripe live secret key", re.compile(r"\b[rs]k_live_[0-9A-Za-z]{16,}")),
    ("a GitHub token", re.compile(r"\bgh[pousr]_[0-9A-Za-z]{36,}")),
    ("a GitHub fine-grained token", re.compile(r"\bgithub_pat_[0-9A-Za-z_]{40,}")),
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a Slack token", re.compile(r"\bxox[abprs]-[0-9A-Za-z-]{10,}")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("a GitLab token", re.compile(r"\bglpat-[0-9A-Za-z_-]{20,}")),
    ("a SendGrid API key", re.compile(r"\bSG\.[0-9A-Za-z_-]{22}\.[0-9A-Za-z_-]{43}\b")),
    ("an OpenAI-style secret key", re.compile(r"\bsk-(?:[a-z]+-)?[0-9A-Za-z_-]{32,}")),
    ("an npm token", re.compile(r"\bnpm_[0-9A-Za-z]{36}\b")),
    ("a PyPI token", re.compile(r"\bpypi-AgE[0-9A-Za-z_-]{50,}")),
    ("a private key PEM",
     re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?[0-9A-Za-z+/]{20}")),
)  # fmt: skip
# Text that marks a documented example, not a key: AWS's own AKIAIOSFODNN7EXAMPLE.
_EXAMPLE_MARK = re.compile(r"example", re.I)
# The prefixes of KEY_FORMATS, for text gates.
KEY_FORMAT_PREFIXES = ("sk_live_", "rk_live_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "AKIA",
                       "ASIA", "xox", "AIza", "glpat-", "SG.", "sk-", "npm_", "pypi-", "PRIVATE KEY")  # fmt: skip

_PLACEHOLDERS = (
    re.compile(r"\s*"),  # empty
    re.compile(r"<[^<>]*>"),  # <your-key>, <API_KEY>
    re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*"),  # ${VAR}, $VAR
    re.compile(r"\{\{.*\}\}|\{[A-Za-z_][A-Za-z0-9_.]*\}|%\([A-Za-z_]\w*\)s|%s"),  # templates
    re.compile(r"(?i)your[\s_-].*|.*[\s_-]here|placeholder|redacted|todo|tbd|fixme|none|null|nil|undefined"),
    re.compile(r"(?i)test|testing|dummy|fake|example|sample|demo"),  # fixtures, not deployed credentials
)  # fmt: skip
# Anywhere in the text: runs of x or *, an ellipsis.
_PLACEHOLDER_RUNS = re.compile(r"(?i)x{3,}|\*{3,}|\.{3}|\u2026|\u2022{3,}")


def key_format(value: object) -> str | None:
    """What well-known kind of key a literal holds (`a GitHub token`), or None."""
    text = _text(value)
    if text is None:
        return None
    for label, pattern in KEY_FORMATS:
        match = pattern.search(text)
        if match and not _EXAMPLE_MARK.search(match.group(0)):
            return None if is_placeholder(text) else label
    return None


def is_placeholder(value: object) -> bool:
    """A literal that cannot be a working credential: empty, `<your-key>`, `xxx`, `...`, `${VAR}`."""
    text = _text(value)
    if text is None:
        return False
    stripped = text.strip()
    return any(p.fullmatch(stripped) for p in _PLACEHOLDERS) or _PLACEHOLDER_RUNS.search(stripped) is not None


# Authentication scheme and token-type labels, compared or assigned as plain words.
_LABELS = frozenset({"bearer", "basic", "digest", "token", "jwt", "mac", "hmac", "apikey", "oauth", "oauth2",
                     "negotiate", "hoba", "dpop", "access", "refresh", "authorization"})  # fmt: skip
_HEADER_NAME = re.compile(r"[Xx]-[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
# A field or parameter name: snake_case or camelCase, never a phrase or a kebab-case password.
_FIELD_NAME = re.compile(r"[A-Za-z][a-z0-9]*(?:_[A-Za-z0-9]+)+|[a-zA-Z][a-z0-9]*(?:[A-Z][a-z0-9]*)+")
_TERM_WORDS = frozenset(word for term in TERMS for word in term.split("_"))


def is_label(value: object) -> bool:
    """A word that names a credential rather than being one: `"Bearer"`, `"NextToken"`,
    `"access_token"`, `"passwd"`, `"X-API-Key"` (a scheme, a field, parameter or header
    name, as in `dict(username="user", password="passwd")` mapping one API's names to
    another's). So `password = "password"` reads as a label too.
    """
    text = _text(value)
    if text is None:
        return False
    text = text.strip().strip("_")
    normalized = normalize_name(text)
    if normalized in _LABELS or normalized in TERMS or _HEADER_NAME.fullmatch(text):
        return True
    return _FIELD_NAME.fullmatch(text) is not None and normalized.split("_")[-1] in _TERM_WORDS


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value if isinstance(value, str) else None


# Text gates ---------------------------------------------------------------------------


def terms_words(kinds: Iterable[str] | None = None, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """Lowercase words every spelling that `terms_pattern` matches contains (a rule's `requires_words`):
    each spelling of `api_key` contains "key" in some case."""
    wanted = None if kinds is None else frozenset(kinds)
    words = {term.split("_")[-1] for term, kind in TERMS.items() if wanted is None or kind in wanted}
    # In the pattern "_" is an optional separator, in `extra` strings too ("_AUTH" matches "AUTH"):
    # the longest part between underscores is what every match contains.
    words |= {max(e.lower().split("_"), key=len) for e in extra}
    return tuple(sorted(words))


def terms_pattern(kinds: Iterable[str] | None = None, extra: Iterable[str] = ()) -> re.Pattern[str]:
    """A pattern matching the usual spellings of the terms of `kinds` (all if None), and the
    `extra` strings as they are, for a rule's `requires_text`.

    `api_key` matches `api_key`, `API_KEY`, `apiKey`, `APIKey`, `ApiKey`, `X-Api-Key`. The
    pattern is a case-sensitive trie of those spellings: Python's `re` scans it several
    times faster than a case-insensitive alternation of the terms.
    """
    wanted = None if kinds is None else frozenset(kinds)
    extra = tuple(extra)

    def text() -> str:
        spellings = set(extra)
        for term, kind in TERMS.items():
            if wanted is None or kind in wanted:
                spellings |= _spellings(term.split("_"), after_a_word=term in _SUFFIX_ONLY)
        return _trie_pattern(sorted(spellings))

    return DeferredPattern(text)  # type: ignore[return-value]


class DeferredPattern:
    """A regex built and compiled on first use, for a rule's `requires_text`.

    Rules are imported for their metadata on every run, also on one the cache answers
    without analysing a file; the credential tries took a third of that import.
    """

    def __init__(self, text: Callable[[], str]) -> None:
        self._text = text

    @functools.cached_property
    def compiled(self) -> re.Pattern[str]:
        return re.compile(self._text())

    def __getattr__(self, name: str) -> Any:  # search, finditer, pattern...
        return getattr(self.compiled, name)


# Markers in spellings: "_" is an optional separator; the others stand for what must come
# before a suffix-only term (`expected_sig`, `expectedSig`), so that `signal` never matches.
_SEPARATOR, _REQUIRED_SEPARATOR, _WORD_CHARACTER = "_", "\x00", "\x01"


def _spellings(words: list[str], after_a_word: bool = False) -> set[str]:
    cased = {"_".join(words) for words in itertools.product(*[(w, w.upper(), w.capitalize()) for w in words])}
    if not after_a_word:
        return cased
    return {_REQUIRED_SEPARATOR + spelling for spelling in cased} | {
        _WORD_CHARACTER + spelling for spelling in cased if spelling[0].isupper() and not spelling.isupper()
    }


def _trie_pattern(strings: list[str]) -> str:
    trie: dict = {}
    for string in strings:
        node = trie
        for char in string:
            node = node.setdefault(char, {})
        node[""] = {}
    return _trie_node_pattern(trie)


def _char_pattern(char: str) -> str:
    markers = {_SEPARATOR: "[_-]?", _REQUIRED_SEPARATOR: "[_-]", _WORD_CHARACTER: "[a-z0-9]"}
    return markers.get(char) or re.escape(char)


def _trie_node_pattern(node: dict) -> str:
    branches = [_char_pattern(char) + _trie_node_pattern(child) for char, child in sorted(node.items()) if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in node else body


# Random sources ------------------------------------------------------------------------

STRONG = "strong"
WEAK = "weak"
# Functions whose output an attacker can predict or enumerate, and why.
_WEAK_SOURCES = {
    "random": "`random` is a Mersenne Twister: its output can be predicted from earlier outputs",
    "numpy.random": "`numpy.random` is not a cryptographic generator: its output can be predicted",
    "uuid.uuid1": "`uuid1()` is the clock and the host's MAC address",
    "uuid.uuid3": "`uuid3()` is a hash of its (guessable) input",
    "uuid.uuid5": "`uuid5()` is a hash of its (guessable) input",
    "time.time": "the clock can be guessed to the second",
    "time.time_ns": "the clock can be guessed",
    "time.monotonic": "the clock can be guessed",
    "time.perf_counter": "the clock can be guessed",
    "datetime.datetime.now": "the clock can be guessed to the second",
    "datetime.datetime.utcnow": "the clock can be guessed to the second",
    "datetime.datetime.today": "the clock can be guessed to the second",
    "django.utils.timezone.now": "the clock can be guessed to the second",
    "hash": "`hash()` of guessable data is guessable (and not even random for numbers)",
}
# Cryptographically strong sources; for the ones taking a byte count, where it is.
_STRONG_SOURCES = frozenset(
    {"secrets.token_hex", "secrets.token_urlsafe", "secrets.token_bytes", "secrets.choice", "secrets.randbelow",
     "secrets.randbits", "os.urandom", "uuid.uuid4", "django.utils.crypto.get_random_string",
     "django.contrib.auth.tokens.default_token_generator.make_token", "Crypto.Random.get_random_bytes"}
)  # fmt: skip
_STRONG_PREFIXES = ("random.SystemRandom", "secrets.SystemRandom", "secrets.", "Crypto.Random.")
BYTE_COUNT_SOURCES = {"secrets.token_hex": "nbytes", "secrets.token_urlsafe": "nbytes",
                      "secrets.token_bytes": "nbytes", "os.urandom": "size",
                      "Crypto.Random.get_random_bytes": "N"}  # fmt: skip


def random_source(qualified: str | None) -> tuple[str, str] | None:
    """(STRONG or WEAK, why) for a function that makes random-looking values, or None."""
    if not qualified:
        return None
    if qualified in _STRONG_SOURCES or qualified.startswith(_STRONG_PREFIXES):
        return STRONG, ""
    if qualified in _WEAK_SOURCES:
        return WEAK, _WEAK_SOURCES[qualified]
    for module in ("random", "numpy.random"):
        if qualified.startswith(module + "."):
            return WEAK, _WEAK_SOURCES[module]
    return None


def byte_count(ctx: FileContext, call: libcst.Call, qualified: str) -> int | None:
    """How many random bytes `secrets.token_hex(8)` / `os.urandom(8)` asks for; None if unknown
    or the library default (32 for `secrets`)."""
    keyword = BYTE_COUNT_SOURCES.get(qualified)
    if keyword is None:
        return None
    count = ctx.literal(ctx.arguments(call).get(keyword, 0))
    return count if isinstance(count, int) and not isinstance(count, bool) else None


def singular(kind: str) -> str:
    """`password hashes` -> `password hash`, `API keys` -> `API key`: one of a kind, for messages."""
    for plural, one in (("hashes", "hash"), ("ids", "id")):
        if kind.endswith(plural):
            return kind[: -len(plural)] + one
    return kind[:-1] if kind.endswith("s") else kind


def environment_name(name: str) -> str:
    """The environment variable a credential named `name` would be read from: `STRIPE_API_KEY`."""
    return normalize_name(name).upper() or "SECRET"
