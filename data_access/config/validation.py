"""Reading a TOML settings file into a pydantic model, and reporting a mistake with the file and the key.

The city file and the access file are declared as pydantic models (one model per ``[section]``,
``extra="forbid"``, strict scalar types). This module turns pydantic's error list into the one sentence
an operator needs: ``city.toml: [display] refresh_seconds = 'fast' must be int``, ``unknown key 'x'
in [sign_in] (allowed: …)``, ``[city] is missing zoom``. It also lists every key a model accepts, so
a test can check that each one is documented.

Validators that need a sentence of their own raise ``ValueError("must be …")`` (rendered after
``[section] key = value``; a validator on a whole table gets ``[section] …``) or ``setting_error``
(the whole sentence, for rules that span several keys).
"""

from __future__ import annotations

import tomllib
import types
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import is_dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails, PydanticCustomError

ModelT = TypeVar("ModelT", bound=BaseModel)
NumberT = TypeVar("NumberT", int, float)
# Every section model: unknown keys are refused, a loaded file cannot be changed afterwards.
SECTION = ConfigDict(extra="forbid", frozen=True)
SETTING_ERROR = "setting"
_TYPE_NAMES = {
    "int_type": "int",
    "float_type": "a number",
    "string_type": "str",
    "bool_type": "bool",
    "list_type": "list",
    "tuple_type": "list",
    "path_type": "str",
}
_TABLE_TYPES = {"dict_type", "model_type", "model_attributes_type", "dataclass_type", "dataclass_args_type"}
_EXTRA_TYPES = {"extra_forbidden", "unexpected_keyword_argument"}


def positive(value: NumberT) -> NumberT:
    """An ``AfterValidator`` for counts, durations and limits: zero or less is refused."""
    if value <= 0:
        raise ValueError("must be positive")
    return value


def setting_error(message: str) -> PydanticCustomError:
    """A validation error whose message is complete (``[geo.district] is required …``), file name aside."""
    return PydanticCustomError(SETTING_ERROR, "{message}", {"message": message})


def read_toml(path: Path, problem: Callable[[str], Exception]) -> dict[str, Any]:
    """The file's tables; a syntax error raises ``problem`` naming the file and the place."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise problem(f"{path} is not valid TOML: {exc}") from exc


def validate_file(
    model: type[ModelT],
    raw: Mapping[str, Any],
    path: Path,
    problem: Callable[[str], Exception],
    context: Mapping[str, Any] | None = None,
) -> ModelT:
    """The validated model; ``problem(sentence)`` is raised for the first mistake, prefixed with the file."""
    try:
        return model.model_validate(raw, context=dict(context or {}))
    except ValidationError as error:
        raise problem(f"{path}: {describe(error.errors(), model)}") from None


def describe(errors: Sequence[ErrorDetails], model: type[BaseModel]) -> str:
    """One sentence for the first error; missing keys of the same table are named together.

    An unknown section, then an unknown key, is reported before anything else: a misspelt key also
    makes its correct spelling look missing, and the misspelling is the mistake to name.
    """
    first = min(errors, key=_report_order)
    section, key = _section_and_key(model, first["loc"])
    kind = first["type"]
    if kind == SETTING_ERROR:
        return str((first.get("ctx") or {})["message"])
    if kind == "missing" or kind == "missing_argument":
        missing = [
            str(error["loc"][-1])
            for error in errors
            if error["type"] == kind and _section_and_key(model, error["loc"])[0] == section
        ]
        return f"[{section}] is missing {', '.join(missing)}" if section else f"section [{key}] is missing"
    if kind in _EXTRA_TYPES:
        allowed = ", ".join(_keys_at(model, first["loc"][:-1]))
        if not section:
            return f"unknown section [{key}] (allowed: {allowed})"
        return f"unknown key '{key}' in [{section}] (allowed: {allowed})"
    where = f"[{section}] {key}" if section else f"[{key}]"
    if kind in _TABLE_TYPES:
        return f"[{_join(first['loc'])}] must be a table"
    if kind == "value_error":
        reason = str((first.get("ctx") or {}).get("error", first["msg"]))
        if key is None:  # a rule on a whole table
            return f"[{section}] {reason}"
        return f"{where} = {first['input']!r} {reason}"
    if kind in _TYPE_NAMES:
        return f"{where} = {first['input']!r} must be {_TYPE_NAMES[kind]}"
    return f"{where} = {first['input']!r}: {first['msg']}"


def _report_order(error: ErrorDetails) -> tuple[int, int]:
    """Unknown keys first, shallowest first; every other error keeps pydantic's (the fields') order."""
    return (0, len(error["loc"])) if error["type"] in _EXTRA_TYPES else (1, 0)


def setting_keys(model: type[BaseModel]) -> tuple[str, ...]:
    """Every key the model accepts at any depth (section names included), for the documentation test."""
    return tuple(dict.fromkeys(_walk_keys(model)))


# ---- walking a model's annotations ---------------------------------------------------------------


def _fields(annotation: Any) -> dict[str, FieldInfo] | None:
    """The fields of a model or pydantic dataclass (None for anything else)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return dict(annotation.model_fields)
    if isinstance(annotation, type) and is_dataclass(annotation):
        fields = getattr(annotation, "__pydantic_fields__", None)
        return dict(fields) if fields is not None else None
    return None


def _inner(annotation: Any) -> list[Any]:
    """The types inside ``X | None``, ``list[X]``, ``tuple[X, ...]``, ``Annotated[X, …]``; a dict's value type."""
    origin = typing.get_origin(annotation)
    args = [arg for arg in typing.get_args(annotation) if arg is not type(None) and arg is not Ellipsis]
    if origin is typing.Annotated:
        return args[:1]
    if origin in (dict, Mapping):
        return args[1:]
    if origin in (list, tuple, Sequence, typing.Union, types.UnionType):
        return args
    return []


def _is_table(annotation: Any) -> bool:
    return _fields(annotation) is not None or typing.get_origin(annotation) in (dict, Mapping)


def _step(annotation: Any, part: str | int) -> Any:
    """The annotation one location step below ``annotation`` (a field, a dict value or a list item)."""
    fields = _fields(annotation)
    if fields is not None:
        return fields[part].annotation if isinstance(part, str) and part in fields else None
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated or origin in (typing.Union, types.UnionType):
        for inner in _inner(annotation):
            found = _step(inner, part)
            if found is not None:
                return found
        return None
    inner = _inner(annotation)
    return inner[0] if inner else None


def _section_and_key(model: type[BaseModel], loc: tuple[str | int, ...]) -> tuple[str, str | None]:
    """``("categories", "complaints", "A", "name")`` → ``("categories.complaints.A", "name")``.

    The section is the deepest table (model or dict) on the location; what follows it is the key,
    list positions spelled ``[0]``. A location that ends on a table has no key.
    """
    annotation: Any = model
    last_table = 0
    for depth, part in enumerate(loc):
        if _is_table(_unwrap(annotation)):
            last_table = depth
        annotation = _step(_unwrap(annotation), part)
    if _is_table(_unwrap(annotation)):
        return _join(loc), None
    return _join(loc[:last_table]), _join(loc[last_table:])


def _unwrap(annotation: Any) -> Any:
    """``Annotated[X, …]`` and ``X | None`` → X, so a table behind either is still seen as a table."""
    while typing.get_origin(annotation) in (typing.Annotated, typing.Union, types.UnionType):
        inner = _inner(annotation)
        if len(inner) != 1:
            return annotation
        annotation = inner[0]
    return annotation


def _join(loc: Sequence[str | int]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _keys_at(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    annotation: Any = model
    for part in loc:
        annotation = _step(_unwrap(annotation), part)
    return list(_fields(_unwrap(annotation)) or {})


def _walk_keys(annotation: Any) -> Iterator[str]:
    fields = _fields(annotation)
    if fields is not None:
        for name, info in fields.items():
            yield name
            yield from _walk_keys(info.annotation)
        return
    for inner in _inner(annotation):
        yield from _walk_keys(inner)
