"""botocore's private insides, read from a boto3 client: the one module that touches them.

A boto3 client given to the backend supplies its credentials and TLS settings, but botocore
keeps both out of its public API: the credentials live on the client's request signer and
the certificate check on its HTTP session. botocore does not promise to keep them there;
when an upgrade moves them, ``BotocoreInternalsChanged`` names the botocore version and what
moved, and this package's own tests fail with it (``tests/test_botocore.py``).
"""

from __future__ import annotations

from typing import Any

import botocore

__all__ = ["BotocoreInternalsChanged", "client_credentials", "client_verify"]

_MISSING = object()


class BotocoreInternalsChanged(RuntimeError):
    """The installed botocore no longer keeps a client's settings where this module looks."""


def _private(client: Any, path: str) -> Any:
    """Follow the dotted attribute ``path`` from ``client``; raise if a step is gone."""
    value = client
    for name in path.split("."):
        value = getattr(value, name, _MISSING)
        if value is _MISSING:
            raise BotocoreInternalsChanged(
                f"botocore {botocore.__version__} changed the private internals "
                f"restmachine_orm_dynamodb._botocore relies on: client.{path} is gone "
                f"({name!r} missing). This botocore upgrade needs _botocore.py updated"
            )
    return value


def client_credentials(client: Any) -> Any:
    """The botocore credentials a client signs with (``None`` when it found none).

    Raises:
        BotocoreInternalsChanged: This botocore keeps them elsewhere.
    """
    return _private(client, "_request_signer._credentials")


def client_verify(client: Any) -> bool | str:
    """How a client checks TLS certificates: ``True``, ``False`` or a CA bundle's path.

    Raises:
        BotocoreInternalsChanged: This botocore keeps the setting elsewhere.
    """
    verify = _private(client, "_endpoint.http_session._verify")
    if verify is None or isinstance(verify, bool):
        return verify is not False
    return str(verify)
