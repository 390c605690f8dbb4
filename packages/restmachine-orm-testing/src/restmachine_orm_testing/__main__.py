"""``python -m restmachine_orm_testing``: list the installed drivers and their capabilities."""

from __future__ import annotations

import sys

from restmachine_orm import CAPABILITIES

from .registry import FIRST_PARTY, DriverRegistry


def main() -> int:
    """Print each registered driver, where it comes from and what its backend supports."""
    registry = DriverRegistry.load()
    print("restmachine-orm-testing drivers:")
    for name, registered in sorted(registry.drivers.items()):
        try:
            capabilities = sorted(registered.factory().capabilities)
            shown = ", ".join(capabilities) or "(none)"
        except Exception as error:
            shown = f"cannot create driver: {type(error).__name__}: {error}"
        print(f"  {name}")
        print(f"    from:         {registered.source}")
        print(f"    capabilities: {shown}")
    for name, install in sorted(FIRST_PARTY.items()):
        if name not in registry.drivers:
            print(f"  {name}: not installed ({install})")
    for line in registry.failure_lines():
        print(f"  {line}")
    print("capabilities:")
    for name, meaning in CAPABILITIES.items():
        print(f"  {name}: {meaning}")
    return 1 if registry.failures else 0


if __name__ == "__main__":
    sys.exit(main())
