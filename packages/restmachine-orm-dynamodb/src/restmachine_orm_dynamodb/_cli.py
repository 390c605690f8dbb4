"""``python -m restmachine_orm_dynamodb``: create, plan and check the table of some models.

Subcommands: ``create-table`` (make the table, or add what it lacks), ``plan`` (print the
table as a CloudFormation or Terraform resource, or as the ``CreateTable`` request) and
``check`` (compare a live table with the models). All three start from one
``TableDefinition`` (``_definition``), and requests go through the backend's own transport
(``Table`` flows run by ``_flow.run`` over the blocking sender), with its retries and config.

Exit codes: 0 done (or the table agrees), 1 ``check`` found differences, 2 an error, told
in one line on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import boto3
from botocore.exceptions import BotoCoreError, NoRegionError

from restmachine_orm import Model, OrmError

from ._botocore import client_credentials
from ._definition import (
    ON_DEMAND,
    PROVISIONED,
    Billing,
    TableDefinition,
    cloudformation,
    differences,
    terraform,
)
from ._flow import Flow, run
from ._http_sync import BlockingSender
from ._keys import KeyScheme
from ._protocol import Protocol
from ._retries import RetryConfig
from ._table import Refusal, Table
from .backend import DEFAULT_CONFIG

__all__ = ["CliError", "load_models", "main"]

PROG = "python -m restmachine_orm_dynamodb"
_NO_REGION = "no AWS region: pass --region, or set AWS_DEFAULT_REGION or a profile's region"
_FORMATS: dict[str, Callable[[TableDefinition], dict[str, Any]]] = {
    "cloudformation": cloudformation,
    "terraform": terraform,
    "json": TableDefinition.request,
}


class CliError(Exception):
    """What went wrong, in one line for the user (the CLI exits with status 2)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (``sys.argv[1:]`` if omitted); return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    provisioned = getattr(args, "billing", "on-demand") == "provisioned"
    capacities = (getattr(args, "read_capacity", None), getattr(args, "write_capacity", None))
    if provisioned and None in capacities:
        parser.error("--billing provisioned needs --read-capacity and --write-capacity")
    if not provisioned and capacities != (None, None):
        parser.error("--read-capacity and --write-capacity need --billing provisioned")
    try:
        status: int = args.run(args)
    except (CliError, OrmError) as error:  # a DynamoDBError names operation, table, endpoint
        return _fail(str(error))
    except Exception as error:  # a user sees one line, never a traceback
        return _fail(f"{type(error).__name__}: {error}")
    return status


def _fail(message: str) -> int:
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr)
    return 2


# -- the commands ----------------------------------------------------------------------------


def _plan(args: argparse.Namespace) -> int:
    document = _FORMATS[args.format](_definition(args))
    print(json.dumps(document, indent=2))
    return 0


def _create(args: argparse.Namespace) -> int:
    definition = _definition(args)
    table, sender = _connect(args, definition)
    try:
        flow = table.create(
            definition.indexes, expiring=definition.expiring, billing=definition.billing
        )
        done = run(flow, sender)
        if done.created:
            billing = definition.billing.mode
            print(f"created table {definition.name!r}: {_summary(definition)}, billing {billing}")
            return 0
        added = [f"index {name!r}" for name in done.indexes_added]
        if done.ttl_enabled:
            added.append(f"TTL on {table.keys.expiry!r}")
        print(
            f"table {definition.name!r} already existed; "
            + (f"added {', '.join(added)}" if added else "nothing to add")
        )
        # What adding cannot mend (another key schema...): told as check tells it.
        return _differences(definition, *run(_look(table), sender))
    finally:
        sender.close()


def _check(args: argparse.Namespace) -> int:
    definition = _definition(args)
    table, sender = _connect(args, definition)
    try:
        status = _differences(definition, *run(_look(table), sender))
    finally:
        sender.close()
    if status == 0:
        print(f"table {definition.name!r} agrees with the models ({_summary(definition)})")
    return status


def _differences(definition: TableDefinition, live: dict[str, Any], ttl: dict[str, Any]) -> int:
    """Print how the live table differs from the definition; 1 if it does, else 0."""
    found = differences(definition, live, ttl)
    for difference in found:
        print(difference)
    return 1 if found else 0


def _look(table: Table) -> Flow[tuple[dict[str, Any], dict[str, Any]]]:
    """The live table's description and its TTL description."""
    answer = yield from table.send(
        "DescribeTable", {"TableName": table.name}, refusal="ResourceNotFoundException"
    )
    if type(answer) is Refusal:
        raise CliError(f"table {table.name!r} does not exist at {table.protocol.endpoint}")
    ttl = yield from table.call("DescribeTimeToLive")
    return answer["Table"], ttl.get("TimeToLiveDescription", {})


def _summary(definition: TableDefinition) -> str:
    """The definition in a few words: keys, indexes, TTL."""
    keys = definition.keys
    indexes = ", ".join(gsi.name for gsi in definition.indexes) or "none"
    ttl = f"on {keys.expiry!r}" if definition.expiring else "off"
    return f"keys {keys.pk}/{keys.sk}, indexes {indexes}, TTL {ttl}"


# -- inputs ----------------------------------------------------------------------------------


def _definition(args: argparse.Namespace) -> TableDefinition:
    models = [model for spec in args.models for model in load_models(spec)]
    keys = KeyScheme(args.pk_attribute, args.sk_attribute, args.entity_attribute)
    if getattr(args, "billing", "on-demand") == "provisioned":
        billing = Billing(PROVISIONED, args.read_capacity, args.write_capacity)
    else:
        billing = Billing(ON_DEMAND)
    return TableDefinition.for_models(args.table, keys, list(dict.fromkeys(models)), billing)


def load_models(spec: str) -> list[type[Model]]:
    """The models ``--models`` names: ``package.module`` or ``package.module:Class,Other``.

    For a module alone: the ``Model`` subclasses defined in it (their ``__module__`` is the
    module), leaving out abstract bases (no key field). A module that only imports its
    models from elsewhere (a package's ``__init__`` re-exporting them) gives every model
    it holds instead.

    Raises:
        CliError: The module cannot be imported, a named class is missing or not a
            ``Model``, or the module holds no model.
    """
    module_name, _, names = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise CliError(f"cannot import module {module_name!r}: {error}") from error
    except Exception as error:
        message = f"importing module {module_name!r} failed: {type(error).__name__}: {error}"
        raise CliError(message) from error
    if names:
        return [_named_model(module, spec, name.strip()) for name in names.split(",")]
    held = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Model)
        and value is not Model
        and value.orm_schema().key_fields
    ]
    own = [model for model in held if model.__module__ == module.__name__]
    if not (own or held):
        raise CliError(f"module {module_name!r} holds no restmachine_orm.Model subclass")
    return own or held


def _named_model(module: Any, spec: str, name: str) -> type[Model]:
    value = getattr(module, name, None)
    if value is None:
        raise CliError(f"{spec}: module {module.__name__!r} has no {name!r}")
    if not (isinstance(value, type) and issubclass(value, Model)):
        raise CliError(f"{spec}: {name!r} is not a restmachine_orm.Model subclass")
    return value


def _connect(args: argparse.Namespace, definition: TableDefinition) -> tuple[Table, BlockingSender]:
    """The table, and the sender running its flows, as a ``DynamoDBBackend`` makes them.

    Region and endpoint: the options, else boto3's chain (``AWS_DEFAULT_REGION``, profiles;
    ``AWS_ENDPOINT_URL_DYNAMODB``).
    """
    try:
        client = boto3.session.Session().client(
            "dynamodb",
            region_name=args.region,
            endpoint_url=args.endpoint_url,
            config=DEFAULT_CONFIG,
        )
    except NoRegionError as error:
        raise CliError(_NO_REGION) from error
    except BotoCoreError as error:  # a broken profile...
        raise CliError(str(error)) from error
    except ValueError as error:  # botocore's word for an endpoint URL it cannot use
        raise CliError(f"bad endpoint URL {args.endpoint_url!r}: {error}") from error
    if not client.meta.region_name:  # set, but empty
        raise CliError(_NO_REGION)
    if client_credentials(client) is None:
        raise CliError(
            "no AWS credentials found (environment, shared files, SSO, instance role); "
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"
        )
    protocol = Protocol.from_client(client)
    table = Table(protocol, definition.name, definition.keys, RetryConfig())
    return table, BlockingSender(protocol.http)


# -- the parser ------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors told in one line like every other error."""

    def error(self, message: str) -> NoReturn:
        """Exit with status 2 and one line naming the mistake."""
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    models = _Parser(add_help=False)
    models.add_argument(
        "--models",
        action="append",
        required=True,
        metavar="MODULE[:CLASS,...]",
        help="the models' module (every Model defined there), or chosen classes; repeatable",
    )
    models.add_argument("--table", required=True, help="the table's name")
    for option, default in (("pk", "pk"), ("sk", "sk"), ("entity", "_type")):
        models.add_argument(f"--{option}-attribute", default=default, help=f"default: {default}")
    billing = _Parser(add_help=False)
    billing.add_argument(
        "--billing",
        choices=("on-demand", "provisioned"),
        default="on-demand",
        help="on-demand (PAY_PER_REQUEST, the default) or provisioned",
    )
    billing.add_argument("--read-capacity", type=int, metavar="N", help="provisioned only")
    billing.add_argument("--write-capacity", type=int, metavar="N", help="provisioned only")
    server = _Parser(add_help=False)
    server.add_argument("--endpoint-url", help="default: boto3's (AWS_ENDPOINT_URL_DYNAMODB)")
    server.add_argument("--region", help="default: boto3's (AWS_DEFAULT_REGION, profile)")

    parser = _Parser(prog=PROG, description="Create, plan and check the table of your models.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, run_it, parents, text in (
        (
            "create-table",
            _create,
            [models, billing, server],
            "create the table, or add what it lacks",
        ),
        ("plan", _plan, [models, billing], "print the table's definition"),
        ("check", _check, [models, server], "compare a live table with the models"),
    ):
        command = commands.add_parser(name, parents=parents, help=text, description=text)
        command.set_defaults(run=run_it)
        if name == "plan":
            command.add_argument(
                "--format",
                choices=tuple(_FORMATS),
                default="json",
                help="cloudformation, terraform (JSON syntax), or json: the CreateTable request",
            )
    return parser
