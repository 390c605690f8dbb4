"""``python -m restmachine_orm_dynamodb``: each command run as a user runs it, in a subprocess.

The oracles are independent of the code under test: what the models of ``cli_models`` need
is written out here by hand (``NEEDED``), live tables are read with boto3, and the docs'
examples are read from the Markdown page.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import make_client

TESTS = Path(__file__).parent
DOC = TESTS.parents[2] / "docs" / "backends" / "dynamodb.md"

# What cli_models' Project and Task need, by hand: string keys pk/sk, an index per indexed
# field (owner is shared by both models), TTL on _ttl (Task.due).
NEEDED_KEYS = [("pk", "HASH"), ("sk", "RANGE")]
NEEDED_INDEXES = {"by_owner": "_by_owner", "by_assignee": "_by_assignee"}
NEEDED_ATTRIBUTES = {"pk": "S", "sk": "S", "_by_owner": "S", "_by_assignee": "S"}
NEEDED_TTL = "_ttl"


@pytest.fixture
def client(endpoint: str) -> Any:
    return make_client(endpoint)


@pytest.fixture
def tables(client: Any) -> Iterator[Any]:
    """Table names of this test alone (per xdist worker too); deleted afterwards."""
    made: list[str] = []

    def name(label: str = "t") -> str:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        made.append(f"cli-{label}-{worker}-{uuid.uuid4().hex[:8]}")
        return made[-1]

    yield name
    for table in made:
        with contextlib.suppress(client.exceptions.ResourceNotFoundException):
            client.delete_table(TableName=table)


def environment(**changes: str | None) -> dict[str, str]:
    """The subprocess's environment: dummy credentials, a region, no user AWS config."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONPATH=os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")])),
    )
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def cli(*args: str, cwd: Path | None = None, **env: str | None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "restmachine_orm_dynamodb", *args],
        capture_output=True,
        text=True,
        env=environment(**env),
        cwd=cwd,
        timeout=120,
    )


@pytest.fixture
def run(endpoint: str) -> Any:
    """Run a command that talks to the test server."""

    def run_command(command: str, table: str, *more: str, models: str = "cli_models") -> Any:
        return cli(command, "--models", models, "--table", table, "--endpoint-url", endpoint, *more)

    return run_command


def plan(table: str, form: str, *more: str, models: str = "cli_models", **env: str) -> Any:
    done = cli("plan", "--models", models, "--table", table, "--format", form, *more, **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def ok(done: subprocess.CompletedProcess) -> str:
    assert (done.returncode, done.stderr) == (0, ""), done
    return done.stdout


def key_pairs(schema: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(key["AttributeName"], key["KeyType"]) for key in schema]


def indexes_of(table: dict[str, Any]) -> dict[str, tuple[list[tuple[str, str]], str]]:
    """Each index: its key schema and projection type."""
    return {
        index["IndexName"]: (key_pairs(index["KeySchema"]), index["Projection"]["ProjectionType"])
        for index in table.get("GlobalSecondaryIndexes", ())
    }


NEEDED_INDEX_SHAPES = {
    name: ([(attribute, "HASH")], "ALL") for name, attribute in NEEDED_INDEXES.items()
}


def attributes_of(request: dict[str, Any]) -> dict[str, str]:
    return {a["AttributeName"]: a["AttributeType"] for a in request["AttributeDefinitions"]}


def live(client: Any, table: str) -> tuple[dict[str, Any], dict[str, Any]]:
    described = client.describe_table(TableName=table)["Table"]
    ttl = client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    return described, ttl


def bare_table(client: Any, table: str, keys: list[tuple[str, str, str]]) -> None:
    """A table made by hand: (attribute, type, key type) keys, nothing else."""
    client.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t, _ in keys],
        KeySchema=[{"AttributeName": n, "KeyType": k} for n, _, k in keys],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1})


# -- create-table and plan agree with the models and the live table ---------------------------


def test_create_table_makes_what_the_models_need_and_cloudformation_describes_it(
    run, client, tables
):
    table = tables()
    out = ok(run("create-table", table))
    assert out.startswith(f"created table {table!r}")
    described, ttl = live(client, table)
    assert described["TableStatus"] == "ACTIVE"
    assert key_pairs(described["KeySchema"]) == NEEDED_KEYS
    assert attributes_of(described) == NEEDED_ATTRIBUTES
    assert indexes_of(described) == NEEDED_INDEX_SHAPES
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) in {
        ("ENABLED", NEEDED_TTL),
        ("ENABLING", NEEDED_TTL),
    }
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"

    template = plan(table, "cloudformation")
    (resource,) = template["Resources"].values()
    assert resource["Type"] == "AWS::DynamoDB::Table"
    properties = resource["Properties"]
    assert properties["TableName"] == table
    assert key_pairs(properties["KeySchema"]) == key_pairs(described["KeySchema"])
    assert attributes_of(properties) == attributes_of(described)
    assert indexes_of(properties) == indexes_of(described)
    assert properties["TimeToLiveSpecification"] == {"AttributeName": NEEDED_TTL, "Enabled": True}
    assert properties["BillingMode"] == described["BillingModeSummary"]["BillingMode"]
    assert "ProvisionedThroughput" not in properties


def test_plan_json_is_the_create_table_request_the_models_need():
    request = plan("app", "json")
    assert request["TableName"] == "app"
    assert key_pairs(request["KeySchema"]) == NEEDED_KEYS
    assert attributes_of(request) == NEEDED_ATTRIBUTES
    assert indexes_of(request) == NEEDED_INDEX_SHAPES
    assert request["BillingMode"] == "PAY_PER_REQUEST"
    assert "ProvisionedThroughput" not in request
    assert not any("ProvisionedThroughput" in i for i in request["GlobalSecondaryIndexes"])


def terraform_meaning(document: dict[str, Any]) -> dict[str, Any]:
    """A Terraform aws_dynamodb_table read back into CreateTable's terms."""
    ((label, table),) = document["resource"]["aws_dynamodb_table"].items()
    assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", label)
    meaning: dict[str, Any] = {
        "TableName": table["name"],
        "BillingMode": table["billing_mode"],
        "KeySchema": [(table["hash_key"], "HASH"), (table["range_key"], "RANGE")],
        "Attributes": {a["name"]: a["type"] for a in table["attribute"]},
        "Indexes": {
            i["name"]: ([(i["hash_key"], "HASH")], i["projection_type"])
            for i in table.get("global_secondary_index", ())
        },
        "TTL": table.get("ttl"),
    }
    if "read_capacity" in table:
        meaning["Capacity"] = (table["read_capacity"], table["write_capacity"])
        meaning["IndexCapacity"] = {
            i["name"]: (i["read_capacity"], i["write_capacity"])
            for i in table["global_secondary_index"]
        }
    return meaning


def request_meaning(request: dict[str, Any], ttl: str | None) -> dict[str, Any]:
    meaning: dict[str, Any] = {
        "TableName": request["TableName"],
        "BillingMode": request["BillingMode"],
        "KeySchema": key_pairs(request["KeySchema"]),
        "Attributes": attributes_of(request),
        "Indexes": indexes_of(request),
        "TTL": None if ttl is None else {"attribute_name": ttl, "enabled": True},
    }
    if "ProvisionedThroughput" in request:
        meaning["Capacity"] = _capacity(request)
        meaning["IndexCapacity"] = {
            i["IndexName"]: _capacity(i) for i in request["GlobalSecondaryIndexes"]
        }
    return meaning


def _capacity(request: dict[str, Any]) -> tuple[int, int]:
    throughput = request["ProvisionedThroughput"]
    return throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"]


def test_terraform_means_what_the_create_table_request_means():
    document = plan("app.v2", "terraform")
    assert list(document) == ["resource"]
    meaning = terraform_meaning(document)
    assert meaning == request_meaning(plan("app.v2", "json"), NEEDED_TTL)
    assert meaning["KeySchema"] == NEEDED_KEYS
    assert meaning["Attributes"] == NEEDED_ATTRIBUTES
    assert meaning["Indexes"] == NEEDED_INDEX_SHAPES
    (table,) = document["resource"]["aws_dynamodb_table"].values()
    assert table["ttl"] == {"attribute_name": NEEDED_TTL, "enabled": True}


def test_chosen_classes_bring_only_their_indexes_and_ttl():
    request = plan("app", "json", models="cli_models:Project")
    assert indexes_of(request) == {"by_owner": NEEDED_INDEX_SHAPES["by_owner"]}
    template = plan("app", "cloudformation", models="cli_models:Project")
    (resource,) = template["Resources"].values()
    assert "TimeToLiveSpecification" not in resource["Properties"]
    assert "ttl" not in terraform_meaning(plan("app", "terraform", models="cli_models:Project"))


def test_provisioned_billing_applies_to_the_table_and_every_index(run, client, tables):
    capacity = ("--billing", "provisioned", "--read-capacity", "3", "--write-capacity", "2")
    request = plan("app", "json", *capacity)
    assert request["BillingMode"] == "PROVISIONED"
    assert _capacity(request) == (3, 2)
    assert {i["IndexName"]: _capacity(i) for i in request["GlobalSecondaryIndexes"]} == {
        name: (3, 2) for name in NEEDED_INDEXES
    }
    meaning = terraform_meaning(plan("app", "terraform", *capacity))
    assert meaning == request_meaning(request, NEEDED_TTL)
    (resource,) = plan("app", "cloudformation", *capacity)["Resources"].values()
    assert _capacity(resource["Properties"]) == (3, 2)
    assert all(_capacity(i) == (3, 2) for i in resource["Properties"]["GlobalSecondaryIndexes"])

    table = tables()
    ok(run("create-table", table, *capacity))
    described, _ = live(client, table)
    assert _capacity(described) == (3, 2)
    assert {i["IndexName"]: _capacity(i) for i in described["GlobalSecondaryIndexes"]} == {
        name: (3, 2) for name in NEEDED_INDEXES
    }


# -- idempotence and check ----------------------------------------------------------------------


def test_create_table_again_adds_what_is_missing_and_then_nothing(run, client, tables):
    table = tables()
    ok(run("create-table", table, models="cli_models:Project"))
    described, ttl = live(client, table)
    assert set(indexes_of(described)) == {"by_owner"}
    assert ttl["TimeToLiveStatus"] == "DISABLED"

    out = ok(run("create-table", table))
    assert out == f"table {table!r} already existed; added index 'by_assignee', TTL on '_ttl'\n"
    described, ttl = live(client, table)
    assert indexes_of(described) == NEEDED_INDEX_SHAPES
    assert ttl["AttributeName"] == NEEDED_TTL

    assert ok(run("create-table", table)) == f"table {table!r} already existed; nothing to add\n"
    out = ok(run("check", table))
    assert out.startswith(f"table {table!r} agrees with the models")
    assert len(out.splitlines()) == 1


def differences(done: subprocess.CompletedProcess) -> set[str]:
    assert (done.returncode, done.stderr) == (1, ""), done
    lines = done.stdout.splitlines()
    assert len(lines) == len(set(lines))
    return set(lines)


def test_check_lists_each_missing_index_and_ttl_off(run, client, tables):
    table = tables()
    bare_table(client, table, [("pk", "S", "HASH"), ("sk", "S", "RANGE")])
    assert differences(run("check", table)) == {
        "global secondary index 'by_assignee' (HASH _by_assignee) is missing",
        "global secondary index 'by_owner' (HASH _by_owner) is missing",
        "TTL is off (DISABLED); the models need it on '_ttl'",
    }


def test_check_tells_another_key_schema_and_attribute_types(run, client, tables):
    other_keys, wrong_type = tables(), tables()
    bare_table(client, other_keys, [("id", "S", "HASH")])
    found = differences(run("check", other_keys, models="cli_models:Project"))
    assert found == {
        "key schema is HASH id; the models need HASH pk, RANGE sk",
        "global secondary index 'by_owner' (HASH _by_owner) is missing",
    }
    bare_table(client, wrong_type, [("pk", "N", "HASH"), ("sk", "S", "RANGE")])
    found = differences(run("check", wrong_type, models="cli_models:Project"))
    assert "attribute 'pk' has type N; the models need S" in found


def test_create_table_on_a_table_it_cannot_mend_tells_why_and_fails(run, client, tables):
    table = tables()
    bare_table(client, table, [("id", "S", "HASH")])
    done = run("create-table", table, models="cli_models:Project")
    assert (done.returncode, done.stderr) == (1, ""), done
    assert done.stdout.splitlines() == [
        f"table {table!r} already existed; added index 'by_owner'",
        "key schema is HASH id; the models need HASH pk, RANGE sk",
    ]


def test_check_tells_ttl_on_another_attribute(run, client, tables):
    table = tables()
    ok(run("create-table", table))  # every index, TTL on _ttl
    other = tables()
    ok(run("create-table", other, models="cli_models:Project"))
    client.update_time_to_live(
        TableName=other, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"}
    )
    assert differences(run("check", other)) == {
        "global secondary index 'by_assignee' (HASH _by_assignee) is missing",
        "TTL is on 'expires'; the models need it on '_ttl'",
    }
    assert run("check", table).returncode == 0


# -- models ---------------------------------------------------------------------------------------


def test_a_module_gives_the_models_defined_in_it_else_those_it_imports(tmp_path):
    package = tmp_path / "reexports"
    package.mkdir()
    (package / "__init__.py").write_text("from cli_models import Project, Task\n")
    (tmp_path / "mixed.py").write_text(
        "from restmachine_orm import Field, Model\n"
        "from cli_models import Task\n\n\n"
        "class Own(Model):\n"
        "    id: str = Field(primary_key=True)\n"
        "    colour: str = Field(index=True)\n"
    )
    request = plan("app", "json", models="reexports", PYTHONPATH=f"{TESTS}{os.pathsep}{tmp_path}")
    assert set(indexes_of(request)) == set(NEEDED_INDEXES)
    request = plan("app", "json", models="mixed", PYTHONPATH=f"{TESTS}{os.pathsep}{tmp_path}")
    assert set(indexes_of(request)) == {"by_colour"}  # Task is only imported there


# -- errors: one line, status 2, no traceback --------------------------------------------------


def one_error(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, done
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith("python -m restmachine_orm_dynamodb")
    return line


@pytest.mark.parametrize(
    ("models", "said"),
    [
        ("no_such_module", "cannot import module 'no_such_module'"),
        ("json", "module 'json' holds no restmachine_orm.Model subclass"),
        ("cli_models:NOT_A_MODEL", "'NOT_A_MODEL' is not a restmachine_orm.Model subclass"),
        ("cli_models:Nowhere", "module 'cli_models' has no 'Nowhere'"),
    ],
)
def test_models_that_cannot_be_found_are_one_line(models, said):
    assert said in one_error(cli("plan", "--models", models, "--table", "t"))


def test_an_absent_table_is_one_line(run, tables):
    table = tables()
    assert f"table {table!r} does not exist" in one_error(run("check", table))


def test_missing_credentials_are_one_line(run, tables):
    done = cli(
        "check",
        "--models",
        "cli_models",
        "--table",
        tables(),
        "--region",
        "us-east-1",
        AWS_ACCESS_KEY_ID=None,
        AWS_SECRET_ACCESS_KEY=None,
    )
    assert "no AWS credentials found" in one_error(done)


def test_a_missing_region_is_one_line(endpoint):
    done = cli(
        "check", "--models", "cli_models", "--table", "t", "--endpoint-url", endpoint,
        AWS_DEFAULT_REGION=None,
    )  # fmt: skip
    assert "no AWS region" in one_error(done)


def test_an_unreachable_endpoint_is_one_line_naming_it():
    done = cli(
        "create-table", "--models", "cli_models", "--table", "t",
        "--endpoint-url", "http://127.0.0.1:9",
    )  # fmt: skip
    line = one_error(done)
    assert "http://127.0.0.1:9" in line and "failed" in line


def test_usage_errors_are_one_line():
    done = cli("plan", "--models", "cli_models", "--table", "t", "--billing", "provisioned")
    assert "--read-capacity" in one_error(done)
    assert "the following arguments are required" in one_error(cli("plan", "--table", "t"))


@pytest.mark.parametrize("command", [[], ["create-table"], ["plan"], ["check"]])
def test_help_works(command):
    done = cli(*command, "--help")
    assert done.returncode == 0
    assert "usage: python -m restmachine_orm_dynamodb" in done.stdout


# -- the documentation's examples --------------------------------------------------------------


def doc_section() -> str:
    text = DOC.read_text()
    start = text.index("\n## Provisioning tables\n")
    return text[start : text.index("\n## ", start + 1)]


def doc_blocks(kind: str) -> list[str]:
    return re.findall(rf"^```{kind}\n(.*?)^```$", doc_section(), re.MULTILINE | re.DOTALL)


def doc_commands() -> list[tuple[str, str]]:
    """Each ``$ command`` of the page's console blocks, with the output shown below it."""
    commands: list[tuple[str, str]] = []
    for block in doc_blocks("console"):
        for chunk in re.split(r"^\$ ", block, flags=re.MULTILINE)[1:]:
            command, _, output = chunk.partition("\n")
            commands.append((command, output))
    return commands


def test_the_docs_show_what_each_command_prints(endpoint, client, tables, tmp_path):
    (models_source,) = doc_blocks("python")
    (tmp_path / "myapp").mkdir()
    (tmp_path / "myapp" / "__init__.py").write_text("")
    (tmp_path / "myapp" / "models.py").write_text(models_source)
    commands = doc_commands()
    shown = {command.split()[3] for command, _ in commands}
    assert shown == {"create-table", "check", "plan"}
    assert {"cloudformation", "terraform", "json"} <= {c.split()[-1] for c, _ in commands}
    # The page's tables become this test's own; "legacy" was made by hand, keys only.
    renamed = {"shop": tables("shop"), "legacy": tables("legacy")}
    bare_table(client, renamed["legacy"], [("pk", "S", "HASH"), ("sk", "S", "RANGE")])
    for command, output in commands:
        argv = shlex.split(command)
        assert argv[:3] == ["python", "-m", "restmachine_orm_dynamodb"]
        if argv[3] != "plan":  # plan sends nothing: its output keeps the page's name
            argv = [renamed.get(arg, arg) for arg in argv]
            for old, new in renamed.items():
                output = output.replace(f"'{old}'", f"'{new}'")
        done = cli(*argv[3:], cwd=tmp_path, AWS_ENDPOINT_URL_DYNAMODB=endpoint, PYTHONPATH=None)
        differs = argv[3] == "check" and "agrees" not in output
        assert (done.returncode, done.stderr) == (1 if differs else 0, ""), command
        if argv[3] == "check":  # one line per difference, in no promised order
            assert sorted(done.stdout.splitlines()) == sorted(output.splitlines()), command
        else:
            assert done.stdout == output, command
