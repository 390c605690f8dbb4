"""botocore's private insides, which ``_botocore`` alone reads: an upgrade moving them fails here.

A given boto3 client supplies its credentials and certificate check to the backend's own
transport, and botocore keeps both out of its public API. If a botocore upgrade moves them,
these tests fail naming the botocore version, rather than the backend quietly signing with
nothing or checking certificates differently from the client.
"""

from __future__ import annotations

import re

import boto3
import botocore
import pytest

from restmachine_orm_dynamodb._botocore import (
    BotocoreInternalsChanged,
    client_credentials,
    client_verify,
)
from restmachine_orm_dynamodb._http_settings import HttpSettings
from restmachine_orm_dynamodb._protocol import Protocol


def client(**options: object) -> object:
    # A session of its own: it reads the environment (AWS_CA_BUNDLE) as the test leaves it.
    return boto3.session.Session().client(
        "dynamodb",
        region_name="eu-west-1",
        aws_access_key_id="AKIDBOTOCORETEST",
        aws_secret_access_key="secret-of-the-test",
        aws_session_token="token-of-the-test",
        **options,
    )


def test_a_clients_credentials_are_found_where_botocore_keeps_them():
    try:
        credentials = client_credentials(client())
    except BotocoreInternalsChanged as moved:
        pytest.fail(str(moved))  # names the botocore version and what moved
    frozen = credentials.get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key, frozen.token) == (
        "AKIDBOTOCORETEST",
        "secret-of-the-test",
        "token-of-the-test",
    ), (
        f"botocore {botocore.__version__}: a client's signer no longer holds its credentials "
        "there; this botocore upgrade needs restmachine_orm_dynamodb/_botocore.py updated"
    )


@pytest.mark.parametrize(
    ("verify", "expected"),
    [(None, True), (False, False), ("/etc/a-ca-bundle.pem", "/etc/a-ca-bundle.pem")],
    ids=["default", "off", "bundle"],
)
def test_a_clients_certificate_check_is_found_where_botocore_keeps_it(
    verify, expected, monkeypatch
):
    for variable in ("AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE"):  # none: botocore's own bundle
        monkeypatch.delenv(variable, raising=False)
    try:
        found = client_verify(client(verify=verify))
    except BotocoreInternalsChanged as moved:
        pytest.fail(str(moved))
    assert found == expected, f"botocore {botocore.__version__}: the client's verify moved"


def test_the_protocol_and_settings_of_a_client_are_the_clients_own():
    made = client(
        endpoint_url="http://127.0.0.1:9/",
        config=botocore.config.Config(
            retries={"mode": "standard", "max_attempts": 7},
            connect_timeout=3,
            read_timeout=11,
            max_pool_connections=33,
            tcp_keepalive=True,
            proxies={"http": "proxy.example:3128"},
            user_agent_appid="my-app",
        ),
    )
    protocol = Protocol.from_client(made)
    assert protocol.endpoint == "http://127.0.0.1:9/"
    assert protocol.rules.attempts == 8
    assert protocol._signer.region == "eu-west-1"
    settings = protocol.http
    assert settings == HttpSettings(
        "http://127.0.0.1:9/",
        connect_timeout=3.0,
        read_timeout=11.0,
        max_pool_connections=33,
        verify=settings.verify,
        proxy="http://proxy.example:3128",
        tcp_keepalive=True,
    )


def test_proof_a_moved_internal_fails_loudly_naming_the_botocore_upgrade():
    class Elsewhere:
        _request_signer = object()  # no _credentials on it

    with pytest.raises(BotocoreInternalsChanged) as caught:
        client_credentials(Elsewhere())
    message = str(caught.value)
    assert f"botocore {botocore.__version__} changed the private internals" in message
    assert "client._request_signer._credentials is gone ('_credentials' missing)" in message
    assert "botocore upgrade needs _botocore.py updated" in message
    with pytest.raises(BotocoreInternalsChanged, match=re.escape("client._endpoint.http_session")):
        client_verify(Elsewhere())
