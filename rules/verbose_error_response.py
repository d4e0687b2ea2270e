from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator

import libcst

from authlint.facts import request_input
from authlint.facts.names import dotted_name
from authlint.model import Precision, Severity
from authlint.gate import CodeSignals
from authlint.rule import FileRule
from authlint.walk import iter_children

WEB_FRAMEWORKS = frozenset(
    {"flask", "quart", "werkzeug", "django", "rest_framework", "starlette", "fastapi", "aiohttp"}
)


def _names(module: str, *names: str) -> set[str]:
    return {f"{module}.{name}" for name in names}


# Calls whose arguments become (part of) an HTTP response body.
_RESPONSES = (
    _names("flask", "jsonify", "make_response", "Response", "abort")
    | _names("quart", "jsonify", "make_response", "Response", "abort")
    | {"flask.json.jsonify", "flask.wrappers.Response", "werkzeug.wrappers.Response", "werkzeug.exceptions.abort"}
    | _names("rest_framework.response", "Response")
    | _names("rest_framework.exceptions", "APIException", "ValidationError", "ParseError")
    | _names("starlette.responses", "Response", "JSONResponse", "PlainTextResponse", "HTMLResponse")
    | _names("fastapi.responses", "Response", "JSONResponse", "PlainTextResponse", "HTMLResponse", "ORJSONResponse")
    | _names("fastapi", "Response", "HTTPException")
    | {"fastapi.exceptions.HTTPException", "starlette.exceptions.HTTPException"}
    | _names("aiohttp.web", "json_response", "Response")
    | {"flask.render_template", "flask.render_template_string", "quart.render_template", "django.shortcuts.render"}
)
for _module in ("django.http", "django.http.response"):
    _RESPONSES |= _names(_module, "HttpResponse", "JsonResponse", "HttpResponseBadRequest", "HttpResponseServerError",
                         "HttpResponseNotFound", "HttpResponseForbidden")  # fmt: skip
_AIOHTTP_ERRORS = ("aiohttp.web.HTTP", "aiohttp.web_exceptions.HTTP")

# Responses whose first argument is the body text: `HttpResponse(exc)` prints the exception.
_TEXT_BODIES = frozenset(
    {
        "HttpResponse", "HttpResponseBadRequest", "HttpResponseServerError", "HttpResponseNotFound",
        "HttpResponseForbidden", "PlainTextResponse", "HTMLResponse", "Response", "make_response", "APIException",
    }
)  # fmt: skip

_TRACEBACK_CALLS = frozenset(
    {
        "traceback.format_exc", "traceback.format_exception", "traceback.format_exception_only",
        "traceback.format_tb", "traceback.format_stack", "traceback.extract_tb", "sys.exc_info",
    }
)  # fmt: skip
_TEXT_OF = frozenset({"str", "repr", "format"})
# Attributes of an exception that carry its message or the database driver's error.
_DETAILS = frozenset({"args", "orig", "__cause__", "__context__", "strerror", "pgerror"})
# Calls that build text or containers from their arguments (exception text passes through them).
_BUILDERS = frozenset({"dict", "list", "tuple", "set", "str", "sorted", "json.dumps"})
_BUILDER_METHODS = frozenset({"join", "format", "format_map"})

# Exceptions whose message is written for the client (validation, HTTP errors, bad tokens).
_USER_FACING = frozenset(
    {
        "ValueError", "KeyError", "HTTPException", "HTTPError", "Http404", "PermissionDenied", "NotFound",
        "BadRequest", "NotAuthenticated", "AuthenticationFailed", "ParseError", "JSONDecodeError",
        "InvalidTokenError", "ExpiredSignatureError", "PyJWTError", "JWTError", "JWTClaimsError",
        "DecodeError", "InvalidSignatureError", "InvalidAudienceError", "InvalidIssuerError",
    }
)  # fmt: skip
_USER_FACING_SUFFIXES = ("ValidationError", "ValidationErrors", "DoesNotExist", "ParseError", "ParserError")
_HANDLER_DECORATORS = {"errorhandler": 0, "app_errorhandler": 0, "exception_handler": 1}
_HANDLER_NAME = re.compile(r"(exception|error)_?handler|^handle_\w*(exception|error)s?$", re.I)
_CLIENT_ERROR_HANDLER_NAME = re.compile(r"validation|http_?exception|not_?found|bad_?request", re.I)
_EXCEPTION_PARAM_NAMES = ("exc", "e", "ex", "err", "error", "exception")


@dataclass
class _Scope:
    """Names holding an exception (or text made from one) in an except block or exception handler."""

    exceptions: set[str] = field(default_factory=set)
    texts: set[str] = field(default_factory=set)
    function: bool = False  # a function's scope (texts live there: they outlive the except block)
    handler: bool = False  # a whole exception-handler function


class VerboseErrorResponse(FileRule):
    """An HTTP response contains an exception's message or a traceback.

    ## What it does
    Flags exception details that reach a response body:

    - `str(exc)`, `repr(exc)`, `f"{exc}"`, `"%s" % exc`, `"{}".format(exc)`, `exc.args`,
      SQLAlchemy's `exc.orig` and other driver messages, and `traceback.format_exc()` /
      `traceback.format_exception(...)`;
    - passed to a response: Flask `jsonify`, `make_response`, `Response`, `abort`; Django
      `HttpResponse`, `JsonResponse` and friends; DRF `Response` and `APIException`;
      Starlette/FastAPI `JSONResponse`, `PlainTextResponse`, `HTTPException(detail=...)`;
      aiohttp `web.json_response`, `web.Response` and `web.HTTP...` errors;
    - or returned from a view (`return {"error": str(exc)}, 500`);
    - inside an `except ... as exc:` block, or in an exception handler: Flask
      `@app.errorhandler(500)`/`errorhandler(Exception)`, FastAPI/Starlette
      `@app.exception_handler(Exception)`, a DRF `EXCEPTION_HANDLER` function such as
      `custom_exception_handler(exc, context)`. Text copied into a local first
      (`message = str(exc)`) is followed.

    Not flagged: logging the exception (`logger.exception(...)`) while the response says
    something generic; exceptions whose message is meant for the client (`ValueError`,
    `KeyError`, validation errors, `HTTPException`, `Http404`, `PermissionDenied`, JWT
    decoding errors) and handlers registered for them or for 4xx codes. Flask's
    `PROPAGATE_EXCEPTIONS` setting is reported by AL602 (debug-mode-enabled), not here.

    ## Why is this bad?
    Exception messages and tracebacks describe your internals: SQL statements, table and
    column names, file paths, library versions, internal host names and URLs, sometimes
    data of other users or credentials from a connection string. Attackers use them to
    map the system and tune injection attempts. The client needs a stable error code and
    a generic message; the details belong in your logs.

    ## Example
    ```python
    @app.post("/orders")
    def create_order():
        try:
            order = save_order(request.get_json())
        except Exception as exc:
            return jsonify({"error": str(exc)}), 500
        return jsonify(order.to_dict()), 201
    ```

    ## Use instead
    ```python
    @app.post("/orders")
    def create_order():
        try:
            order = save_order(request.get_json())
        except Exception:
            logger.exception("creating an order failed")
            return jsonify({"error": "internal error"}), 500
        return jsonify(order.to_dict()), 201
    ```

    ## References
    - OWASP API Security Top 10 2023, API8: Security Misconfiguration
    - OWASP Error Handling Cheat Sheet
    - CWE-209: Generation of Error Message Containing Sensitive Information
    """

    code = "AL605"
    name = "verbose-error-response"
    severity = Severity.MEDIUM
    precision = Precision.HIGH
    owasp = ("API8:2023",)
    cwe = (209,)
    requires = WEB_FRAMEWORKS
    requires_words = ("except", "traceback", "errorhandler", "exc_info")
    requires_text = re.compile(r"except|traceback|errorhandler|exc_info")

    @classmethod
    def applies_to_code(cls, code: CodeSignals) -> bool:
        """The text gate on the code alone: an `except` clause, or the words as names (`exception_handler`)."""
        if not super().applies_to_code(code):
            return False
        return code.has_any(("ExceptHandler",)) or code.mentions(cls.requires_words, cls.requires_text)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._scopes: list[_Scope] = []
        self._functions: list[libcst.FunctionDef] = []
        self._reported: set[int] = set()
        self._debug_blocks: set[int] = set()  # bodies of `if settings.DEBUG:`
        self._in_debug_block = 0

    # Where exceptions are in scope ------------------------------------------------

    def visit_ExceptHandler(self, node: libcst.ExceptHandler) -> None:
        name = node.name.name if node.name is not None else None
        leaking = isinstance(name, libcst.Name) and not self._is_user_facing(node.type)
        self._scopes.append(_Scope({name.value} if leaking else set()))  # type: ignore[union-attr]

    def leave_ExceptHandler(self, node: libcst.ExceptHandler) -> None:
        self._scopes.pop()

    def visit_FunctionDef(self, node: libcst.FunctionDef) -> None:
        self._functions.append(node)
        parameter = self._handled_exception(node)
        self._scopes.append(_Scope({parameter} if parameter else set(), function=True, handler=parameter is not None))

    def leave_FunctionDef(self, node: libcst.FunctionDef) -> None:
        self._functions.pop()
        self._scopes.pop()

    def visit_Assign(self, node: libcst.Assign) -> None:
        if not self._scopes or next(self._leaks(node.value), None) is None:
            return
        scope = next((s for s in reversed(self._scopes) if s.function), self._scopes[0])
        for target in node.targets:
            if isinstance(target.target, libcst.Name):
                scope.texts.add(target.target.value)

    def visit_If(self, node: libcst.If) -> None:
        if _mentions_debug(node.test):
            self._debug_blocks.add(id(node.body))

    def visit_IndentedBlock(self, node: libcst.IndentedBlock) -> None:
        self._in_debug_block += id(node) in self._debug_blocks

    def leave_IndentedBlock(self, node: libcst.IndentedBlock) -> None:
        self._in_debug_block -= id(node) in self._debug_blocks

    # Where responses are built ----------------------------------------------------

    def visit_Call(self, node: libcst.Call) -> None:
        qualified = self.ctx.qualified_name(node.func) or ""
        if qualified not in _RESPONSES and not qualified.startswith(_AIOHTTP_ERRORS):
            return
        for index, arg in enumerate(node.args):
            if index == 0 and arg.keyword is None and self._is_exception(arg.value) and \
                    qualified.rsplit(".", 1)[-1] in _TEXT_BODIES:  # fmt: skip
                self._report(arg.value, f"{_written(node.func)}()")
            for leak in self._leaks(arg.value):
                self._report(leak, f"{_written(node.func)}()")

    def visit_Return(self, node: libcst.Return) -> None:
        if node.value is None or not self._functions:
            return
        leaks = list(self._leaks(node.value))
        if leaks and self._is_handler(self._functions[-1]):
            for leak in leaks:
                self._report(leak, f"the response of {self._functions[-1].name.value}()")

    def _report(self, node: libcst.CSTNode, where: str) -> None:
        if id(node) in self._reported or self._in_debug_block:
            return
        self._reported.add(id(node))
        self.report(node, f"`{_written(node)}` puts exception details into {where}: error messages and tracebacks "
                    "reveal SQL, paths, hosts and library versions to the client; log the exception "
                    "(logger.exception(...)) and return a generic message with an error code")  # fmt: skip

    # What leaks ---------------------------------------------------------------------

    def _leaks(self, node: libcst.CSTNode) -> Iterator[libcst.CSTNode]:
        """Nodes in `node` that turn an exception (or the current traceback) into text of the value.

        Only what builds the value is searched (strings, containers, formatting, conditionals):
        an exception handed to some other function (`report(sys.exc_info())`) is not its text.
        """
        if self._is_leak(node):
            yield node
            return
        if isinstance(node, libcst.FormattedStringExpression) and self._is_exception(node.expression):
            yield node.expression
            return
        if isinstance(node, libcst.IfExp) and _mentions_debug(node.test):
            yield from self._leaks(node.orelse)  # `traceback.format_exc() if settings.DEBUG else "error"`
            return
        if isinstance(node, libcst.Call) and not self._builds_value(node):
            return
        if type(node).__name__ in _VALUE_PARTS:
            for child in iter_children(node):
                yield from self._leaks(child)

    def _builds_value(self, call: libcst.Call) -> bool:
        func = call.func
        if isinstance(func, libcst.Attribute) and func.attr.value in _BUILDER_METHODS:
            return True
        qualified = self.ctx.qualified_name(func) or ""
        return qualified in _BUILDERS or qualified in _RESPONSES

    def _is_leak(self, node: libcst.CSTNode) -> bool:
        if isinstance(node, libcst.Call):
            return self._is_text_call(node)
        if isinstance(node, libcst.BinaryOperation) and isinstance(node.operator, libcst.Modulo):
            right = node.right
            items = [e.value for e in right.elements] if isinstance(right, libcst.Tuple) else [right]
            return any(self._is_exception(item) for item in items)
        if isinstance(node, libcst.Attribute):
            return node.attr.value in _DETAILS and self._is_exception(node.value)
        return isinstance(node, libcst.Name) and any(node.value in scope.texts for scope in self._scopes)

    def _is_text_call(self, call: libcst.Call) -> bool:
        qualified = self.ctx.qualified_name(call.func)
        if qualified in _TRACEBACK_CALLS:
            return True
        arguments = [arg.value for arg in call.args]
        if qualified in _TEXT_OF:
            return bool(arguments) and self._is_exception(arguments[0])
        is_format = isinstance(call.func, libcst.Attribute) and call.func.attr.value == "format"
        return is_format and any(self._is_exception(a) for a in arguments)

    def _is_exception(self, expr: libcst.CSTNode) -> bool:
        """An exception in scope, or its message parts: `exc`, `exc.args[0]`, `exc.orig`."""
        while isinstance(expr, (libcst.Subscript, libcst.Attribute)):
            if isinstance(expr, libcst.Attribute) and expr.attr.value not in _DETAILS:
                return False
            expr = expr.value
        return isinstance(expr, libcst.Name) and any(expr.value in scope.exceptions for scope in self._scopes)

    # Which exceptions and functions count ------------------------------------------

    def _is_user_facing(self, caught: libcst.CSTNode | None) -> bool:
        if caught is None:
            return False
        if isinstance(caught, libcst.Tuple):
            return all(self._is_user_facing(element.value) for element in caught.elements)
        name = (dotted_name(caught) or "").rsplit(".", 1)[-1]
        return name in _USER_FACING or name.endswith(_USER_FACING_SUFFIXES)

    def _handled_exception(self, function: libcst.FunctionDef) -> str | None:
        """The parameter holding the exception, if `function` is an exception handler for server errors."""
        for decorator in function.decorators:
            call = decorator.decorator
            if isinstance(call, libcst.Call) and isinstance(call.func, libcst.Attribute) and \
                    call.func.attr.value in _HANDLER_DECORATORS:  # fmt: skip
                handled = call.args[0].value if call.args else None
                if self._handles_client_errors(handled):
                    return None
                return _exception_parameter(function, _HANDLER_DECORATORS[call.func.attr.value])
        name = function.name.value
        if _HANDLER_NAME.search(name) and not _CLIENT_ERROR_HANDLER_NAME.search(name):
            # By parameter name only: `resolve_error_handler(view_type)` handles no exception.
            return _exception_parameter(function, None)
        return None

    def _handles_client_errors(self, handled: libcst.CSTNode | None) -> bool:
        code = self.ctx.literal(handled)
        if isinstance(code, int):
            return code < 500
        return self._is_user_facing(handled)

    def _is_handler(self, function: libcst.FunctionDef) -> bool:
        if any(scope.handler for scope in self._scopes):
            return True
        return request_input.is_request_handler(self.ctx, function)


def _exception_parameter(function: libcst.FunctionDef, position: int | None) -> str | None:
    """The parameter named like an exception, else the one at `position` (None: by name only)."""
    params = [p for p in (*function.params.posonly_params, *function.params.params) if p.name.value != "self"]
    for param in params:
        if param.name.value in _EXCEPTION_PARAM_NAMES:
            return param.name.value
    if position is None or position >= len(params):
        return None
    return params[position].name.value


# libcst node types, by name: importing a rule must not load libcst (authlint/lazy.py).
_VALUE_PARTS = frozenset({
    "Dict", "DictElement", "StarredDictElement", "List", "Tuple", "Set", "Element", "StarredElement",
    "FormattedString", "FormattedStringExpression", "BinaryOperation", "ConcatenatedString", "IfExp",
    "BooleanOperation", "Await", "Call", "Arg", "Subscript", "SubscriptElement", "Index",
})  # fmt: skip


def _mentions_debug(test: libcst.CSTNode) -> bool:
    """`settings.DEBUG`, `app.debug`, `current_app.config["DEBUG"]`: output only a developer sees."""
    text = libcst.Module(body=[]).code_for_node(test)
    return re.search(r"\bDEBUG\b|\.debug\b", text) is not None


def _written(node: libcst.CSTNode) -> str:
    text = " ".join(libcst.Module(body=[]).code_for_node(node).split())
    return text if len(text) <= 60 else text[:57] + "..."
