"""moto's private insides, which ``_moto`` alone uses: a moto upgrade that moves them fails here.

The test driver empties the embedded server's tables in moto's memory, through names moto
does not promise to keep. For users it falls back to deleting by request; this package's
own tests must notice instead, and say which moto broke what.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import boto3
import moto
import pytest

from restmachine_orm_dynamodb._moto import EmbeddedMoto, MotoInternalsChanged, moto_internal

ACCESS_KEY, REGION, TABLE = "restmachineormmoto", "us-east-1", "moto-internals"


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedMoto]:
    embedded = EmbeddedMoto()  # its own: the session's endpoint may be DynamoDB Local
    embedded.start()
    yield embedded
    embedded.stop()


def test_the_moto_internals_the_driver_uses_still_delete_items_in_memory(server):
    client = boto3.client(
        "dynamodb",
        endpoint_url=server.endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=ACCESS_KEY,
    )
    client.create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    keys = [{"pk": {"S": f"k{i}"}} for i in range(3)]
    for key in keys:
        client.put_item(TableName=TABLE, Item=key)
    try:
        server.delete_items_in_memory(TABLE, keys[:2], ACCESS_KEY, REGION)
    except MotoInternalsChanged as moved:
        pytest.fail(str(moved))  # names the moto version and what moved
    left = client.scan(TableName=TABLE, ConsistentRead=True)["Items"]
    assert left == [keys[2]], (
        f"moto {moto.__version__}: deleting in memory no longer deletes the items; this moto "
        "upgrade needs restmachine_orm_dynamodb/_moto.py updated"
    )


def test_proof_a_moved_internal_fails_loudly_naming_the_moto_upgrade():
    with pytest.raises(MotoInternalsChanged) as caught:
        moto_internal("moto.dynamodb.models", "a_name_moto_never_had")
    message = str(caught.value)
    assert f"moto {moto.__version__} changed the private internals" in message
    assert "moto.dynamodb.models.a_name_moto_never_had" in message
    assert "moto upgrade needs _moto.py updated" in message
    with pytest.raises(MotoInternalsChanged, match=re.escape("moto.a_module_moto_never_had.x")):
        moto_internal("moto.a_module_moto_never_had", "x")
