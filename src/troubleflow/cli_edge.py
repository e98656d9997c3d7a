"""What every lazy CLI command module shares: the `Context` the commands receive and how a module adds its
commands behind the CLI edge's one error mapping (`cli.py` passes `errors`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import click

from troubleflow.domain.policy import Policy
from troubleflow.storage.db import Database

Callback = Callable[..., Any]


class Context(Protocol):
    """What `troubleflow.cli.Context` offers the commands."""

    @property
    def db(self) -> Database: ...
    def policy(self) -> Policy: ...


def add_commands(
    parent: click.Group, errors: Callable[[Callback], Callback], *commands: click.Command
) -> None:
    """Add `commands` to `parent`, each callback (a group's: each subcommand's) behind `errors`."""
    for command in commands:
        inner = command.commands.values() if isinstance(command, click.Group) else [command]
        for c in inner:
            if c.callback is not None:
                c.callback = errors(c.callback)
        parent.add_command(command)
