"""``lava-fptt``: the command-line tool for the whole path, train -> export -> run in Lava.

Each subcommand lives in its own module with ``add_parser(subparsers)`` and
``run(args) -> dict``. What every subcommand shares is added here, so a new subcommand
inherits it without code of its own:

- options ``--json``, ``--threads N`` and ``--no-progress`` (:func:`add_shared_options`);
- ``--json``: exactly one JSON object on stdout, whatever stdout is (a file, a pipe):
  the result, or ``{"error": ...}``. While the command runs, everything else written to
  stdout (by this package, by libraries, by Lava's processes) is sent to stderr;
- errors in the user's input (``ValueError`` and its subclasses, ``OSError`` such as a
  missing, read-only or full place to write, and usage errors) print one line naming the
  problem and exit with status 2; Ctrl-C exits 130 and SIGTERM 143 after the running
  work is stopped cleanly (Lava processes ended, no temporary file left);
- a reader that goes away (``| head``) ends the command quietly with status 141, as
  SIGPIPE would.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import warnings
from typing import Any, Iterator, Optional, Sequence

from ..runtime import Terminated, sigterm_raises
from . import bench, demo, export, learn, nir, resources, run, train
from .common import UsageError, add_shared_options, apply_threads, error_message

COMMANDS = (train, export, run, learn, demo, bench, resources, nir)
USER_ERRORS = (ValueError, OSError)
EXIT_USAGE, EXIT_SIGINT, EXIT_SIGPIPE, EXIT_SIGTERM = 2, 130, 141, 143


class Parser(argparse.ArgumentParser):
    """argparse's parser with usage errors as :class:`UsageError` (one line, exit 2, JSON
    under ``--json``) instead of argparse's usage text and exit."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def leaf_parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """The parsers that run a command: ``parser`` itself or, below its subcommands, theirs."""
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not actions:
        yield parser
    for action in actions:
        for child in dict.fromkeys(action.choices.values()):  # aliases map to the same parser
            yield from leaf_parsers(child)


def build_parser() -> Parser:
    parser = Parser(
        prog="lava-fptt",
        description="Train spiking networks online in lava-dl, export them through netx, run them in Lava.",
        epilog="Run 'lava-fptt COMMAND --help' for a command's options. Errors in the input print one line "
               "and exit 2; with --json exactly one JSON object is printed on stdout.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    for leaf in leaf_parsers(parser):
        add_shared_options(leaf)
    return parser


def command_words(parser: argparse.ArgumentParser, argv: Sequence[str]) -> list[str]:
    """The subcommand words at the start of ``argv`` (``['bench', 'memory']``), known without
    parsing the rest, so that even a usage error can name its command."""
    words: list[str] = []
    for arg in argv:
        actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not actions or arg not in actions[0].choices:
            break
        words.append(arg)
        parser = actions[0].choices[arg]
    return words


def print_human(result: dict[str, Any]) -> None:
    width = max(len(k) for k in result) if result else 0
    for key, value in result.items():
        if isinstance(value, float):
            value = f"{value:.4f}"
        elif isinstance(value, (list, dict)):
            continue
        print(f"{key:<{width}}  {value}")


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send everything written to stdout within the block to stderr: Python's ``sys.stdout``
    and file descriptor 1 (C code, Lava's forked processes). Restored afterwards."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no stdout at all: nothing to protect
        saved = None
    if saved is not None:
        os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        if saved is not None:
            sys.stderr.flush()
            os.dup2(saved, 1)
            os.close(saved)


def report_error(prog: str, message: str, as_json: bool) -> None:
    """``PROG: error: MESSAGE`` on stderr, and ``{"error": MESSAGE}`` on stdout under ``--json``."""
    if as_json:
        print(json.dumps({"error": message}), flush=True)
    print(f"{prog}: error: {message}", file=sys.stderr, flush=True)


def silence_broken_pipe() -> None:
    """After the reader of stdout or stderr has gone: send both to /dev/null so that the
    flush at exit does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            os.dup2(devnull, stream.fileno())
    os.close(devnull)


def main(argv: Optional[Sequence[str]] = None) -> int:
    warnings.filterwarnings("ignore", message=".*Overriding a previously registered kernel.*")
    warnings.filterwarnings("ignore", message="Warning only once for all operators")
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    prog = " ".join(["lava-fptt", *command_words(parser, argv)])  # what errors are reported as
    as_json = "--json" in argv
    try:
        try:
            args = parser.parse_args(argv)
            apply_threads(args.threads)
            with sigterm_raises(), (stdout_to_stderr() if as_json else contextlib.nullcontext()):
                result = args.handler(args)
        except UsageError as err:
            report_error(prog, f"{err} (see '{prog} --help')", as_json)
            return EXIT_USAGE
        except BrokenPipeError:
            raise
        except USER_ERRORS as err:
            report_error(prog, error_message(err), as_json)
            return EXIT_USAGE
        except KeyboardInterrupt:
            report_error(prog, "interrupted (Ctrl-C); stopped cleanly", as_json)
            return EXIT_SIGINT
        except Terminated:
            report_error(prog, "terminated (SIGTERM); stopped cleanly", as_json)
            return EXIT_SIGTERM
        if result is None:  # a non-leading process of a data-parallel run: rank 0 reports
            return 0
        if as_json:
            print(json.dumps(result), flush=True)
        else:
            print_human(result)
            sys.stdout.flush()
    except BrokenPipeError:
        silence_broken_pipe()
        return EXIT_SIGPIPE
    return 0


if __name__ == "__main__":
    sys.exit(main())
