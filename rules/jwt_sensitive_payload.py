from __future__ import annotations

import libcst

from authlint.facts import credentials, jwt
from authlint.model import Precision, Severity
from authlint.rule import FileRule

# Personal data that is no credential, matched whole or as the last words of a name (`user_ssn`).
# Credentials themselves (`password`, `api_key`, `client_secret`, ...) come from facts.credentials.
_PERSONAL_DATA = {
    "card_number": "card numbers",
    "credit_card": "card numbers",
    "cc_number": "card numbers",
    "cvv": "card security codes",
    "cvv2": "card security codes",
    "cvc": "card security codes",
    "ssn": "social security numbers",
    "social_security_number": "social security numbers",
}
# Registered claims and token-type labels: never personal data, whatever their spelling suggests.
_STANDARD_CLAIMS = frozenset(
    {"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "typ", "type", "token_type", "token_use", "kid", "alg",
     "scope", "scp", "azp", "nonce", "sid", "auth_time", "acr", "amr", "cnf", "at_hash", "c_hash", "s_hash"}
)  # fmt: skip
_COPIES = frozenset({"dict", "copy.copy", "copy.deepcopy"})


def sensitive_kind(name: str) -> str | None:
    """What kind of sensitive data a claim or attribute name names (`passwords`), or None."""
    if credentials.normalize_name(name) in _STANDARD_CLAIMS:
        return None
    return credentials.secret_kind(name) or credentials.term_kind(name, _PERSONAL_DATA)


def _is_flag_literal(node: libcst.CSTNode | None) -> bool:
    """`True`, `None`, `0`: a flag or a count about the data, never the data itself."""
    if isinstance(node, libcst.Name):
        return node.value in ("True", "False", "None")
    return isinstance(node, (libcst.Integer, libcst.Float))


def _key_nodes(nodes: list[libcst.CSTNode]) -> dict[int, libcst.CSTNode]:
    """id(value) -> the node naming its key, for dicts built in `nodes`."""
    keys: dict[int, libcst.CSTNode] = {}
    for node in nodes:
        if isinstance(node, libcst.DictElement):
            keys[id(node.value)] = node.key
        elif isinstance(node, libcst.Arg) and node.keyword is not None:
            keys[id(node.value)] = node.keyword
        elif isinstance(node, libcst.Assign):
            for target in node.targets:
                subscript = target.target
                if isinstance(subscript, libcst.Subscript) and len(subscript.slice) == 1:
                    keys[id(node.value)] = subscript.slice[0].slice
    return keys


class JwtSensitivePayload(FileRule):
    """A JWT carries a password, secret, card number or similar in its readable claims.

    ## What it does
    Flags claims of tokens issued with PyJWT, python-jose, Authlib and joserfc:

    - a claim named for sensitive data: `password`, `passwd`, `pwd`, `passphrase`,
      `password_hash`, `hashed_password`, `secret`, `secret_key`, `signing_key`,
      `client_secret`, `api_key`, `apikey`, `private_key`, `card_number`, `credit_card`,
      `cc_number`, `cvv`, `cvc`, `ssn`, `social_security_number`, in any case or
      camelCase, also as the end of a longer name (`user_password`, `stripe_api_key`,
      `totp_secret`);
    - a claim whose value is read from such a name (`"pw": user.password`,
      `"h": user.hashed_password`, `form["password"]`);
    - a payload that is a whole object: `user.__dict__`, `vars(user)`, or a copy of one.

    Registered claims and token-type labels (`token_type`, `at_hash`, `kid`, `scope`),
    flags about the data (`must_change_password`, `has_ssn`, literal `True`/`False`
    values) and names that merely contain a word (`secret_santa`, `password_changed_at`)
    are not flagged.

    ## Why is this bad?
    A signed JWT is not encrypted: its payload is base64url-encoded JSON that anyone
    holding the token can read, and tokens are copied into browser storage, logs, proxies
    and error trackers. A password hash in a token can be cracked offline; an API key,
    card number or SSN in one is simply disclosed.

    ## Example
    ```python
    import jwt

    token = jwt.encode({"sub": str(user.id), "password_hash": user.password_hash, "exp": expires},
                       private_key, algorithm="RS256")
    ```

    ## Use instead
    ```python
    import jwt

    token = jwt.encode({"sub": str(user.id), "exp": expires}, private_key, algorithm="RS256")
    ```

    Look sensitive data up on the server by the token's `sub` when it is needed, or use
    an encrypted token (JWE) if it really must travel with it.

    ## References
    - OWASP API Security Top 10 2023, API2: Broken Authentication
    - OWASP API Security Top 10 2023, API3: Broken Object Property Level Authorization
    - RFC 7519, JSON Web Token, section 12 (Privacy Considerations)
    - CWE-200: Exposure of Sensitive Information to an Unauthorized Actor
    - CWE-359: Exposure of Private Personal Information to an Unauthorized Actor
    """

    code = "AL109"
    name = "jwt-sensitive-payload"
    severity = Severity.MEDIUM
    precision = Precision.MEDIUM
    owasp = ("API2:2023", "API3:2023")
    cwe = (200, 359)
    requires = jwt.JWT_MODULES

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._reported: set[int] = set()  # nodes of a payload encoded more than once

    def visit_Call(self, node: libcst.Call) -> None:
        op = jwt.jwt_operation(self.ctx, node)
        if op is None or op.kind != jwt.ENCODE:
            return
        whole = self._whole_object(op.arg("payload"))
        if whole is not None:
            self._report_once(whole, f"{op.written} signs every attribute of an object (`{self._code(whole)}`): "
                              "its password hash or any other private field becomes readable by whoever holds "
                              "the token; list the claims explicitly, e.g. {\"sub\": str(user.id), ...}")  # fmt: skip
            return
        for claim, value in jwt.known_claims(self.ctx, op).items():
            self._check_claim(op, claim, value)

    def _check_claim(self, op: jwt.JwtOperation, claim: str, value: libcst.BaseExpression | None) -> None:
        if credentials.normalize_name(claim) in _STANDARD_CLAIMS or _is_flag_literal(value):
            return
        kind = sensitive_kind(claim)
        if kind is not None:
            where = self._key_node(op, value) or value or op.call
            self._report_once(where, f"{op.written} puts the claim `{claim}` into the token: a JWT is signed, not "
                              f"encrypted, so anyone holding it can read it; keep {kind} out of tokens and look "
                              "them up on the server by `sub`")  # fmt: skip
            return
        read = credentials.value_name(value)
        kind = sensitive_kind(read) if read else None
        if kind is not None and value is not None:
            self._report_once(value, f"{op.written} puts `{self._code(value)}` into the token as `{claim}`: a JWT "
                              f"is signed, not encrypted, so anyone holding it can read it; keep {kind} out of "
                              "tokens and look them up on the server by `sub`")  # fmt: skip

    def _whole_object(self, payload: libcst.CSTNode | None, depth: int = 0) -> libcst.CSTNode | None:
        """The `obj.__dict__` / `vars(obj)` a payload is, is a copy of, or is spread into."""
        payload = self.ctx.resolve(payload)
        if depth > 8 or payload is None:
            return None
        if isinstance(payload, libcst.Attribute) and payload.attr.value == "__dict__":
            return payload
        if isinstance(payload, libcst.Dict):
            spread = [e.value for e in payload.elements if isinstance(e, libcst.StarredDictElement)]
            return next(filter(None, (self._whole_object(value, depth + 1) for value in spread)), None)
        if not isinstance(payload, libcst.Call):
            return None
        func = payload.func
        if isinstance(func, libcst.Attribute) and func.attr.value == "copy" and not payload.args:
            return self._whole_object(func.value, depth + 1)
        if len(payload.args) != 1 or payload.args[0].star:
            return None
        qualified = self.ctx.qualified_name(func)
        if qualified == "vars":
            return payload
        return self._whole_object(payload.args[0].value, depth + 1) if qualified in _COPIES else None

    def _key_node(self, op: jwt.JwtOperation, value: libcst.CSTNode | None) -> libcst.CSTNode | None:
        """The key naming `value` in the dict it was built in: the payload itself or the function."""
        if value is None:
            return None
        for root in (self.ctx.resolve(op.arg("payload")), self.ctx.enclosing_function):
            if root is not None and id(value) in self._keys_in(root):
                return self._keys_in(root)[id(value)]
        return None

    def _keys_in(self, root: libcst.CSTNode) -> dict[int, libcst.CSTNode]:
        return self.ctx.cached("jwt_sensitive_payload.keys", root, lambda: _key_nodes(self.ctx.nodes_in(root)))

    def _code(self, node: libcst.CSTNode) -> str:
        code = " ".join(self.ctx.module.code_for_node(node).split())
        return code if len(code) <= 60 else code[:57] + "..."

    def _report_once(self, node: libcst.CSTNode, message: str) -> None:
        if id(node) not in self._reported:
            self._reported.add(id(node))
            self.report(node, message)
