#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""The API contracts, enforced (test rig): every request the integration tests make to
the kiosk or admin listener and every answer they get is checked against
docs/api/kiosk.openapi.yaml or docs/api/admin.openapi.yaml.

Contract.check() raises ContractError, loudly, when
  - a route (path + method) that the description does not have is answered with
    anything but a status its `x-any-route-responses` allows (an undocumented route
    that works is a contract violation, not a test detail);
  - a request that does not conform to its operation (body schema, content type,
    path parameters) is accepted (2xx): the daemon took what its contract refuses;
  - the answer's status is not documented for the operation (nor in
    `x-any-route-responses`), its Content-Type is not one documented for that status,
    or its JSON body does not validate against the schema (JSON Schema 2020-12, as
    OpenAPI 3.1 says; Debian's python3-jsonschema).
A non-conforming request answered with a documented 4xx is fine: the tests send such
requests on purpose. Contract.seen records the operations exercised.

Needs /usr/bin/python3 (python3-yaml, python3-jsonschema)."""

import json
import os
import re
import urllib.parse

import jsonschema
import yaml

API_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "api")


class ContractError(AssertionError):
    pass


def _media(ctype):
    return (ctype or "").split(";")[0].strip().lower()


class Contract:
    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)
        with open(path) as f:
            self.spec = yaml.safe_load(f)
        self.any_route = self.spec.get("x-any-route-responses", {})
        self.routes = []            # (regex, template, path item), concrete first
        for template, item in self.spec["paths"].items():
            rx = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
            self.routes.append((re.compile(rx), template, item))
        self.routes.sort(key=lambda r: r[1].count("{"))
        self.seen = set()

    # ---- the description ----

    def resolve(self, obj):
        while isinstance(obj, dict) and "$ref" in obj:
            ref = obj["$ref"]
            assert ref.startswith("#/"), ref
            node = self.spec
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            obj = node
        return obj

    def _validate(self, instance, schema, what):
        # Schemas are checked in the context of the whole document so that their
        # "#/components/..." references resolve.
        resolver = jsonschema.RefResolver.from_schema(self.spec)
        v = jsonschema.Draft202012Validator(schema, resolver=resolver)
        errors = sorted(v.iter_errors(instance), key=lambda e: list(e.absolute_path))
        if errors:
            e = errors[0]
            raise ContractError("%s: %s does not conform to %s: %s at %s\n  body: %s" % (
                self.name, what, json.dumps(schema)[:200], e.message,
                "/".join(str(p) for p in e.absolute_path) or "(top)",
                json.dumps(instance)[:600]))

    def operation(self, method, path):
        """(template, operation, path params) or (None, None, None)."""
        method = method.lower()
        for rx, template, item in self.routes:
            m = rx.match(path)
            if not m:
                continue
            op = item.get(method) or (item.get("get") if method == "head" else None)
            if op is not None:
                return template, op, m.groupdict()
        return None, None, None

    # ---- one exchange ----

    def check(self, method, url, req_headers, req_body, status, resp_headers, resp_body):
        """req_body / resp_body: bytes (or None, or already-parsed JSON for resp_body).
        Raises ContractError."""
        path = urllib.parse.urlsplit(url).path or "/"
        req_headers = {k.lower(): v for k, v in (req_headers or {}).items()}
        resp_headers = {k.lower(): v for k, v in (resp_headers or {}).items()}
        where = "%s %s -> %d" % (method, path, status)
        template, op, params = self.operation(method, path)
        if op is None:
            if str(status) not in self.any_route:
                raise ContractError("%s: %s: undocumented route answered %d" % (
                    self.name, where, status))
            self._check_response(where, self.any_route[str(status)], method, resp_headers,
                                 resp_body)
            return
        self.seen.add((method.upper() if method.upper() != "HEAD" else "GET", template))

        problem = self._request_problem(op, params, req_headers, req_body)
        if problem and 200 <= status < 300:
            raise ContractError("%s: %s: a request the contract refuses was accepted: %s" %
                                (self.name, where, problem))
        responses = op.get("responses", {})
        resp = responses.get(str(status)) or responses.get("%dXX" % (status // 100)) or \
            self.any_route.get(str(status)) or responses.get("default")
        if resp is None:
            raise ContractError("%s: %s: status %d is not documented for %s %s (has %s)" % (
                self.name, where, status, method, template, sorted(responses)))
        self._check_response(where, resp, method, resp_headers, resp_body)

    def _request_problem(self, op, params, headers, body):
        for p in op.get("parameters", []):
            p = self.resolve(p)
            if p["in"] == "path":
                try:
                    self._validate(urllib.parse.unquote(params[p["name"]]), p["schema"],
                                   "path parameter " + p["name"])
                except ContractError as e:
                    return str(e)
        rb = self.resolve(op.get("requestBody")) if op.get("requestBody") else None
        if not body:
            if rb is not None and rb.get("required"):
                return "no body where one is required"
            return None
        if rb is None:
            return "a body where none is described"
        ctype = _media(headers.get("content-type"))
        content = rb.get("content", {})
        if ctype not in content:
            return "Content-Type %r is not one of %s" % (ctype, sorted(content))
        if ctype == "application/json":
            try:
                doc = json.loads(body)
            except (ValueError, RecursionError) as e:
                return "body is not JSON (or nested too deep): %s" % type(e).__name__
            try:
                self._validate(doc, content[ctype]["schema"], "request body")
            except ContractError as e:
                return str(e)
        return None

    def _check_response(self, where, resp, method, headers, body):
        resp = self.resolve(resp)
        content = resp.get("content")
        if method.upper() == "HEAD" or not content:
            if content is None and body not in (None, b"", "") and method.upper() != "HEAD":
                raise ContractError("%s: %s: a body where none is described: %r" % (
                    self.name, where, body[:200]))
            return
        ctype = _media(headers.get("content-type"))
        if ctype not in content:
            raise ContractError("%s: %s: Content-Type %r is not one of %s" % (
                self.name, where, ctype, sorted(content)))
        if ctype == "application/json":
            if isinstance(body, (bytes, str)):
                try:
                    body = json.loads(body)
                except ValueError as e:
                    raise ContractError("%s: %s: answer is not JSON: %s" % (
                        self.name, where, e))
            self._validate(body, content[ctype]["schema"], "answer")


_contracts = {}


def contract(name):
    """The Contract of docs/api/<name>.openapi.yaml ("kiosk" or "admin"), loaded once."""
    if name not in _contracts:
        _contracts[name] = Contract(os.path.join(API_DIR, name + ".openapi.yaml"))
    return _contracts[name]


# ---- the hook into the test clients ---------------------------------------------------

def _wrap(cls, name, request_of):
    """Replaces cls.request (which returns (status, headers, payload)) with one that
    checks every exchange against contract(name). request_of(args) gives the request's
    (headers, body bytes) from the call's bound arguments."""
    import inspect

    orig = cls.request
    if getattr(orig, "_contract", None) == name:
        return
    sig = inspect.signature(orig)

    def request(self, *a, **kw):
        out = orig(self, *a, **kw)
        ba = sig.bind(self, *a, **kw)
        ba.apply_defaults()
        args = ba.arguments
        headers, body = request_of(args)
        contract(name).check(args["method"], args["path"], headers, body, out[0],
                             dict(out[1]), out[2])
        return out
    request._contract = name
    request.__doc__ = orig.__doc__
    cls.request = request


def _kiosk_request(args):
    # as daemon.Cardupd.request builds it
    data = args["raw"] if args["raw"] is not None else (
        None if args["body"] is None else json.dumps(args["body"]).encode())
    h = {"Content-Type": "application/json"} if data is not None else {}
    h.update(args["headers"] or {})
    return h, data


def _admin_request(args):
    # as test_admin.Admin.request builds it
    h, data = {}, args["raw"]
    if args["body"] is not None:
        data = json.dumps(args["body"]).encode()
        h["Content-Type"] = "application/json"
    if args["ctype"]:
        h["Content-Type"] = args["ctype"]
    h.update(args["headers"] or {})
    return h, data


def enforce(modules):
    """Hooks the rig's kiosk client (daemon.Cardupd) and the admin client
    (test_admin.Admin), where loaded, so that every exchange is checked. Idempotent;
    called before each integration test (tests/integration/conftest.py)."""
    if "daemon" in modules and hasattr(modules["daemon"], "Cardupd"):
        _wrap(modules["daemon"].Cardupd, "kiosk", _kiosk_request)
    if "test_admin" in modules and hasattr(modules["test_admin"], "Admin"):
        _wrap(modules["test_admin"].Admin, "admin", _admin_request)
