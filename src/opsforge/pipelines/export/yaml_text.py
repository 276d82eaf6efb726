"""YAML output people can read: keys in the order given, multi-line strings as ``|``
blocks, no aliases."""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["dump"]


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        body = value if value.endswith("\n") else value + "\n"
        if not any(line != line.rstrip() for line in body.splitlines()):
            return dumper.represent_scalar("tag:yaml.org,2002:str", body, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _text)


def dump(data: Any, header: str = "") -> str:
    body = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=100,
    )
    return header + body
