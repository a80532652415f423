"""The `hugginggpt` command: up, down, status, ask, eval plan, eval answers, catalog refresh."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from hugginggpt.settings import SettingsError
from hugginggpt_cli.launcher import Stack, StackSettings


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Sub-tools with their own argument parsers take the rest of the command line as it is.
    delegated = {("eval", "plan"): _eval_plan, ("eval", "answers"): _eval_answers, ("catalog", "refresh"): _refresh}
    if len(argv) >= 2 and (argv[0], argv[1]) in delegated:
        return delegated[(argv[0], argv[1])](argv[2:])
    args = _parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SettingsError as exc:  # a setting in the environment is wrong: say which, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2


# Imported when called: each tool loads what only it needs (the planner's evaluation loads the embedding model).
def _eval_plan(argv: list[str]) -> int:
    from services.planner.evaluation import main as eval_plan

    return eval_plan(argv)


def _eval_answers(argv: list[str]) -> int:
    from hugginggpt_cli.answereval import main as eval_answers

    return eval_answers(argv)


def _refresh(argv: list[str]) -> int:
    from services.selector.catalog_refresh import main as refresh

    return refresh(argv)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hugginggpt", description=__doc__)
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    up = sub.add_parser("up", help="start the LLM server and every service on loopback, wait until healthy")
    up.set_defaults(func=_up)
    down = sub.add_parser("down", help="stop the stack started by `up`")
    down.set_defaults(func=_down)
    status = sub.add_parser("status", help="list the running processes of the stack")
    status.set_defaults(func=_status)
    ask = sub.add_parser("ask", help="send a request to the gateway and print its events as they arrive")
    ask.add_argument("request")
    ask.add_argument("--file", action="append", default=[], type=Path, help="a file to attach (repeatable)")
    ask.add_argument("--session", default="", help="continue this conversation")
    ask.add_argument("--out", default="out", type=Path, help="folder for generated files")
    ask.add_argument("--gateway", default="", help="gateway address (default: the local stack's)")
    ask.add_argument("--timeout", default=600.0, type=float, help="seconds before the request is abandoned")
    ask.add_argument("--token", default=os.environ.get("HUGGINGGPT_GATEWAY_AUTH_TOKEN", ""),
                     help="the gateway's bearer token (default: $HUGGINGGPT_GATEWAY_AUTH_TOKEN)")
    ask.add_argument("--tls", action="store_true", help="use TLS, trusting the system's CAs")
    ask.add_argument("--ca", type=Path, help="PEM file of the CA (or self-signed certificate) to trust; implies --tls")
    ask.set_defaults(func=_ask)
    sub.add_parser("eval", help="`hugginggpt eval plan --help`: measure planning on TaskBench-format data; "
                   "`hugginggpt eval answers --help`: check answers of multi-turn cases")
    sub.add_parser("catalog", help="`hugginggpt catalog refresh --help`: refresh the model catalogue online")
    return parser


def _up(args: argparse.Namespace) -> int:
    stack = Stack(StackSettings.from_env())
    print("starting the stack (the first start loads the models; it can take a few minutes)", flush=True)
    try:
        addresses = stack.up()
    except (RuntimeError, TimeoutError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        stack.down()
        return 1
    for name, address in addresses.items():
        print(f"  {name:<10} {'http://' + address if name == 'edge' else address}")
    if os.environ.get("HUGGINGGPT_GATEWAY_AUTH_TOKEN"):
        print("the gateway asks for HUGGINGGPT_GATEWAY_AUTH_TOKEN; the services accept only each other")
    else:
        print("the gateway is open to anyone on this machine (loopback, no token); "
              "the services behind it accept only each other (token in the run folder)")
    print(f"logs in {stack.s.run_dir}; stop with `hugginggpt down`")
    return 0


def _down(args: argparse.Namespace) -> int:
    stopped = Stack(StackSettings.from_env()).down()
    print(f"stopped: {', '.join(stopped) or 'nothing was running'}")
    return 0


def _status(args: argparse.Namespace) -> int:
    running = Stack(StackSettings.from_env()).running()
    for name, info in running.items():
        print(f"  {name:<10} pid {info['pid']:<8} port {info['port']}")
    return 0 if running else 1


def _ask(args: argparse.Namespace) -> int:
    from hugginggpt_cli.ask import Connection, ask

    if args.ca is not None and not args.ca.is_file():
        print(f"error: --ca {args.ca}: no such file", file=sys.stderr)
        return 2
    address = args.gateway or f"127.0.0.1:{StackSettings.from_env().port(50050)}"
    connection = Connection(address, args.token, args.tls, args.ca.read_bytes() if args.ca else None)
    return asyncio.run(ask(connection, args.request, args.file, args.session, args.out, args.timeout))
