"""The whole conformance suite on the run's selected backends, in one command.

    pytest --pyargs restmachine_orm_testing.suite --orm-backend mybackend

collects this module: one subclass of every suite class, of the same name, each with
``ENABLED_BACKENDS = SELECTED``, so every class runs on the backends given with
``--orm-backend`` (repeatable) or ``RESTMACHINE_ORM_BACKENDS`` and, with no selection, on
every backend whose driver is installed. The matrix and ``--orm-report`` are the usual
ones, with a row per class of this module (its node id, ``…/test_all.py::TestCrud``).

The plugin collects this module only when a run names the suite package (as above), its
directory, or the module itself: a run over a directory above it, such as a source checkout
of this package or its ``src``, leaves it out. To pick classes instead, subclass them in a
test module of your own (see ``restmachine_orm_testing.suite``).
"""

from __future__ import annotations

from restmachine_orm_testing import suite as _suite
from restmachine_orm_testing.base import SELECTED

# Every class the suite exports, so that a class added to the suite runs here with no
# change to this module (the package's tests check none is missed).
__all__ = [name for name in _suite.__all__ if name.startswith("Test")]


def _on_selection(name: str) -> type[_suite.SuiteBase]:
    """A subclass of the suite class ``name``, of the same name, on the run's selection."""
    base: type[_suite.SuiteBase] = getattr(_suite, name)
    namespace = {
        "ENABLED_BACKENDS": SELECTED,
        # Where pytest and the report place the class: this module, under its own name.
        "__module__": __name__,
        "__qualname__": name,
        "__doc__": base.__doc__,
    }
    return type(name, (base,), namespace)


# pytest collects the classes it finds in the module's namespace.
globals().update({name: _on_selection(name) for name in __all__})
