"""How the senders reach DynamoDB: endpoint, timeouts, pool size, proxy, TLS, from botocore.

A boto3 client's config says all of it (``client.meta.config``), except whether and how it
checks certificates, which botocore keeps privately (read through ``_botocore``). Proxies
are resolved once, as botocore does: the config's ``proxies``, else the environment's
(``HTTPS_PROXY``, ``NO_PROXY``...).
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["HttpSettings"]


@dataclass(frozen=True)
class HttpSettings:
    """Connection settings shared by the sync and async senders.

    Attributes:
        endpoint: The server's URL, e.g. ``https://dynamodb.eu-west-1.amazonaws.com``.
        connect_timeout: Seconds to wait for a connection.
        read_timeout: Seconds to wait for each read of the answer.
        max_pool_connections: Connections kept open to the endpoint (the sync sender's
            pool; the async sender keeps at least 64).
        verify: Check the server's certificate (``True``), not (``False``), or against this
            CA bundle's path.
        client_cert: A client certificate (path, or paths of certificate and key).
        proxy: The proxy's URL, or ``None`` to connect directly (not shown: it may hold a
            password).
        proxy_headers: Headers for the proxy (its ``Proxy-Authorization``; not shown).
        tcp_keepalive: Turn TCP keep-alive on for the connections.
    """

    endpoint: str
    connect_timeout: float = 60.0
    read_timeout: float = 60.0
    max_pool_connections: int = 10
    verify: bool | str = True
    client_cert: str | tuple[str, str] | None = None
    proxy: str | None = field(default=None, repr=False)
    proxy_headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    tcp_keepalive: bool = False

    @classmethod
    def from_client(cls, client: Any) -> HttpSettings:
        """The settings a boto3 DynamoDB client would use for its own requests."""
        from botocore.httpsession import ProxyConfiguration
        from botocore.utils import get_environ_proxies

        from ._botocore import client_verify

        config = client.meta.config
        endpoint: str = client.meta.endpoint_url
        proxies = ProxyConfiguration(
            config.proxies or get_environ_proxies(endpoint), config.proxies_config
        )
        proxy = proxies.proxy_url_for(endpoint)
        return cls(
            endpoint=endpoint,
            connect_timeout=float(config.connect_timeout),
            read_timeout=float(config.read_timeout),
            max_pool_connections=int(config.max_pool_connections),
            verify=client_verify(client),
            client_cert=config.client_cert,
            proxy=proxy,
            proxy_headers=proxies.proxy_headers_for(proxy) if proxy else {},
            tcp_keepalive=bool(config.tcp_keepalive),
        )

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context both senders use (``None`` for plain HTTP).

        It checks the server's certificate as botocore would (against botocore's CA bundle,
        or ``verify``'s), or not at all when ``verify`` is ``False``.
        """
        if not self.endpoint.lower().startswith("https"):
            return None
        context = ssl.create_default_context()
        if self.verify is False:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        else:
            from botocore.httpsession import get_cert_path

            verify: Any = self.verify  # True (botocore's bundle) or a CA bundle's path
            context.load_verify_locations(cafile=get_cert_path(verify))
        cert = self.client_cert
        if isinstance(cert, tuple):
            context.load_cert_chain(cert[0], keyfile=cert[1])
        elif cert:
            context.load_cert_chain(cert)
        return context
