"""Pydantic models built from values the reasoning already typed, without a validation pass.

The reasoning builds a few hundred small result models per assessment; validating values it has
just computed itself (ids from the knowledge base, rounded floats, literal labels) costs more
than the arithmetic behind them. Only use this where every value is already of the field's type.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

_FIELDS: dict[type[BaseModel], tuple[tuple[str, ...], frozenset[str]]] = {}
_SET = object.__setattr__


def trusted_model(cls: type[M], **values: Any) -> M:
    """An instance of `cls` from values for every field (missing or unknown fields fail)."""
    fields = _FIELDS.get(cls)
    if fields is None:
        names = tuple(cls.model_fields)
        fields = _FIELDS[cls] = (names, frozenset(names))
    names, known = fields
    if len(values) != len(names) or values.keys() != known:
        missing = sorted(known - values.keys())
        unknown = sorted(values.keys() - known)
        raise TypeError(f"{cls.__name__}: missing fields {missing}, unknown fields {unknown}")
    obj = cls.__new__(cls)
    # the field order of a validated instance (serialisation follows the dict's order)
    _SET(obj, "__dict__", {name: values[name] for name in names})
    _SET(obj, "__pydantic_fields_set__", set(known))
    _SET(obj, "__pydantic_extra__", None)
    _SET(obj, "__pydantic_private__", None)
    return obj
