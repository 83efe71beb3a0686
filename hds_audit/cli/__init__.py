"""The ``hds-audit`` command. Thin: parse, call the pipeline, write reports, exit.

One module per command group; each imports :mod:`hds_audit.cli.common` and nothing else of
the CLI, and this module registers them on :func:`main` (never the reverse).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from typing import Any

import click

from hds_audit import __version__
from hds_audit.cli.checkov import checkov_pack
from hds_audit.cli.common import EXIT_HELP, _fail
from hds_audit.cli.evidence import keygen, verify
from hds_audit.cli.frameworks import frameworks
from hds_audit.cli.history import history
from hds_audit.cli.merge import merge
from hds_audit.cli.permissions import permissions
from hds_audit.cli.policies import policies
from hds_audit.cli.providers import providers
from hds_audit.cli.scan import scan
from hds_audit.cli.schema import schema
from hds_audit.errors import HdsAuditError

__all__ = ["main"]


#: Exit code when the reader of the output went away (``| head``): 128 + SIGPIPE, as a
#: process killed by SIGPIPE reports it; never 0, since the verdict may not have been read.
PIPE_CLOSED = 141


def _silence_output() -> None:
    """Point stdout and stderr at /dev/null, so the interpreter's last flush stays quiet."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        # a stream that is not a real file (click's test runner) has nothing to flush later
        with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
            os.dup2(devnull, stream.fileno())
    os.close(devnull)


class _Group(click.Group):
    """Turns an unexpected exception into one line and exit code 3, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except BrokenPipeError:  # `hds-audit ... | head`: the reader has gone, end quietly
            _silence_output()
            sys.exit(PIPE_CLOSED)
        except HdsAuditError as error:
            _fail(error)
        except Exception as error:  # the last line of defence: report, never crash
            if os.environ.get("HDS_AUDIT_DEBUG"):
                raise
            click.echo(
                f"hds-audit: internal error: {type(error).__name__}: {error} "
                "(set HDS_AUDIT_DEBUG=1 for the traceback)",
                err=True,
            )
            sys.exit(3)
        return None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_HELP)
@click.version_option(__version__, prog_name="hds-audit")
def main() -> None:
    """Prove that infrastructure holding French health data stays HDS-compliant."""


for _command in (
    scan,
    merge,
    checkov_pack,
    policies,
    permissions,
    history,
    schema,
    providers,
    frameworks,
    keygen,
    verify,
):
    main.add_command(_command)
