"""JWT library calls, recognised once for every JWT rule: PyJWT, python-jose, Authlib, joserfc.

Each supported function is described by where its arguments are (`roles`): the payload,
the key, the signing algorithm, the accepted algorithms, the options, the audience and
issuer. Rules ask a `JwtOperation` for a role and never need to know that Authlib puts
the header first or that python-jose takes `algorithms` third.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

import libcst

from authlint.facts.calls import CallArguments
from authlint.facts.names import dotted_name

if TYPE_CHECKING:
    from authlint.context import FileContext

JWT_MODULES = frozenset({"jwt", "jose", "authlib", "joserfc"})

ENCODE = "encode"  # builds a signed token from claims
DECODE = "decode"  # verifies a token and returns its claims
SIGN = "sign"  # signs raw bytes (JWS), no claims
VERIFY = "verify"  # verifies raw JWS, no claims
UNVERIFIED_CLAIMS = "unverified-claims"
UNVERIFIED_HEADER = "unverified-header"
ALGORITHM_ALLOWLIST = "algorithm-allowlist"  # a constructor that fixes accepted algorithms

Role = tuple  # (keyword or None, position or None)


@dataclass(frozen=True)
class JwtApi:
    library: str
    kind: str
    roles: Mapping[str, Role]


def _api(library: str, kind: str, **roles: Role) -> JwtApi:
    return JwtApi(library, kind, roles)


_PYJWT_ENCODE = _api("PyJWT", ENCODE, payload=("payload", 0), key=("key", 1), algorithm=("algorithm", 2))
_PYJWT_DECODE = _api(
    "PyJWT", DECODE, token=("jwt", 0), key=("key", 1), algorithms=("algorithms", None),
    options=("options", None), audience=("audience", None), issuer=("issuer", None), verify=("verify", None),
)  # fmt: skip
_PYJWS_SIGN = _api("PyJWT", SIGN, key=("key", 1), algorithm=("algorithm", 2))
_PYJWS_VERIFY = _api("PyJWT", VERIFY, key=("key", 1), algorithms=("algorithms", None), options=("options", None))
_PYJWT_HEADER = _api("PyJWT", UNVERIFIED_HEADER)
_JOSE_ENCODE = _api("python-jose", ENCODE, payload=("claims", 0), key=("key", 1), algorithm=("algorithm", 2))
_JOSE_DECODE = _api(
    "python-jose", DECODE, token=("token", 0), key=("key", 1), algorithms=("algorithms", 2),
    options=("options", 3), audience=("audience", 4), issuer=("issuer", 5),
)  # fmt: skip
_JOSE_SIGN = _api("python-jose", SIGN, key=("key", 1), algorithm=("algorithm", 3))
_JOSE_VERIFY = _api("python-jose", VERIFY, key=("key", 1), algorithms=("algorithms", 2), verify=("verify", 3))
_AUTHLIB_ENCODE = _api("Authlib", ENCODE, header=("header", 0), payload=("payload", 1), key=("key", 2))
_AUTHLIB_DECODE = _api(
    "Authlib", DECODE, token=("s", 0), key=("key", 1), claims_cls=("claims_cls", 2),
    claims_options=("claims_options", 3), claims_params=("claims_params", 4),
)  # fmt: skip
_AUTHLIB_ALLOWLIST = _api("Authlib", ALGORITHM_ALLOWLIST, algorithms=("algorithms", 0))
_AUTHLIB_SIGN = _api("Authlib", SIGN, header=("protected", 0), key=("key", 2))
_AUTHLIB_VERIFY = _api("Authlib", VERIFY, key=("key", 1))
_JOSERFC_ENCODE = _api(
    "joserfc", ENCODE, header=("header", 0), payload=("claims", 1), key=("key", 2), algorithms=("algorithms", 3)
)
_JOSERFC_DECODE = _api("joserfc", DECODE, token=("value", 0), key=("key", 1), algorithms=("algorithms", 2))
_JOSERFC_SIGN = _api("joserfc", SIGN, header=("protected", 0), key=("private_key", 2), algorithms=("algorithms", 3))
_JOSERFC_VERIFY = _api("joserfc", VERIFY, key=("public_key", 1), algorithms=("algorithms", 2))

_APIS: dict[str, JwtApi] = {}


def _register(api: JwtApi, *names: str) -> None:
    for name in names:
        _APIS[name] = api


_register(_PYJWT_ENCODE, "jwt.encode", "jwt.api_jwt.encode", "jwt.PyJWT().encode", "jwt.api_jwt.PyJWT().encode")
for _decode in ("decode", "decode_complete"):
    _register(_PYJWT_DECODE, f"jwt.{_decode}", f"jwt.api_jwt.{_decode}", f"jwt.PyJWT().{_decode}",
              f"jwt.api_jwt.PyJWT().{_decode}")  # fmt: skip
    _register(_PYJWS_VERIFY, f"jwt.api_jws.{_decode}", f"jwt.PyJWS().{_decode}", f"jwt.api_jws.PyJWS().{_decode}")
_register(_PYJWS_SIGN, "jwt.api_jws.encode", "jwt.PyJWS().encode", "jwt.api_jws.PyJWS().encode")
_register(_PYJWT_HEADER, "jwt.get_unverified_header", "jwt.api_jws.get_unverified_header",
          "jwt.PyJWT().get_unverified_header", "jwt.PyJWS().get_unverified_header")  # fmt: skip
_register(_JOSE_ENCODE, "jose.jwt.encode")
_register(_JOSE_DECODE, "jose.jwt.decode")
_register(_JOSE_SIGN, "jose.jws.sign")
_register(_JOSE_VERIFY, "jose.jws.verify")
_register(_api("python-jose", UNVERIFIED_CLAIMS), "jose.jwt.get_unverified_claims", "jose.jws.get_unverified_claims")
_register(_api("python-jose", UNVERIFIED_HEADER), "jose.jwt.get_unverified_header", "jose.jws.get_unverified_header")
for _instance in ("authlib.jose.jwt", "authlib.jose.JsonWebToken()", "authlib.jose.JWT()"):
    _register(_AUTHLIB_ENCODE, f"{_instance}.encode")
    _register(_AUTHLIB_DECODE, f"{_instance}.decode")
_register(_AUTHLIB_ALLOWLIST, "authlib.jose.JsonWebToken", "authlib.jose.JWT", "authlib.jose.JsonWebSignature")
_register(_AUTHLIB_SIGN, "authlib.jose.JsonWebSignature().serialize_compact")
_register(_AUTHLIB_VERIFY, "authlib.jose.JsonWebSignature().deserialize_compact")
_register(_JOSERFC_ENCODE, "joserfc.jwt.encode")
_register(_JOSERFC_DECODE, "joserfc.jwt.decode")
_register(_JOSERFC_SIGN, "joserfc.jws.serialize_compact")
_register(_JOSERFC_VERIFY, "joserfc.jws.deserialize_compact")

# Authlib re-exports from its spec modules; `authlib.jose.rfc7519.JsonWebToken` is the same class.
_AUTHLIB_SPEC_MODULES = ("authlib.jose.rfc7519.", "authlib.jose.rfc7515.", "authlib.jose.rfc7518.")

# The module-level Authlib instance that accepts every registered algorithm.
AUTHLIB_DEFAULT_INSTANCE = "authlib.jose.jwt"


def _normalize(qualified: str) -> str:
    for prefix in _AUTHLIB_SPEC_MODULES:
        if qualified.startswith(prefix):
            return "authlib.jose." + qualified[len(prefix):]
    return qualified


@dataclass(frozen=True)
class JwtOperation:
    """One call into a JWT library, with its arguments looked up by role."""

    call: libcst.Call
    api: JwtApi
    qualified: str
    arguments: CallArguments

    @property
    def library(self) -> str:
        return self.api.library

    @property
    def kind(self) -> str:
        return self.api.kind

    @property
    def written(self) -> str:
        """The call as the source spells it, for messages: `pyjwt.decode()`."""
        return f"{dotted_name(self.call.func) or self.qualified}()"

    def arg(self, role: str) -> libcst.BaseExpression | None:
        keyword, position = self.api.roles.get(role, (None, None))
        found = self.arguments.get(keyword, position)
        if found is None and self.api is _PYJWT_DECODE and role in ("algorithms", "verify"):
            found = self._pyjwt_third_positional(role)
        return found

    def has(self, role: str) -> bool | None:
        """True/False if the role's argument is known to be given or not; None if unknowable."""
        if self.arg(role) is not None:
            return True
        return False if self.arguments.complete else None

    def _pyjwt_third_positional(self, role: str) -> libcst.BaseExpression | None:
        """PyJWT 1.x took `verify` third, PyJWT 2.x takes `algorithms`: tell them apart by value."""
        if len(self.arguments.positional) < 3:
            return None
        third = self.arguments.positional[2]
        is_bool = isinstance(third, libcst.Name) and third.value in ("True", "False")
        return third if (role == "verify") == is_bool else None


def jwt_operation(ctx: FileContext, call: libcst.Call) -> JwtOperation | None:
    """The JWT library call `call` is, or None (cached per call)."""
    if not ctx.imported_modules & JWT_MODULES:
        return None
    return ctx.cached("jwt", call, lambda: _recognise(ctx, call))


def _recognise(ctx: FileContext, call: libcst.Call) -> JwtOperation | None:
    qualified = ctx.qualified_name(call.func)
    if qualified is None:
        return None
    qualified = _normalize(qualified)
    api = _APIS.get(qualified)
    if api is None:
        return None
    return JwtOperation(call, api, qualified, ctx.arguments(call))


def options(ctx: FileContext, op: JwtOperation) -> Mapping[str, libcst.BaseExpression | None]:
    """The decode options dict's entries as far as they are known (empty if unknowable)."""
    return ctx.dict_entries(op.arg("options")) or {}


def disabled_check(ctx: FileContext, op: JwtOperation, option: str) -> libcst.CSTNode | None:
    """The argument that turns `option` (`verify_signature`, `verify_aud`, ...) off, if any."""
    value = options(ctx, op).get(option)
    if value is not None and ctx.literal(value) is False:
        return op.arg("options")
    return None


def signature_check_disabled(ctx: FileContext, op: JwtOperation) -> libcst.CSTNode | None:
    """The argument that turns signature verification off: `verify=False` or the options."""
    if op.kind not in (DECODE, VERIFY):
        return None
    verify = op.arg("verify")
    if verify is not None and ctx.literal(verify) is False:
        return verify
    return disabled_check(ctx, op, "verify_signature")


def is_verifying_decode(ctx: FileContext, op: JwtOperation) -> bool:
    return op.kind in (DECODE, VERIFY) and signature_check_disabled(ctx, op) is None


def claims_payload(ctx: FileContext, op: JwtOperation) -> Mapping[str, libcst.BaseExpression | None] | None:
    """The claims an encode call signs, key by key, or None when they cannot be known."""
    if op.kind != ENCODE:
        return None
    return ctx.dict_entries(op.arg("payload"))


def known_claims(ctx: FileContext, op: JwtOperation) -> Mapping[str, libcst.BaseExpression | None]:
    """The claims an encode call is known to sign, even when its payload is only partly known.

    All of them when `claims_payload` knows them; otherwise the keys added to the payload's
    name before the call (`to_encode = data.copy(); to_encode.update({"exp": expire})`).
    Never use it to say a claim is missing: the unknown part may hold it.
    """
    entries = claims_payload(ctx, op)
    if entries is not None:
        return entries
    payload = op.arg("payload")
    if op.kind != ENCODE or not isinstance(payload, libcst.Name):
        return {}
    return dict(ctx.resolver.added_keys(payload.value) or {})


def algorithm_names(ctx: FileContext, expr: libcst.CSTNode | None) -> list[str] | None:
    """`["HS256", "RS256"]` for an algorithms argument (a str, list, tuple or set of them)."""
    value = ctx.literal(expr)
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple, frozenset)) and all(isinstance(v, str) for v in value):
        return sorted(value) if isinstance(value, frozenset) else list(value)
    return None


def header_algorithm(ctx: FileContext, op: JwtOperation) -> tuple[libcst.CSTNode, str] | None:
    """For Authlib/joserfc, whose header dict carries `alg`: the `alg` value node and string."""
    entries = ctx.dict_entries(op.arg("header"))
    if not entries or entries.get("alg") is None:
        return None
    value = ctx.literal(entries["alg"])
    return (entries["alg"], value) if isinstance(value, str) else None  # type: ignore[return-value]


def _maybe_given(ctx: FileContext, op: JwtOperation, role: str) -> bool:
    """Whether the argument may be given a value other than None."""
    argument = op.arg(role)
    if argument is None:
        return op.has(role) is None
    return ctx.literal(argument) is not None


# Claim checks a decode can skip -------------------------------------------------

DISABLED = "disabled"  # `verify_aud: False` in the options
NOT_PASSED = "not-passed"  # no `audience=` argument
PASSED_NONE = "passed-none"  # `audience=None`
NO_CLAIMS_OPTIONS = "no-claims-options"  # Authlib decode without claims_options
NOT_IN_CLAIMS_OPTIONS = "not-in-claims-options"  # claims_options without the claim

_CLAIM_ARGUMENTS = {"aud": "audience", "iss": "issuer"}
# joserfc validates claims separately (JWTClaimsRegistry), so its decode is not judged.
_CLAIM_KEYWORD_LIBRARIES = ("PyJWT", "python-jose")


@dataclass(frozen=True)
class ClaimCheckGap:
    """Why a verifying decode does not check `aud` or `iss`, and the node to report."""

    node: libcst.CSTNode
    reason: str


def claim_check_gap(ctx: FileContext, op: JwtOperation, claim: str) -> ClaimCheckGap | None:
    """How a verifying decode leaves `claim` ("aud" or "iss") unchecked, if it does."""
    if op.kind != DECODE or not is_verifying_decode(ctx, op):
        return None
    if op.library in _CLAIM_KEYWORD_LIBRARIES:
        return _keyword_claim_gap(ctx, op, claim)
    if op.library == "Authlib":
        return _claims_options_gap(ctx, op, claim)
    return None


def _keyword_claim_gap(ctx: FileContext, op: JwtOperation, claim: str) -> ClaimCheckGap | None:
    disabled = disabled_check(ctx, op, f"verify_{claim}")
    if disabled is not None:
        return ClaimCheckGap(disabled, DISABLED)
    role = _CLAIM_ARGUMENTS[claim]
    argument = op.arg(role)
    if argument is None:
        return ClaimCheckGap(op.call, NOT_PASSED) if op.has(role) is False else None
    return ClaimCheckGap(argument, PASSED_NONE) if ctx.literal(argument) is None else None


def _claims_options_gap(ctx: FileContext, op: JwtOperation, claim: str) -> ClaimCheckGap | None:
    if _maybe_given(ctx, op, "claims_cls") or _maybe_given(ctx, op, "claims_params"):
        return None  # a claims class (OpenID's IDToken) validates aud/iss from its params itself
    claims_options = op.arg("claims_options")
    if claims_options is None:
        return ClaimCheckGap(op.call, NO_CLAIMS_OPTIONS) if op.has("claims_options") is False else None
    entries = ctx.dict_entries(claims_options)
    if entries is not None and claim not in entries:
        return ClaimCheckGap(claims_options, NOT_IN_CLAIMS_OPTIONS)
    return None
