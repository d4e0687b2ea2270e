from __future__ import annotations

import re

import libcst

from authlint import fix
from authlint.facts.names import call_label, dotted_name
from authlint.model import Precision, Severity
from authlint.rule import FileRule

# Keyword arguments that turn certificate checks off, by the library whose calls take them.
_DISABLING_KEYWORDS = {
    "requests": {"verify": False},
    "httpx": {"verify": False},
    "boto3": {"verify": False},
    "botocore": {"verify": False},
    "aiohttp": {"ssl": False, "verify_ssl": False},
}
# Methods that send a request or build a client, for receivers authlint cannot resolve
# (`self.session.get(url, verify=False)` in a file that imports requests).
_CLIENT_METHODS = frozenset({
    "get", "post", "put", "patch", "delete", "head", "options", "request", "send", "stream",
    "ws_connect", "Client", "AsyncClient", "Session", "ClientSession", "TCPConnector",
})  # fmt: skip
# How to trust a private CA instead, by keyword.
_PRIVATE_CA = {
    "verify": 'pass its bundle: `verify="/etc/ssl/private-ca.pem"`',
    "ssl": "pass `ssl=ssl.create_default_context(cafile=...)`",
    "verify_ssl": "pass `ssl=ssl.create_default_context(cafile=...)`",
}
# Libraries whose calls verify certificates when `verify=` is not given: removing `verify=False` fixes them.
_VERIFY_BY_DEFAULT = frozenset({"requests", "httpx"})
_CERT_NONE = frozenset({"ssl.CERT_NONE", "ssl.VerifyMode.CERT_NONE"})
_CERT_NONE_STRINGS = frozenset({"CERT_NONE", "NONE"})  # urllib3 accepts these for `cert_reqs`
_UNVERIFIED_CONTEXT = "ssl._create_unverified_context"
_DEFAULT_HTTPS_CONTEXT = "ssl._create_default_https_context"
_DISABLE_WARNINGS = frozenset({
    "urllib3.disable_warnings", "requests.packages.urllib3.disable_warnings", "requests.urllib3.disable_warnings",
})  # fmt: skip
_WARNING_FILTERS = frozenset({"warnings.filterwarnings", "warnings.simplefilter"})
_INSECURE_REQUEST_WARNING = "InsecureRequestWarning"


class TlsVerificationDisabled(FileRule):
    """TLS certificate or hostname verification is turned off for outbound connections.

    ## What it does
    Flags code that makes HTTPS connections accept any certificate:

    - `verify=False` on requests and httpx calls, sessions and clients
      (`requests.get(url, verify=False)`, `httpx.Client(verify=False)`,
      `session.post(..., verify=False)`), and on boto3 clients;
    - `session.verify = False`;
    - aiohttp's `ssl=False` / `verify_ssl=False` (`session.get(url, ssl=False)`,
      `TCPConnector(ssl=False)`);
    - `ssl._create_unverified_context()`, and installing it as the default
      (`ssl._create_default_https_context = ssl._create_unverified_context`);
    - `ssl.CERT_NONE` assigned or passed (`ctx.verify_mode = ssl.CERT_NONE`,
      `cert_reqs=ssl.CERT_NONE`, urllib3's `cert_reqs="CERT_NONE"`);
    - `context.check_hostname = False`;
    - `urllib3.disable_warnings(...)` or a warnings filter for `InsecureRequestWarning`, when
      the same file also turns verification off: it hides the warning that would have
      shown the problem.

    Values are followed through module constants and local names (`VERIFY = False`). Not
    flagged: `verify=True`, `verify="/path/to/ca-bundle.pem"` or any other CA bundle,
    `verify=ssl_context`, `verify=settings.VERIFY_TLS`, comparisons with `ssl.CERT_NONE`.

    ## Why is this bad?
    Without certificate verification, anyone on the network path (a shared Wi-Fi, a
    compromised router, a hostile proxy, DNS spoofing) can impersonate the server: they read
    the API keys, tokens and data sent, and can answer with their own. TLS without
    verification is encryption to an unknown party.

    ## Example
    ```python
    import requests

    response = requests.get("https://payments.internal/api", headers=auth, verify=False)
    ```

    ## Use instead
    ```python
    import requests

    # Trust the internal CA explicitly instead of trusting everyone.
    response = requests.get("https://payments.internal/api", headers=auth, verify="/etc/ssl/internal-ca.pem")
    ```

    ## Fix
    `--fix` removes a literal `verify=False` from calls authlint resolves to requests or
    httpx (functions, sessions and clients), whose default is to verify. Everything else is
    left for you: `session.verify = False`, aiohttp's `ssl=False`, `ssl.CERT_NONE` contexts,
    `verify=SOME_NAME` (the name may be used elsewhere), calls on receivers authlint cannot
    resolve, and a `verify=False` followed by a comment (which would be lost).

    ## References
    - OWASP API Security Top 10 2023, API8: Security Misconfiguration
    - Requests documentation, "SSL Cert Verification"
    - HTTPX documentation, "SSL"
    - Python documentation, `ssl` module, "Security considerations"
    - CWE-295: Improper Certificate Validation
    """

    code = "AL604"
    name = "tls-verification-disabled"
    severity = Severity.HIGH
    precision = Precision.HIGH
    owasp = ("API8:2023",)
    cwe = (295,)
    # `verify=`, `.verify =`, `"verify": False`, aiohttp's `ssl=`/`verify_ssl=`, and the ssl module's switches.
    # No import gate: `self.session.verify = False` needs no import in its own file.
    requires_words = ("verify", "ssl", "cert_none", "check_hostname", "unverified_context", "cert_reqs")
    fixable = True
    requires_text = re.compile(
        r"\b(?:verify|verify_ssl|ssl)['\"]?\s*[=:]|CERT_NONE|check_hostname|unverified_context|cert_reqs"
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._disables_verification = False
        self._warning_silencers: list[libcst.Call] = []

    def visit_Call(self, node: libcst.Call) -> None:
        qualified = self.ctx.qualified_name(node.func)
        if qualified == _UNVERIFIED_CONTEXT:
            self._report(node, f"{call_label(node)} creates a context that accepts any certificate; use "
                         "`ssl.create_default_context()` (with `cafile=` for a private CA)")  # fmt: skip
            return
        if self._silences_insecure_warning(node, qualified):
            self._warning_silencers.append(node)
            return
        self._check_client_keywords(node, qualified)
        self._check_cert_reqs(node)
        self._check_cert_none_arguments(node)


    def visit_Assign(self, node: libcst.Assign) -> None:
        for target in node.targets:
            self._check_assignment(target.target, node.value)

    def leave_Module(self, node: libcst.Module) -> None:
        if not self._disables_verification:
            return
        for call in self._warning_silencers:
            self.report(call, f"{call_label(call)} hides urllib3's `InsecureRequestWarning` in a file that turns "
                        "TLS verification off: the warning is the only sign of the problem; fix the verification "
                        "and remove this call")  # fmt: skip

    # Checks ---------------------------------------------------------------------

    def _check_client_keywords(self, call: libcst.Call, qualified: str | None) -> None:
        disabling = self._disabling_keywords(call, qualified)
        arguments = self.ctx.arguments(call)
        for keyword, bad_value in disabling.items():
            value = arguments.get(keyword)
            if value is None or self.ctx.literal(value) is not bad_value:
                continue
            written = self.ctx.module.code_for_node(value)
            shown = f"`{keyword}={written}`" + ("" if written == "False" else " (False)")
            self._report(arguments.keyword_args.get(keyword, call), f"{call_label(call)} with {shown} accepts any "
                         "TLS certificate: anyone on the network path can read and change the traffic; remove it "
                         f"(to trust a private CA, {_PRIVATE_CA[keyword]})",
                         fix=self._removal(call, qualified, keyword, arguments))  # fmt: skip

    def _removal(self, call: libcst.Call, qualified: str | None, keyword: str, arguments) -> fix.Fix | None:
        """Drop `verify=False` written in a requests or httpx call: their default verifies."""
        argument = arguments.keyword_args.get(keyword)
        library = (qualified or "").split(".", 1)[0]
        if keyword != "verify" or library not in _VERIFY_BY_DEFAULT or argument is None:
            return None
        if not (isinstance(argument.value, libcst.Name) and argument.value.value == "False"):
            return None
        return fix.replace(call, fix.with_keywords(call, remove=[keyword]))

    def _disabling_keywords(self, call: libcst.Call, qualified: str | None) -> dict[str, bool]:
        library = qualified.split(".", 1)[0] if qualified is not None else None
        if library in _DISABLING_KEYWORDS:
            return _DISABLING_KEYWORDS[library]
        # An unresolved receiver (a parameter, `self.session`, a client from another module):
        # judge the call by its method name and the HTTP libraries the file uses.
        func = call.func
        if not (isinstance(func, libcst.Attribute) and func.attr.value in _CLIENT_METHODS):
            return {}
        keywords: dict[str, bool] = {}
        for library in self.ctx.imported_modules & _DISABLING_KEYWORDS.keys():
            keywords.update(_DISABLING_KEYWORDS[library])
        return keywords

    def _check_cert_reqs(self, call: libcst.Call) -> None:
        value = self.ctx.arguments(call).keyword_args.get("cert_reqs")
        if value is not None and self.ctx.literal(value.value) in _CERT_NONE_STRINGS:
            self._report(value, f"{call_label(call)} with `cert_reqs=\"CERT_NONE\"` accepts any certificate; use "
                         "`cert_reqs=\"CERT_REQUIRED\"` (urllib3's default)")  # fmt: skip

    def _check_cert_none_arguments(self, call: libcst.Call) -> None:
        """`wrap_socket(sock, cert_reqs=ssl.CERT_NONE)`; not `assertEqual(mode, ssl.CERT_NONE)` in a test."""
        if (dotted_name(call.func) or "").rsplit(".", 1)[-1].lower().startswith("assert"):
            return
        for argument in call.args:
            if self._is_cert_none(argument.value):
                self._report(argument, f"{call_label(call)} with `ssl.CERT_NONE` accepts any certificate; use "
                             "`ssl.CERT_REQUIRED` (the default of `ssl.create_default_context()`)")  # fmt: skip

    def _check_assignment(self, target: libcst.BaseExpression, value: libcst.BaseExpression) -> None:
        if self._is_cert_none(value):
            self._report(value, f"`{_spelled(target)} = ssl.CERT_NONE` accepts any certificate; use "
                         "`ssl.CERT_REQUIRED` (the default of `ssl.create_default_context()`)")  # fmt: skip
        if not isinstance(target, libcst.Attribute):
            return
        attribute = target.attr.value
        if attribute == "verify" and self.ctx.literal(value) is False:
            self._report(target, f"`{_spelled(target)} = False` makes every request of this session accept any "
                         "TLS certificate; remove it, or set it to the path of your CA bundle")  # fmt: skip
        elif attribute == "check_hostname" and self.ctx.literal(value) is False:
            self._report(target, f"`{_spelled(target)} = False` accepts a valid certificate for any other host; "
                         "keep hostname checking on (the default of `ssl.create_default_context()`)")  # fmt: skip
        elif self.ctx.qualified_name(target) == _DEFAULT_HTTPS_CONTEXT and (
            self.ctx.qualified_name(value) == _UNVERIFIED_CONTEXT
        ):
            self._report(target, "`ssl._create_default_https_context = ssl._create_unverified_context` turns "
                         "certificate checks off for every HTTPS connection of the process (urllib and more); "
                         "remove it and install the missing CA certificates instead")  # fmt: skip

    def _silences_insecure_warning(self, call: libcst.Call, qualified: str | None) -> bool:
        if qualified in _DISABLE_WARNINGS:
            return True
        if qualified not in _WARNING_FILTERS:
            return False
        return any(_INSECURE_REQUEST_WARNING in (dotted_name(arg.value) or "") for arg in call.args)

    def _is_cert_none(self, expr: libcst.BaseExpression) -> bool:
        return isinstance(expr, (libcst.Name, libcst.Attribute)) and self.ctx.qualified_name(expr) in _CERT_NONE

    def _report(self, node: libcst.CSTNode, message: str, fix: fix.Fix | None = None) -> None:
        self._disables_verification = True
        self.report(node, message, fix=fix)


def _spelled(expr: libcst.BaseExpression) -> str:
    return dotted_name(expr) or "the attribute"
