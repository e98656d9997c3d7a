"""Validate JSON bodies against an official TM Forum OpenAPI 3.0.x document (e.g. TMF621 v5.0.1).

Why not openapi-core: TMF v5 schemas use `discriminator` in the "inheritance" style — a base schema
(Characteristic, Note, Event, TroubleTicket ...) carries a discriminator whose mapping points to
sub-schemas that themselves `allOf: [$ref base]`. A validator that honours the discriminator on the
base re-enters the base from every sub-schema and recurses forever (openapi-core does). So the spec
is read once, and an in-memory copy of its `components.schemas` is rewritten into plain JSON Schema
that `jsonschema` (Draft 2020-12) + `referencing` can validate:

* `discriminator` on `oneOf`/`anyOf` (AttachmentRefOrValue, PartyRefOrPartyRoleRef ...): the
  oneOf becomes an if/then dispatch on the discriminator value (`@type`), so exactly the mapped
  sub-schema is validated (no "valid under more than one of the given schemas").
* `discriminator` on an `allOf`/plain schema X (inheritance style): X is split into `X__base`
  (X without its discriminator) and X = `X__base` + dispatch to the mapped sub-schemas. Every
  `allOf: [$ref X]` elsewhere is rewritten to `$ref X__base`; this is what breaks the recursion.
* strict (default): the discriminator value MUST be one of the mapping keys (for a self-only
  mapping such as Note, `@type` must be "Note"). `strict=False` admits unknown `@type` values
  (TMF polymorphic extension), dispatching on `@baseType` when it is a mapping key.
* OAS 3.0 dialect: `nullable: true` becomes `type: [T, "null"]`, boolean `exclusiveMinimum/Maximum`
  become the numeric form, and local `#/...` refs are made absolute (`urn:oas-spec#/...`) so any
  sub-schema validates on its own.
* Formats: only `date-time` is checked, as RFC 3339, and only when `rfc3339-validator` is
  importable (`DATE_TIME_CHECKED` says which); other formats (`uri`, `float` ...) are annotations.

The spec file is only read: nothing of it is written or copied anywhere.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

Schema = dict[str, Any]

BASE_URI = "urn:oas-spec"
SCHEMAS = "#/components/schemas/"
_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})
_EMPTY_BODIES: tuple[object, ...] = (None, b"", "")


class SpecViolation(AssertionError):
    """A body does not match the spec, or the spec declares no such path/method/status/media type."""


def _date_time_checker() -> tuple[FormatChecker, bool]:
    checker = FormatChecker(formats=())
    try:
        from rfc3339_validator import validate_rfc3339  # type: ignore[import-untyped]
    except ImportError:
        return checker, False

    @checker.checks("date-time")
    def is_date_time(value: object) -> bool:
        return not isinstance(value, str) or bool(validate_rfc3339(value))

    return checker, True


FORMAT_CHECKER, DATE_TIME_CHECKED = _date_time_checker()


# --------------------------------------------------------------------------- rewriting
def _absolute(ref: str) -> str:
    return BASE_URI + ref if ref.startswith("#") else ref


def _schema_name(ref: str) -> str | None:
    ref = ref.removeprefix(BASE_URI)
    return ref.removeprefix(SCHEMAS) if ref.startswith(SCHEMAS) else None


def _walk(node: Any, fn: Callable[[Schema], Schema]) -> Any:
    """Apply `fn` to every object of a JSON document (parents before children); returns a copy."""
    if isinstance(node, dict):
        return {k: _walk(v, fn) for k, v in fn(node).items()}
    if isinstance(node, list):
        return [_walk(v, fn) for v in node]
    return node


def _to_json_schema(node: Schema) -> Schema:
    """OpenAPI 3.0 schema object → JSON Schema 2020-12 (refs made absolute)."""
    node = dict(node)
    if isinstance(node.get("$ref"), str):
        node["$ref"] = _absolute(node["$ref"])
    if node.pop("nullable", None) is True and isinstance(node.get("type"), str):
        node["type"] = [node["type"], "null"]
        if "enum" in node and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(node.get(exclusive), bool):
            if node[exclusive] and bound in node:
                node[exclusive] = node.pop(bound)
            else:
                node.pop(exclusive)
    return node


def _dispatch(prop: str, mapping: dict[str, str], strict: bool, fallback: list[Schema]) -> list[Schema]:
    """allOf members implementing discriminator dispatch on `prop` with if/then."""
    out: list[Schema] = [{"if": {"type": "object"}, "then": {"required": [prop]}}]
    for value, ref in mapping.items():
        out.append(
            {
                "if": {"type": "object", "required": [prop], "properties": {prop: {"const": value}}},
                "then": {"$ref": _absolute(ref)},
            }
        )
    known = sorted(mapping)
    if strict:
        out.append({"if": {"type": "object"}, "then": {"properties": {prop: {"enum": known}}}})
        return out
    # Unknown value: dispatch on @baseType if that is known, otherwise validate against the fallback.
    unknown: Schema = {"type": "object", "not": {"properties": {prop: {"enum": known}}}}
    for value, ref in mapping.items():
        out.append(
            {
                "if": {
                    **unknown,
                    "required": [prop, "@baseType"],
                    "properties": {"@baseType": {"const": value}},
                },
                "then": {"$ref": _absolute(ref)},
            }
        )
    out.append(
        {
            "if": {
                "type": "object",
                "required": [prop],
                "not": {
                    "anyOf": [
                        {"properties": {prop: {"enum": known}}},
                        {"required": ["@baseType"], "properties": {"@baseType": {"enum": known}}},
                    ]
                },
            },
            "then": {"anyOf": fallback},
        }
    )
    return out


def _rewrite_discriminators(schemas: dict[str, Schema], strict: bool) -> dict[str, Schema]:
    schemas = copy.deepcopy(schemas)
    discriminated = {n for n, s in schemas.items() if isinstance(s, dict) and "discriminator" in s}
    out: dict[str, Schema] = {}
    for name, schema in schemas.items():
        if name not in discriminated:
            out[name] = schema
            continue
        prop: str = schema["discriminator"]["propertyName"]
        mapping: dict[str, str] = dict(schema["discriminator"].get("mapping") or {})
        base = {k: v for k, v in schema.items() if k != "discriminator"}
        choice = next((k for k in ("oneOf", "anyOf") if k in base), None)
        if choice is not None:  # "one of these" style
            options: list[Schema] = base.pop(choice)
            if not mapping:  # implicit mapping: the schema name of each option
                mapping = {str(_schema_name(o["$ref"])): o["$ref"] for o in options if "$ref" in o}
            out[name] = {
                **base,
                "allOf": [*base.get("allOf", []), *_dispatch(prop, mapping, strict, options)],
            }
            continue
        # "inheritance" style: X = X__base + dispatch; a mapping back to X itself means X__base.
        own = {SCHEMAS + name, BASE_URI + SCHEMAS + name}
        base_ref = SCHEMAS + name + "__base"
        mapping = {v: (base_ref if r in own else r) for v, r in (mapping or {name: SCHEMAS + name}).items()}
        out[name + "__base"] = base
        out[name] = {
            "allOf": [{"$ref": base_ref}, *_dispatch(prop, mapping, strict, [{"$ref": _absolute(base_ref)}])]
        }

    def inherit_from_base(node: Schema) -> Schema:
        """`allOf: [$ref X]` must not re-trigger X's discriminator: point it at X__base."""
        if not isinstance(node.get("allOf"), list):
            return node
        return {
            **node,
            "allOf": [
                {**o, "$ref": o["$ref"] + "__base"}
                if isinstance(o, dict)
                and isinstance(o.get("$ref"), str)
                and _schema_name(o["$ref"]) in discriminated
                else o
                for o in node["allOf"]
            ],
        }

    return {n: _walk(s, inherit_from_base) for n, s in out.items()}


# --------------------------------------------------------------------------- the spec
@dataclass
class OpenApiSpec:
    """One official OpenAPI 3.0.x document, ready to validate response bodies and components."""

    raw: dict[str, Any]  # the document as read (paths, responses, examples)
    registry: Registry[Any]  # the rewritten document, registered as BASE_URI
    strict: bool
    _validators: dict[str, Draft202012Validator] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, path: Path | str, *, strict: bool = True) -> OpenApiSpec:
        with open(path, encoding="utf-8") as fh:
            raw = yaml.safe_load(fh)
        if not str(raw.get("openapi", "")).startswith("3.0"):
            raise ValueError(
                f"{path}: expected an OpenAPI 3.0.x document, got openapi={raw.get('openapi')!r}"
            )
        doc = copy.deepcopy(raw)
        schemas = _rewrite_discriminators(raw.get("components", {}).get("schemas", {}), strict)
        doc.setdefault("components", {})["schemas"] = _walk(schemas, _to_json_schema)
        registry: Registry[Any] = Registry().with_resource(
            BASE_URI, Resource(contents=doc, specification=DRAFT202012)
        )
        return cls(raw=raw, registry=registry, strict=strict)

    @property
    def component_names(self) -> frozenset[str]:
        return frozenset(self.raw.get("components", {}).get("schemas", {}))

    # ---- lookup
    def path_template(self, path: str) -> str:
        """The spec's path template for a template or a concrete path (`/troubleTicket/42`)."""
        paths: dict[str, Any] = self.raw.get("paths", {})
        if path in paths:
            return path
        for template in paths:
            pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
            if re.match(pattern, path):
                return template
        raise SpecViolation(f"path {path!r} is not in the spec (known: {sorted(paths)})")

    def response_schema(
        self, path: str, method: str, status: int, media_type: str = "application/json"
    ) -> Schema | None:
        """The declared body schema, or None when the response declares no body (e.g. 204)."""
        template = self.path_template(path)
        item = self.raw["paths"][template]
        operation = item.get(method.lower())
        if operation is None:
            raise SpecViolation(
                f"{method.upper()} {template} is not in the spec "
                f"(methods: {sorted(set(item) & _HTTP_METHODS)})"
            )
        responses: dict[str, Any] = operation.get("responses", {})
        code = str(status)
        key = next((k for k in (code, code[0] + "XX", code[0] + "xx", "default") if k in responses), None)
        if key is None:
            raise SpecViolation(
                f"{method.upper()} {template}: status {status} is not declared "
                f"(declared: {sorted(responses)})"
            )
        content: dict[str, Any] = self._deref(responses[key]).get("content") or {}
        if not content:
            return None
        wanted = media_type.split(";")[0].strip().lower()
        declared = next((m for m in content if m.split(";")[0].strip().lower() == wanted), None)
        if declared is None:
            raise SpecViolation(
                f"{method.upper()} {template} {key}: media type {media_type!r} is not "
                f"declared (declared: {sorted(content)})"
            )
        schema = content[declared].get("schema")
        return None if schema is None else _walk(schema, _to_json_schema)

    def _deref(self, obj: dict[str, Any]) -> dict[str, Any]:
        for _ in range(20):
            ref = obj.get("$ref")
            if not isinstance(ref, str):
                return obj
            if not ref.startswith("#/"):
                raise ValueError(f"external $ref not supported: {ref}")
            target: Any = self.raw
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            obj = target
        raise ValueError("$ref loop")

    # ---- validation
    def validate_response(
        self, path: str, method: str, status: int, body: Any, media_type: str = "application/json"
    ) -> None:
        """Raise SpecViolation unless `body` matches the response declared for path/method/status."""
        where = f"{method.upper()} {self.path_template(path)} {status}"
        schema = self.response_schema(path, method, status, media_type)
        if schema is None:
            if body not in _EMPTY_BODIES:
                raise SpecViolation(f"{where}: the spec declares no body, got {type(body).__name__}")
            return
        self._check(schema, body, where)

    def validate_component(self, name: str, body: Any) -> None:
        """Raise SpecViolation unless `body` matches #/components/schemas/<name> (e.g. an event)."""
        if name not in self.component_names:
            raise SpecViolation(f"schema {name!r} is not in the spec")
        self._check({"$ref": BASE_URI + SCHEMAS + name}, body, name)

    def _check(self, schema: Schema, body: Any, where: str) -> None:
        key = repr(schema)
        validator = self._validators.get(key)
        if validator is None:
            validator = Draft202012Validator(schema, registry=self.registry, format_checker=FORMAT_CHECKER)
            self._validators[key] = validator
        errors = list(validator.iter_errors(body))
        if not errors:
            return
        leaves = sorted({_describe(e) for e in _leaves(errors)})
        raise SpecViolation(
            f"{where}: {len(leaves)} schema violation(s); most relevant: "
            f"{_describe(best_match(errors))}\n  - " + "\n  - ".join(leaves[:20])
        )


def _leaves(errors: list[ValidationError]) -> list[ValidationError]:
    """The innermost errors (inside if/then, anyOf ...), which name the offending attribute."""
    out: list[ValidationError] = []
    for error in errors:
        out.extend(_leaves(list(error.context)) if error.context else [error])
    return out


def _describe(error: ValidationError) -> str:
    where = "".join(f"[{p!r}]" for p in error.absolute_path) or "<root>"
    return f"at body{where}: {error.message}"
