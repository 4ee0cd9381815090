"""Pydantic models built from values the reasoning already typed, without a validation pass.

The reasoning builds about a hundred small result models per assessment; validating values it
has just computed itself (ids from the knowledge base, rounded floats, literal labels) costs more
than the arithmetic behind them. Only use this where every value is already of the field's type.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

# The four instance slots every pydantic model has, set through their descriptors directly:
# about a third cheaper than object.__setattr__ by name (measured with valgrind).
_SLOTS = BaseModel.__dict__
_NEW = object.__new__
_SET_DICT = _SLOTS["__dict__"].__set__
_SET_FIELDS_SET = _SLOTS["__pydantic_fields_set__"].__set__
_SET_EXTRA = _SLOTS["__pydantic_extra__"].__set__
_SET_PRIVATE = _SLOTS["__pydantic_private__"].__set__

_FIELDS: dict[type[BaseModel], tuple[tuple[str, ...], frozenset[str]]] = {}


def field_names(cls: type[BaseModel]) -> frozenset[str]:
    """The field names of a model (for `build_model`)."""
    return _fields(cls)[1]


def _fields(cls: type[BaseModel]) -> tuple[tuple[str, ...], frozenset[str]]:
    got = _FIELDS.get(cls)
    if got is None:
        names = tuple(cls.model_fields)
        got = _FIELDS[cls] = (names, frozenset(names))
    return got


def build_model(cls: type[M], values: dict[str, Any], fields: frozenset[str]) -> M:
    """An instance of `cls` holding `values` (every field, in the model's field order) as is.

    The hot-path form: the caller guarantees the keys (`fields` is `field_names(cls)`); the
    instance owns `values`.
    """
    obj = _NEW(cls)
    _SET_DICT(obj, values)
    _SET_FIELDS_SET(obj, set(fields))
    _SET_EXTRA(obj, None)
    _SET_PRIVATE(obj, None)
    return obj  # type: ignore[no-any-return]


def build_models(cls: type[M], values: list[dict[str, Any]], fields: frozenset[str]) -> list[M]:
    """`build_model` over a list of value dicts (one call for the list: the hottest lists)."""
    out: list[M] = []
    append = out.append
    for v in values:
        obj = _NEW(cls)
        _SET_DICT(obj, v)
        _SET_FIELDS_SET(obj, set(fields))
        _SET_EXTRA(obj, None)
        _SET_PRIVATE(obj, None)
        append(obj)
    return out


def trusted_model(cls: type[M], **values: Any) -> M:
    """An instance of `cls` from values for every field (missing or unknown fields fail)."""
    names, known = _fields(cls)
    if len(values) != len(names) or values.keys() != known:
        missing = sorted(known - values.keys())
        unknown = sorted(values.keys() - known)
        raise TypeError(f"{cls.__name__}: missing fields {missing}, unknown fields {unknown}")
    # the field order of a validated instance (serialisation follows the dict's order)
    return build_model(cls, {name: values[name] for name in names}, known)
