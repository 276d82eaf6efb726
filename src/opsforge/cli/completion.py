"""``opsforge completion bash|zsh|fish``: print the shell completion script."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

INSTALL_HINTS = {
    "bash": 'eval "$(opsforge completion bash)"   # add to ~/.bashrc',
    "zsh": 'eval "$(opsforge completion zsh)"    # add to ~/.zshrc',
    "fish": "opsforge completion fish > ~/.config/fish/completions/opsforge.fish",
}


@click.command("completion")
@click.argument("shell", type=click.Choice(sorted(INSTALL_HINTS)))
@click.pass_context
def completion_command(ctx: click.Context, shell: str) -> None:
    """Print the completion script for SHELL.

    \b
    bash: eval "$(opsforge completion bash)"
    zsh:  eval "$(opsforge completion zsh)"
    fish: opsforge completion fish > ~/.config/fish/completions/opsforge.fish
    """
    root = ctx.find_root().command
    comp_cls = get_completion_class(shell)
    if comp_cls is None:  # pragma: no cover - click ships all three
        raise click.UsageError(f"unsupported shell {shell}")
    comp = comp_cls(root, {}, "opsforge", "_OPSFORGE_COMPLETE")
    click.echo(comp.source())
