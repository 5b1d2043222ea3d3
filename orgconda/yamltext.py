"""YAML text for templates: every value goes through these filters, never string pasting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from .errors import OrgcondaError


class RenderError(OrgcondaError):
    """A rendered file failed its own checks (a bug in a template, or an unsafe value)."""

    exit_code = 2


class _BlockDumper(yaml.SafeDumper):
    """Block style everywhere, with list items indented under their key."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _dump(value: Any) -> str:
    return yaml.dump(
        value,
        Dumper=_BlockDumper,
        default_flow_style=False,
        sort_keys=False,
        allow_unicode=False,
        width=10_000,
    )


def yaml_scalar(value: Any) -> str:
    text = _dump(value)
    text = text.removesuffix("\n...\n").removesuffix("\n")
    if "\n" in text:
        raise RenderError(f"value {value!r} does not fit on one line")
    return text


def yaml_value(value: Any, indent: int = 2) -> str:
    """`` scalar`` for scalars, else a newline and the block, indented by ``indent``."""
    if isinstance(value, (list, tuple, dict)):
        if not value:
            raise RenderError("empty lists/mappings are left out rather than rendered as [] or {}")
        block = _dump(_plain(value)).rstrip("\n")
        pad = " " * indent
        return "\n" + "\n".join(pad + line if line else line for line in block.splitlines())
    return " " + yaml_scalar(value)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
