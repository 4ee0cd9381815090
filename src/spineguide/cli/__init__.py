"""SpineGuide command line: `spineguide --help` lists the command groups."""

from __future__ import annotations

import importlib
import sys

import typer

from spineguide.errors import SpineGuideError

app = typer.Typer(
    name="spineguide",
    help=(
        "SpineGuide: clinical knowledge and decision support for lumbar spine conditions.\n\n"
        "Output supports, and does not replace, a clinician's judgement."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each command module exposes `register(app)`; imports stay inside commands so --help is fast.
_COMMAND_MODULES = (
    "spineguide.cli.kb",
    "spineguide.cli.ingest",
    "spineguide.cli.imaging",
    "spineguide.cli.meds",
    "spineguide.cli.score",
    "spineguide.cli.assess",
    "spineguide.cli.evaluate",
    "spineguide.cli.ask",
    "spineguide.cli.serve",
    "spineguide.cli.batch",
    "spineguide.cli.ehr",
)

for _name in _COMMAND_MODULES:
    try:
        _module = importlib.import_module(_name)
    except ModuleNotFoundError as _exc:  # a command group not built yet in this checkout
        if _exc.name != _name:
            raise
        continue
    _module.register(app)


def fail(message: str, hint: str | None = None, code: int = 2) -> None:
    """Print an actionable error to stderr (no traceback) and exit non-zero."""
    text = f"error: {message}"
    if hint:
        text += f"\nhint: {hint}"
    print(text, file=sys.stderr)
    raise typer.Exit(code)


def main() -> None:
    """Entry point: run the Typer app and render SpineGuide errors without tracebacks."""
    try:
        app()
    except SpineGuideError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
