"""Lifecycle hooks: ``@before_save``, ``@after_save`` and ``@after_load`` on model methods.

A model (or a mixin it inherits) marks methods as hooks; ``Model`` finds them once per
class (``hook_names``) and runs them at each step of its write and read pipelines. Several
hooks of one kind run in definition order, base classes first. A subclass that redefines a
hook method replaces it in place: whether the new method is a hook is decided by its own
decorator.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Literal, TypeVar

__all__ = ["HookKind", "after_load", "after_save", "before_save", "hook_names"]

HookKind = Literal["before_save", "after_save", "after_load"]
"""The moments a hook can run at."""

_F = TypeVar("_F", bound=Callable[..., Any])
# The attribute a decorator sets on the function it marks.
_MARK = "__orm_hook__"
# The overridable methods of ``Model`` that act as hooks of their kind when a class
# overrides them (the way to write a hook before the decorators existed).
_METHODS: dict[str, HookKind] = {"before_save": "before_save", "after_save": "after_save"}


def _mark(kind: HookKind, method: _F) -> _F:
    if not callable(method):
        raise TypeError(f"@{kind} decorates a method, not {method!r}")
    if inspect.iscoroutinefunction(method):
        # The write paths call hooks, sync and async alike; a coroutine would never run.
        raise TypeError(f"@{kind} decorates a plain method, not async def {method.__name__}()")
    setattr(method, _MARK, kind)
    return method


def before_save(method: _F) -> _F:
    """Run the method before every write of the instance.

    Writes are create, create_many, upsert, save and update, with their async and
    transaction twins. The hook may change fields, never the key (refused with
    ``OrmError``, nothing written).
    """
    return _mark("before_save", method)


def after_save(method: _F) -> _F:
    """Run the method after every successful write of the instance."""
    return _mark("after_save", method)


def after_load(method: _F) -> _F:
    """Run the method after a stored row is read into an instance (get, get_many, queries)."""
    return _mark("after_load", method)


def hook_names(cls: type, base: type) -> dict[HookKind, tuple[str, ...]]:
    """The names of ``cls``'s hook methods, per kind, in the order they run.

    A name's place is where it was first defined, base classes first; its kind is read
    from the method ``cls`` resolves it to. ``base``'s own no-op ``before_save`` and
    ``after_save`` count only once a class overrides them.
    """
    found: dict[HookKind, list[str]] = {"before_save": [], "after_save": [], "after_load": []}
    seen: set[str] = set()
    for owner in reversed(cls.__mro__):
        for name, value in vars(owner).items():
            if name in seen or (getattr(value, _MARK, None) is None and name not in _METHODS):
                continue
            seen.add(name)
            method = _resolved(cls, name)
            kind = getattr(method, _MARK, None)
            if kind is None and name in _METHODS and method is not vars(base).get(name):
                kind = _METHODS[name]
            if kind is not None:
                found[kind].append(name)
    return {kind: tuple(names) for kind, names in found.items()}


def _resolved(cls: type, name: str) -> Any:
    """The attribute ``name`` as ``cls`` defines or inherits it, unbound (no descriptors)."""
    for owner in cls.__mro__:
        if name in vars(owner):
            return vars(owner)[name]
    return None  # pragma: no cover - the name came from one of these classes
