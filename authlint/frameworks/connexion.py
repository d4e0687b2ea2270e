"""connexion: routes and their security from the OpenAPI spec handed to `add_api`.

A connexion app (`connexion.App`, `FlaskApp`, `AsyncApp`, connexion 2's `AioHttpApp`,
connexion 3's `ConnexionMiddleware`, or a project subclass) declares its routes in a spec
file: `app.add_api("openapi.yaml", base_path=..., arguments=..., resolver=...)`. The file
is read in the link phase, as connexion reads it: relative to the app's
`specification_dir`, itself relative to the directory of the module named by the app's
`import_name` (`__name__`: the file that creates the app), Jinja `{{ name }}` placeholders
filled from the `arguments` of the app and of `add_api`, then `yaml.safe_load`.

Every path and HTTP method of the spec is a route. Its path is `base_path` when `add_api`
is given one, else the path of the first `servers[].url` (OpenAPI 3, server variables at
their defaults) or `basePath` (Swagger 2). Its handler is the `operationId`, prefixed with
the operation's `x-openapi-router-controller` (Swagger 2: `x-swagger-router-controller`),
or composed by the resolver: `RestyResolver("api")` names `api.users.search` for
`GET /users` and `api.users.get` for `GET /users/{id}` when there is no `operationId`,
`RelativeResolver("api")` prefixes it, `MethodViewResolver`/`MethodResolver` name a
method of `api.UsersView`. The route points at the handler's `def`; a handler that is not
in the scanned code (or an operation without one) points at the operation in the spec,
with the `operationId` as its handler name: no Python location is invented. A module
that nothing made worth parsing has its `def` line found in its text.

Authentication is the spec's `security`, as connexion enforces it:

- an operation's own `security` replaces the global `security` (level "handler"; the
  global one is level "app"), it does not add to it;
- `security: []` on an operation declares it public; a global `security: []`, or none,
  leaves operations without authentication;
- a list of requirements is alternatives, each a set of schemes that all apply; an empty
  alternative (`- {}`) lets anonymous callers in: the operation is public;
- the schemes are described from `components.securitySchemes` (Swagger 2:
  `securityDefinitions`); scopes listed in a requirement are its requirements and make it
  authorization. connexion turns every caller away (401) when a scheme's `x-...InfoFunc`
  is missing or its type unsupported, so a declared scheme always counts.

A handler's own checks (a project decorator, a body that reads a credential and aborts)
count too, at level "handler". `$ref`s are followed inside the spec and into files next
to it, never to URLs. A spec that is missing, unreadable or not an OpenAPI document gives
no routes and a warning (`Project.warnings`).

Not modelled: specs handed over as dicts or built paths (`Path(__file__).parent / ...`),
`add_api` on an app passed into a helper as a parameter when the spec is not next to the
helper, custom resolver functions, and Flask routes added to the connexion app directly.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from authlint.facts.expr import Attr, Call, Const, Expr, Mapping, Name, written
from authlint.facts.file_facts import FileFacts
from authlint.frameworks.base import (
    Framework,
    LinkSettings,
    body_check,
    built_by,
    decorator_check,
    join_paths,
    path_params,
)
from authlint.model import AuthEvidence, FileError, Location, Route
from authlint.project import Class, Function, Module, Project, Symbol, Unknown, Value, qualified_name

_APPS = frozenset({
    "connexion.App", "connexion.FlaskApp", "connexion.AsyncApp", "connexion.AioHttpApp",
    "connexion.ConnexionMiddleware", "connexion.apps.App", "connexion.apps.FlaskApp",
    "connexion.apps.AsyncApp", "connexion.apps.flask.FlaskApp", "connexion.apps.asynchronous.AsyncApp",
    "connexion.apps.flask_app.FlaskApp", "connexion.apps.aiohttp_app.AioHttpApp",
    "connexion.middleware.ConnexionMiddleware", "connexion.middleware.main.ConnexionMiddleware",
})  # fmt: skip
# The last part of a connexion resolver class name -> how it names handlers.
_RESOLVERS = {
    "Resolver": "default", "RestyResolver": "resty", "RelativeResolver": "relative",
    "MethodViewResolver": "methodview", "MethodResolver": "method",
}  # fmt: skip
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_MAX_SPEC_BYTES = 16 * 1024 * 1024
_MAX_REFS = 8  # $ref chains followed this deep
_MAX_DOCUMENTS = 64  # spec files read per scan, $ref targets included
_SPEC_SUFFIXES = (".yaml", ".yml", ".json")
_JINJA = re.compile(r"\{\{\s*(.*?)\s*\}\}")


# Reading spec files ----------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """One spec document as read from disk: its data and the lines of the keys that locate things."""

    path: str  # as a display path: relative to the working directory when the scan's paths are
    data: dict
    lines: dict[tuple[str, ...], int]
    text: tuple[str, ...] = ()  # the file's lines, for the source line of a route located here

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)

    def line(self, *keys: str) -> int:
        """The line of the deepest of `keys` that the index knows; 1 (the file) when none."""
        for end in range(len(keys), 0, -1):
            line = self.lines.get(keys[:end])
            if line:
                return line
        return 1

    def source(self, line: int) -> str:
        return self.text[line - 1] if 0 < line <= len(self.text) else ""


def load_spec(path: str, arguments: dict[str, object] | None = None) -> Spec | str:
    """The spec at `path` (relative to the working directory), or why it cannot be read."""
    file = Path(path)
    try:
        if not file.is_file():
            return "no such file"
        if file.stat().st_size > _MAX_SPEC_BYTES:
            return f"larger than {_MAX_SPEC_BYTES // (1024 * 1024)} MB"
        text = file.read_bytes().decode("utf-8", "replace")
    except OSError as exc:
        return f"cannot read it: {exc.strerror or exc}"
    text = render(text, arguments or {})
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        data = _json_or_none(text) if path.endswith(".json") else None
        if data is None:
            return f"not valid YAML: {_first_line(exc)}"
    except (RecursionError, ValueError, TypeError) as exc:  # absurd nesting, odd scalars
        return f"not valid YAML: {type(exc).__name__}"
    if not isinstance(data, dict) or not ("openapi" in data or "swagger" in data):
        return "not an OpenAPI or Swagger document (no `openapi` or `swagger` version key)"
    return Spec(path, data, line_index(text), tuple(text.splitlines()))


def render(text: str, arguments: dict[str, object]) -> str:
    """connexion renders a spec with Jinja2 first: `{{ name }}` is an argument, or nothing."""
    if "{{" not in text:
        return text
    return _JINJA.sub(lambda m: str(arguments.get(m.group(1), "")), text)


def line_index(text: str) -> dict[tuple[str, ...], int]:
    """1-based lines of the top-level keys, and of `paths` -> path -> method -> key.

    `yaml.compose` builds the node graph only (no objects are constructed), with marks."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        root = yaml.compose(text, Loader=loader)
    except (yaml.YAMLError, RecursionError, ValueError):
        return {}
    index: dict[tuple[str, ...], int] = {}
    _index_mapping(root, (), index)
    return index


def _index_mapping(node: object, prefix: tuple[str, ...], index: dict[tuple[str, ...], int]) -> None:
    if not isinstance(node, yaml.MappingNode):
        return
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            continue
        here = (*prefix, str(key.value))
        index.setdefault(here, key.start_mark.line + 1)
        # Under `paths` only: the path items, their operations, and the operations' keys.
        if (len(prefix) == 0 and key.value == "paths") or (prefix[:1] == ("paths",) and len(prefix) < 3):
            _index_mapping(value, here, index)


def _json_or_none(text: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _first_line(exc: Exception) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or (str(exc).splitlines() or [type(exc).__name__])[0]
    return f"{problem} at line {mark.line + 1}" if mark is not None else problem


def base_path(data: dict) -> str:
    """Where connexion serves a spec's paths when `add_api` names no base_path."""
    if "swagger" in data:
        value = data.get("basePath")
        return value.rstrip("/") if isinstance(value, str) else ""
    servers = data.get("servers")
    if not (isinstance(servers, list) and servers and isinstance(servers[0], dict)):
        return ""
    url = servers[0].get("url")
    if not isinstance(url, str):
        return ""
    variables = servers[0].get("variables")
    defaults = {
        str(name): str(spec.get("default", ""))
        for name, spec in (variables.items() if isinstance(variables, dict) else ())
        if isinstance(spec, dict)
    }
    url = re.sub(r"\{([^{}]*)\}", lambda m: defaults.get(m.group(1), m.group(0)), url)
    try:
        return urlsplit(url).path.rstrip("/")
    except ValueError:
        return ""


# Naming handlers ------------------------------------------------------------------------


@dataclass(frozen=True)
class Resolver:
    """How an `add_api` names the function of an operation (connexion.resolver)."""

    kind: str = "default"  # default, resty, relative, methodview, method
    module: str = ""  # RestyResolver's default module, RelativeResolver's root
    collection: str = "search"  # RestyResolver's collection_endpoint_name

    def operation_id(self, path: str, method: str, operation: dict, swagger2: bool) -> str | None:
        own = operation.get("operationId")
        own = str(own) if isinstance(own, (str, int)) and str(own) else None
        controller = _router_controller(operation, swagger2)
        if own is not None:
            if controller:
                return f"{controller}.{own}"
            return f"{self.module}.{own}" if self.kind == "relative" and self.module else own
        if self.kind not in ("resty", "methodview", "method"):
            return None
        return self._restful(path, method, controller)

    def _restful(self, path: str, method: str, controller: str | None) -> str:
        components = [c for c in path.split("/") if c]
        resource = ".".join(c for c in components if not _is_var(c)).replace("-", "_")
        name = controller or (f"{self.module}.{resource}" if resource else self.module)
        collection = method == "get" and resource and not _is_var(components[-1])
        function = self.collection if collection else method
        if self.kind == "resty" or "." not in name:
            return f"{name}.{function}"
        # MethodViewResolver: `api.users.get` is the `get` of class `api.UsersView`; Flask's
        # MethodView dispatches on the HTTP method, MethodResolver calls the RESTful name.
        module, view = name.rsplit(".", 1)
        camel = re.sub(r"(?:^|_)(.)", lambda m: m.group(1).upper(), view)
        return f"{module}.{camel}View.{method if self.kind == 'methodview' else function}"


def _router_controller(operation: dict, swagger2: bool) -> str | None:
    """The operation's `x-openapi-router-controller` (Swagger 2: `x-swagger-router-controller`).

    connexion reads it on the operation only; the other version's key is taken too."""
    keys = ("x-swagger-router-controller", "x-openapi-router-controller")
    for key in keys if swagger2 else keys[::-1]:
        if isinstance(operation.get(key), str) and operation[key]:
            return operation[key]
    return None


def _is_var(component: str) -> bool:
    return component.startswith("{") and component.endswith("}")


# Auth from the spec ---------------------------------------------------------------------


def describe_scheme(scheme: object) -> str:
    """`http bearer`, `api key in header X-API-Key`, `oauth2`, ... for a security scheme object."""
    if not isinstance(scheme, dict):
        return "not defined in the spec"
    kind = scheme.get("type")
    if kind == "http":
        return f"http {str(scheme.get('scheme') or '').lower()}".rstrip()
    if kind == "basic":
        return "http basic"
    if kind == "apiKey":
        if str(scheme.get("x-authentication-scheme") or "").lower() == "bearer":
            return "bearer token"
        return " ".join(str(p) for p in ("api key in", scheme.get("in") or "?", scheme.get("name") or "") if p).rstrip()
    return {"oauth2": "oauth2", "openIdConnect": "openid connect", "mutualTLS": "mutual TLS"}.get(
        str(kind), f"type {kind}" if kind else "no type"
    )


def security_evidence(
    requirements: object, schemes: dict, spec_name: str, level: str, where: Location
) -> list[AuthEvidence]:
    """The evidence of one `security` list: one item per alternative, or one "public" item."""
    if requirements is None or requirements == []:
        if level != "handler":
            return []  # a global `security: []` is the default: nothing required, nothing declared
        return [AuthEvidence(f"security: [] in {spec_name} (anyone may call)", level, where, "public")]
    if not isinstance(requirements, list):
        return []
    alternatives = [r for r in requirements if isinstance(r, dict)]
    if any(not r for r in alternatives):
        shown = ", ".join(" + ".join(map(str, r)) or "{}" for r in alternatives)
        return [AuthEvidence(f"security: [{shown}] in {spec_name} (authentication optional)", level, where, "public")]
    found = []
    for requirement in alternatives:
        names = [str(name) for name in requirement]
        scopes = tuple(
            dict.fromkeys(s for needed in requirement.values() if isinstance(needed, list) for s in needed if isinstance(s, str))
        )
        shown = " + ".join(f"{name} ({describe_scheme(schemes.get(name))})" for name in names)
        kind = "authorization" if scopes else "authentication"
        found.append(AuthEvidence(f"{shown} from {spec_name}", level, where, kind, scopes))
    return found


# The adapter ------------------------------------------------------------------------------


class Connexion(Framework):
    name = "connexion"
    modules = frozenset({"connexion"})
    # `app.add_api(...)` in a helper module that imports nothing of connexion.
    text = re.compile(r"\.add_api\(")
    words = (".add_api(",)

    def routes(self, project: Project, settings: LinkSettings) -> list[Route]:
        return _Linker(project, settings).routes()


@dataclass(frozen=True)
class _App:
    """A connexion app object: where its specs are looked up, and its defaults for add_api."""

    root: str  # directory of the module named by import_name, as a display path
    spec_dir: str | None  # None: written in a way authlint cannot evaluate
    arguments: dict[str, object]
    resolver: Resolver


@dataclass(frozen=True)
class _Api:
    """One `add_api` call and the spec file it names."""

    file: FileFacts
    line: int
    call: Call
    spec: str  # the spec argument as written
    candidates: tuple[str, ...]  # where the spec file may be, most likely first
    base_path: str | None
    arguments: dict[str, object]
    resolver: Resolver
    spec_dir_known: bool = True

    @property
    def written(self) -> str:
        return f"{written(self.call.func)}({self.spec!r})"


@dataclass(frozen=True)
class _Doc:
    path: str
    data: object


@dataclass(frozen=True)
class _Served:
    """A spec as one `add_api` serves it: where, with which schemes and which resolver."""

    spec: Spec
    base: str
    schemes: dict[str, object]
    resolver: Resolver

    @property
    def swagger2(self) -> bool:
        return "swagger" in self.spec.data


class _Linker:
    def __init__(self, project: Project, settings: LinkSettings) -> None:
        self.project = project
        self.settings = settings
        self.apps: dict[str, _App] = {}
        self.specs: dict[str, Spec | str] = {}
        self.refs: dict[str, _Doc | None] = {}
        self.texts: dict[str, str | None] = {}

    def routes(self) -> list[Route]:
        self._find_apps()
        found: dict[tuple, Route] = {}
        for api in self._apis():
            for route in self._api_routes(api):
                found.setdefault((route.methods, route.path, route.handler), route)
        return list(found.values())

    # Apps and add_api calls -----------------------------------------------------------

    def _find_apps(self) -> None:
        for file in self.project.files:
            for key, expr in file.assignments.items():
                if isinstance(expr, Call) and self._is_app_class(self.project.callee(file, expr)):
                    self.apps[Value(file, key, expr).qualified] = self._app(file, expr)

    def _is_app_class(self, symbol: Symbol) -> bool:
        if qualified_name(symbol) in _APPS:
            return True
        return isinstance(symbol, Class) and any(qualified_name(a) in _APPS for a in self.project.ancestors(symbol))

    def _app(self, file: FileFacts, call: Call) -> _App:
        middleware = (self.project.callee_name(file, call) or "").endswith("ConnexionMiddleware")
        import_name = call.arg("import_name", None if middleware else 0)
        spec_dir = call.arg("specification_dir")
        spec_dir_text = "" if spec_dir is None else self._path_string(file, spec_dir)
        return _App(
            self._root(file, import_name),
            spec_dir_text,
            self._arguments(file, call.arg("arguments")),
            self._resolver(file, call.arg("resolver")),
        )

    def _root(self, file: FileFacts, import_name: Expr | None) -> str:
        """connexion's root path: the directory of the module `import_name` names (`__name__`: this one)."""
        here = posixpath.dirname(file.path)
        name = self.project.constant(file, import_name)
        if isinstance(name, str) and name != file.module:
            module = self.project.module(name)
            return posixpath.dirname(module.path) if module is not None else here
        return here

    def _apis(self) -> list[_Api]:
        found = []
        for file in self.project.files:
            calls = [(site.call, site.line) for site in file.calls]
            calls += [(expr, file.assignment_lines.get(key, 0)) for key, expr in file.assignments.items()]
            for call, line in calls:
                if isinstance(call, Call) and isinstance(call.func, Attr) and call.func.attr == "add_api":
                    api = self._api(file, call, line)
                    if api is not None:
                        found.append(api)
        return found

    def _api(self, file: FileFacts, call: Call, line: int) -> _Api | None:
        assert isinstance(call.func, Attr)
        spec = self._path_string(file, call.arg("specification", 0))
        if not spec:
            return None  # a dict, or a path built at run time
        app = self._app_of(file, call.func.value)
        if app is None and not (_imports_connexion(file) or spec.endswith(_SPEC_SUFFIXES)):
            return None  # some other library's add_api
        here = posixpath.dirname(file.path)
        candidates = [posixpath.join(here, spec)]
        if app is not None and app.spec_dir is not None:
            candidates = [posixpath.join(app.root, app.spec_dir, spec), posixpath.join(here, app.spec_dir, spec)]
        elif app is not None:
            candidates.insert(0, posixpath.join(app.root, spec))
        base = call.arg("base_path")
        base_text = self.project.constant(file, base) if base is not None else None
        arguments = {**(app.arguments if app else {}), **self._arguments(file, call.arg("arguments"))}
        resolver = call.arg("resolver")
        return _Api(
            file,
            line,
            call,
            spec,
            tuple(dict.fromkeys(posixpath.normpath(c) for c in candidates)),
            base_text if isinstance(base_text, str) else None,
            arguments,
            self._resolver(file, resolver) if resolver is not None else (app.resolver if app else Resolver()),
            app is None or app.spec_dir is not None,
        )

    def _app_of(self, file: FileFacts, expr: Expr) -> _App | None:
        """The app an expression denotes: `app`, or `application = create_app()` of a factory that builds one."""
        receiver = self.project.resolve_value(file, expr)
        if not isinstance(receiver, Value):
            return None
        if receiver.qualified in self.apps:
            return self.apps[receiver.qualified]
        made = built_by(self.project, receiver.file, receiver.expr, self.apps) if isinstance(receiver.expr, Call) else None
        return self.apps.get(made) if made else None

    def _path_string(self, file: FileFacts, expr: Expr | None) -> str | None:
        """`"openapi.yaml"`, a constant holding it, or `pathlib.Path("openapi.yaml")`."""
        if isinstance(expr, Call) and self.project.callee_name(file, expr) in ("pathlib.Path", "pathlib.PurePath"):
            expr = expr.args[0] if len(expr.args) == 1 else None
        value = self.project.constant(file, expr)
        return value if isinstance(value, str) else None

    def _arguments(self, file: FileFacts, expr: Expr | None) -> dict[str, object]:
        if isinstance(expr, Name):
            symbol = self.project.resolve_value(file, expr)
            if isinstance(symbol, Value):
                file, expr = symbol.file, symbol.expr
        if not isinstance(expr, Mapping):
            return {}
        found: dict[str, object] = {}
        for key, value in expr.items:
            if isinstance(key, Const) and isinstance(key.value, str):
                constant = self.project.constant(file, value)
                if constant is not None:
                    found[key.value] = constant
        return found

    def _resolver(self, file: FileFacts, expr: Expr | None) -> Resolver:
        if isinstance(expr, (Name, Attr)):
            symbol = self.project.resolve_value(file, expr)
            if isinstance(symbol, Value) and isinstance(symbol.expr, Call):
                file, expr = symbol.file, symbol.expr
        if not isinstance(expr, Call):
            return Resolver()
        kind = self._resolver_kind(self.project.callee(file, expr))
        if kind is None:
            return Resolver()
        module = self._module_name(file, expr.arg("default_module_name" if kind != "relative" else "root_path", 0))
        collection = self.project.constant(file, expr.arg("collection_endpoint_name"))
        return Resolver(kind, module or "", collection if isinstance(collection, str) else "search")

    def _resolver_kind(self, symbol: Symbol) -> str | None:
        """A connexion resolver class, or a project class derived from one."""
        candidates = [symbol, *(self.project.ancestors(symbol) if isinstance(symbol, Class) else ())]
        for candidate in candidates:
            name = qualified_name(candidate) or ""
            if name.startswith("connexion.") and name.rsplit(".", 1)[-1] in _RESOLVERS:
                return _RESOLVERS[name.rsplit(".", 1)[-1]]
        return None

    def _module_name(self, file: FileFacts, expr: Expr | None) -> str | None:
        """`"api"`, or a module object handed over (`RelativeResolver(api)`)."""
        value = self.project.constant(file, expr)
        if isinstance(value, str):
            return value
        symbol = self.project.resolve_value(file, expr)
        return symbol.file.module if isinstance(symbol, Module) else None

    # Specs ----------------------------------------------------------------------------

    def _spec(self, api: _Api) -> Spec | None:
        path = next((c for c in api.candidates if Path(c).is_file()), api.candidates[0])
        key = f"{path}\0{sorted(api.arguments.items())!r}"
        self.project.read_outside.update(api.candidates)
        if key not in self.specs:
            self.specs[key] = load_spec(path, api.arguments)
            problem = self.specs[key]
            if isinstance(problem, str):
                hint = "" if api.spec_dir_known else " (its app's specification_dir is not a constant authlint can read)"
                message = f"OpenAPI spec {path} of `{api.written}` at line {api.line}: {problem}{hint}; its routes are not listed"
                self.project.warnings.append(FileError(api.file.path, "read", message))
        loaded = self.specs[key]
        return loaded if isinstance(loaded, Spec) else None

    def _deref(self, value: object, doc: _Doc) -> tuple[object, _Doc]:
        """A `$ref` followed: inside the document (`#/components/...`) or into a file beside it."""
        for _ in range(_MAX_REFS):
            if not (isinstance(value, dict) and isinstance(value.get("$ref"), str)):
                return value, doc
            target = self._ref_target(value["$ref"], doc)
            if target is None:
                return None, doc
            value, doc = target
        return None, doc

    def _ref_target(self, ref: str, doc: _Doc) -> tuple[object, _Doc] | None:
        location, _, pointer = ref.partition("#")
        if location:
            if urlsplit(location).scheme or location.startswith(("/", "\\")) or not location.endswith(_SPEC_SUFFIXES):
                return None  # URLs are never fetched; of files, only specs beside this one are read
            target_doc = self._ref_document(posixpath.normpath(posixpath.join(posixpath.dirname(doc.path), location)))
            if target_doc is None:
                return None
            doc = target_doc
        value = doc.data
        for token in pointer.split("/")[1:] if pointer else ():
            token = token.replace("~1", "/").replace("~0", "~")
            if isinstance(value, dict) and token in value:
                value = value[token]
            elif isinstance(value, list) and token.isdigit() and int(token) < len(value):
                value = value[int(token)]
            else:
                return None
        return value, doc

    def _ref_document(self, path: str) -> _Doc | None:
        if path not in self.refs:
            if len(self.refs) >= _MAX_DOCUMENTS:
                return None
            self.refs[path] = None
            try:
                if Path(path).is_file() and Path(path).stat().st_size <= _MAX_SPEC_BYTES:
                    self.refs[path] = _Doc(path, yaml.safe_load(Path(path).read_bytes().decode("utf-8", "replace")))
            except (OSError, yaml.YAMLError, RecursionError, ValueError, TypeError):
                pass
        return self.refs[path]

    # Routes ---------------------------------------------------------------------------

    def _api_routes(self, api: _Api) -> list[Route]:
        spec = self._spec(api)
        if spec is None:
            return []
        doc = _Doc(spec.path, spec.data)
        schemes = {name: self._deref(scheme, doc)[0] for name, scheme in _security_schemes(spec.data).items()}
        base = api.base_path if api.base_path is not None else base_path(spec.data)
        served = _Served(spec, base, schemes, api.resolver)
        paths = spec.data.get("paths")
        routes = []
        for raw_path, item in paths.items() if isinstance(paths, dict) else ():
            item, item_doc = self._deref(item, doc)
            for method, operation in item.items() if isinstance(item, dict) else ():
                if method not in _METHODS:
                    continue  # `parameters`, `summary`, `servers` of the path item
                operation, _ = self._deref(operation, item_doc)
                if isinstance(operation, dict):
                    routes.append(self._route(served, str(raw_path), method, operation))
        return routes

    def _route(self, served: _Served, raw_path: str, method: str, operation: dict) -> Route:
        spec = served.spec
        path = join_paths(served.base, raw_path)
        here = Location(spec.path, spec.line("paths", raw_path, method), f"{method.upper()} {raw_path} in {spec.name}")
        top = Location(spec.path, spec.line("security"), f"global `security` of {spec.name}")
        if "security" in operation:
            where = Location(spec.path, spec.line("paths", raw_path, method, "security"))
            auth = security_evidence(operation["security"], served.schemes, spec.name, "handler", where)
        else:
            where = Location(spec.path, spec.line("security"))
            auth = security_evidence(spec.data.get("security"), served.schemes, spec.name, "app", where)
        operation_id = served.resolver.operation_id(raw_path, method, operation, served.swagger2)
        handler = self.project.resolve_dotted(operation_id) if operation_id else Unknown()
        if isinstance(handler, Function):
            auth = self._handler_checks(handler) + auth
        name, location, column, source_line = self._place(handler, operation_id, spec, here)
        return Route(
            framework="connexion",
            methods=(method.upper(),),
            path=path,
            handler=name,
            location=location,
            column=column,
            source_line=source_line,
            path_params=path_params(path),
            auth=tuple(dict.fromkeys(auth)),
            levels=(here, top),
        )

    def _handler_checks(self, handler: Function) -> list[AuthEvidence]:
        found = [decorator_check(self.project, self.settings, handler.file, d) for d in handler.facts.decorators]
        found.append(body_check(handler))
        return [e for e in found if e is not None]

    def _place(
        self, handler: Symbol, operation_id: str | None, spec: Spec, operation: Location
    ) -> tuple[str, Location, int, str]:
        """The handler's name and `def`; the operation in the spec when the handler is not in the scanned code."""
        if isinstance(handler, (Function, Class)):
            facts = handler.facts
            return handler.qualified, Location(handler.file.path, facts.line), facts.column, facts.source_line
        if isinstance(handler, Value) and handler.line:
            source = handler.file.assignment_sources.get(handler.key, "")
            return handler.qualified, Location(handler.file.path, handler.line), 1, source
        if isinstance(handler, Unknown) and handler.qualified and operation_id:
            found = self._def_in_text(handler.qualified)
            if found is not None:
                return handler.qualified, *found
        source = spec.source(operation.line)
        column = len(source) - len(source.lstrip()) + 1
        return operation_id or "(no operationId)", Location(spec.path, operation.line), column, source

    def _def_in_text(self, qualified: str) -> tuple[Location, int, str] | None:
        """A module-level `def` in a module that nothing made worth parsing: found in its text."""
        module_name, _, function = qualified.rpartition(".")
        module = self.project.module(module_name)
        if module is None or not function.isidentifier():
            return None
        if module.path not in self.texts:
            try:
                self.texts[module.path] = Path(module.path).read_text(encoding="utf-8", errors="replace")
            except OSError:
                self.texts[module.path] = None
        text = self.texts[module.path]
        if text is None:
            return None
        match = re.search(rf"^(?:async[ \t]+)?def[ \t]+{re.escape(function)}[ \t]*\(", text, re.MULTILINE)
        if match is None:
            return None
        line = text.count("\n", 0, match.start()) + 1
        return Location(module.path, line), 1, text.splitlines()[line - 1]


def _security_schemes(data: dict) -> dict[str, object]:
    """`components.securitySchemes` (OpenAPI 3) or `securityDefinitions` (Swagger 2), by name."""
    if "swagger" in data:
        holder = data.get("securityDefinitions")
    else:
        components = data.get("components")
        holder = components.get("securitySchemes") if isinstance(components, dict) else None
    return {str(name): scheme for name, scheme in holder.items()} if isinstance(holder, dict) else {}


def _imports_connexion(file: FileFacts) -> bool:
    return any(target == "connexion" or target.startswith("connexion.") for target in file.imports.values())

