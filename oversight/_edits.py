"""Does a reviewer's edit fit the call? Checked in the agent's monitor before an edit runs.

`oversight modify` runs in the reviewer's own process and cannot see the function it edits a call
of, so the authoritative check belongs here, where the function (or a tool's schema) is known.
Edited values arrive as JSON (inside a signed vote), so they are validated as JSON, strictly:
"eight" and "8" are not an `int`, 8 is a `float`, "/tmp/x" is a `Path`. Nothing is converted:
what runs is exactly what the reviewer signed, or nothing.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError, to_json

from oversight.errors import ConfigError

EditCheck = Callable[[Mapping[str, Any]], list[str]]
"""Given an edit (argument name → new value), what is wrong with it: empty when it fits."""

ArgsSchema = Callable[..., Any] | type[BaseModel] | Mapping[str, Any]
"""What a call accepts: its function (signature and annotations), a pydantic model of its
arguments, or a JSON schema of them (an object schema with `properties`)."""

_VALUE_CHARS = 80


def edit_check_for(schema: ArgsSchema) -> EditCheck:
    """The check for an edit of a call that `schema` describes."""
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return ModelCheck(schema)
    if isinstance(schema, Mapping):
        return JsonSchemaCheck(schema)
    if callable(schema):
        return SignatureCheck(schema)
    raise ConfigError(
        f"args_schema must be a function, a pydantic model class or a JSON schema (a mapping), "
        f"got {schema!r}"
    )


class SignatureCheck:
    """Edited values against a function's annotated parameters.

    Annotations are resolved at the first edit, not when the function is decorated: edits are
    rare and decorating must stay cheap. An edited parameter whose annotation cannot be resolved
    or checked is refused (fail closed); unannotated parameters accept anything.
    """

    def __init__(self, func: Callable[..., Any]) -> None:
        self._func = func
        self._types: dict[str, _Expected] | None = None
        self._extra: _Expected | None = None

    def __call__(self, patch: Mapping[str, Any]) -> list[str]:
        if self._types is None:
            self._resolve()
        assert self._types is not None
        problems = []
        for name, value in patch.items():
            expected = self._types.get(name, self._extra)
            if expected is None:
                continue
            problem = expected.check(name, value)
            if problem is not None:
                problems.append(problem)
        return problems

    def _resolve(self) -> None:
        types: dict[str, _Expected] = {}
        namespace = getattr(inspect.unwrap(self._func), "__globals__", {})
        for param in inspect.signature(self._func).parameters.values():
            annotation = param.annotation
            if annotation is inspect.Parameter.empty:
                continue
            expected = _resolved(annotation, namespace)
            if param.kind is inspect.Parameter.VAR_POSITIONAL and expected.broken is None:
                expected = _Expected(list[expected.annotation])  # type: ignore[name-defined]
            if param.kind is inspect.Parameter.VAR_KEYWORD:
                self._extra = expected
            else:
                types[param.name] = expected
        self._types = types


def _resolved(annotation: Any, namespace: Mapping[str, Any]) -> _Expected:
    """A parameter's annotation as a type; a string one (`from __future__ import annotations`)
    is evaluated in the function's module, as `typing.get_type_hints` would."""
    if not isinstance(annotation, str):
        return _Expected(annotation)
    try:
        return _Expected(eval(annotation, dict(namespace)))
    except Exception as exc:  # noqa: BLE001 - a bad annotation only blocks edits of it
        return _Expected(
            annotation,
            broken=f"its annotation {annotation!r} does not resolve ({type(exc).__name__}: {exc})",
        )


class ModelCheck:
    """Edited values against the fields of a pydantic model of the call's arguments (a
    LangChain tool's `args_schema`), with each field's constraints."""

    def __init__(self, model: type[BaseModel]) -> None:
        self._fields: dict[str, _Expected] = {}
        for name, field in model.model_fields.items():
            expected = _Expected(Annotated[field.annotation, field])
            self._fields[name] = expected
            if field.alias:
                self._fields[field.alias] = expected

    def __call__(self, patch: Mapping[str, Any]) -> list[str]:
        problems = []
        for name, value in patch.items():
            expected = self._fields.get(name)
            problem = expected.check(name, value) if expected is not None else None
            if problem is not None:
                problems.append(problem)
        return problems


_JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


class JsonSchemaCheck:
    """Edited values against a JSON schema's `properties`: their `type` (also inside `anyOf` /
    `oneOf`) and `enum`. Deeper keywords are not checked here; the tool still validates its
    input when it runs."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        properties = schema.get("properties")
        self._properties: Mapping[str, Any] = properties if isinstance(properties, Mapping) else {}

    def __call__(self, patch: Mapping[str, Any]) -> list[str]:
        problems = []
        for name, value in patch.items():
            prop = self._properties.get(name)
            if isinstance(prop, Mapping):
                problem = _json_schema_problem(name, value, prop)
                if problem is not None:
                    problems.append(problem)
        return problems


def _json_schema_problem(name: str, value: Any, prop: Mapping[str, Any]) -> str | None:
    options = prop.get("anyOf") or prop.get("oneOf") or [prop]
    types = [t for o in options if isinstance(o, Mapping) for t in _listed(o.get("type"))]
    known = [t for t in types if t in _JSON_TYPES]
    if known and not any(_JSON_TYPES[t](value) for t in known):
        return f"{name}={_show(value)} is not {' or '.join(known)}"
    enum = prop.get("enum")
    if isinstance(enum, list) and value not in enum:
        return f"{name}={_show(value)} is not one of {enum}"
    return None


def _listed(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


class _Expected:
    """One parameter's type, with its validator built on first use."""

    def __init__(self, annotation: Any, *, broken: str | None = None) -> None:
        self.annotation = annotation
        self.broken = broken
        self._adapter: TypeAdapter[Any] | None = None

    def check(self, name: str, value: Any) -> str | None:
        label = _label(self.annotation)
        if self.broken is None and self._adapter is None:
            try:
                self._adapter = TypeAdapter(self.annotation)
            except Exception as exc:  # noqa: BLE001 - e.g. a plain class pydantic cannot describe
                self.broken = f"{label} cannot be checked from an edit ({type(exc).__name__})"
        if self.broken is not None:
            return f"{name}={_show(value)} cannot be checked: {self.broken}"
        assert self._adapter is not None
        try:
            self._adapter.validate_json(to_json(value), strict=True)
        except PydanticSerializationError as exc:
            return f"{name}={_show(value)} is not JSON ({exc})"
        except ValidationError as exc:
            error = exc.errors()[0]
            where = "".join(f"[{part!r}]" for part in error["loc"])
            return f"{name}={_show(value)} is not a valid {label}: {error['msg']}" + (
                f" (at {name}{where})" if where else ""
            )
        return None


def _label(annotation: Any) -> str:
    if isinstance(annotation, type):
        return annotation.__name__
    if isinstance(annotation, str):
        return annotation
    if get_origin(annotation) is Annotated:
        return _label(get_args(annotation)[0])
    return repr(annotation).replace("typing.", "")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _VALUE_CHARS else f"{text[:_VALUE_CHARS]}…"
