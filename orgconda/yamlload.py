"""Read a profile's YAML strictly, in one pass: the data, each field's line, and the traps.

pyyaml composes the node graph (libyaml's parser where available, for speed); this module then
builds plain Python data from it itself, so that it can

- refuse duplicate keys, naming both lines (plain YAML silently keeps the last one, so a pasted
  second ``telemetry:`` block would quietly win);
- bound alias expansion: anchors and aliases are allowed, but the data they expand to is
  capped, so a "billion laughs" document is a clear error rather than exhausted memory;
- return data that is a tree (no shared or recursive containers), which jsonschema and the
  renderer can walk safely;
- record the line of every field as it goes (the field path -> line index).

Syntax errors are reported with their own line and column (a tab on its own line, not the
next), without pyyaml's ``in "<unicode string>"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from .problems import FieldPath, Problem, shorten_text

# Values an alias may add in all, beyond the document's own nodes. A profile that reuses a
# channel list with an anchor stays far below it; a billion-laughs document hits it at once.
ALIAS_BUDGET = 10_000
MAX_DEPTH = 64  # a profile nests about 4 levels

_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_LINE_BREAK = re.compile("\r\n|\r|\n|\x85|\u2028|\u2029")
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlError(Exception):
    """The text is not a YAML document this loader accepts; ``message`` says where and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Loaded:
    data: Any
    lines: dict[FieldPath, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)  # duplicate keys


def load_yaml(text: str) -> Loaded:
    """Parse one YAML document; raise YamlError for syntax errors and expansion bombs."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        raise YamlError(describe_error(exc, text)) from None
    except yaml.YAMLError as exc:  # a reader error: a character YAML does not allow
        raise YamlError(_reader_error(exc, text)) from None
    except RecursionError:
        raise YamlError(f"nested more than {MAX_DEPTH} levels deep; flatten it") from None
    finally:
        loader.dispose()
    if node is None:
        return Loaded(None)
    builder = _Builder()
    data = builder.build(node, ())
    return Loaded(data, builder.lines, builder.problems)


def parse_value(text: str) -> Any:
    """A YAML scalar or flow value (``--set`` values), with the same limits as a profile."""
    return load_yaml(text).data


class _Builder:
    def __init__(self) -> None:
        self.lines: dict[FieldPath, int] = {}
        self.problems: list[Problem] = []
        self._seen: set[int] = set()
        self._active: set[int] = set()
        self._expanded = 0
        self._alias_depth = 0
        self._alias_at: int | None = None
        self._scalars = yaml.SafeLoader("")  # pyyaml's own scalar rules (bool, int, dates...)

    def build(self, node: yaml.Node, path: FieldPath, depth: int = 0) -> Any:
        key = id(node)
        if key in self._active:
            raise YamlError(
                f"line {_line(node)}: an alias refers to the value that contains it "
                "(a recursive alias); write the value out"
            )
        alias = key in self._seen
        if alias:
            if self._alias_at is None:  # the outermost alias: where the document uses it
                self._alias_at = self._key_line(path) or _line(node)
            self._expanded += 1
            if self._expanded > ALIAS_BUDGET:
                raise YamlError(
                    f"line {self._alias_at}: aliases (`*name`) expand to more than "
                    f"{ALIAS_BUDGET} values (nested aliases multiply); write the values out "
                    "instead"
                )
        self._seen.add(key)
        if depth > MAX_DEPTH:
            raise YamlError(f"line {_line(node)}: nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, yaml.ScalarNode):
            if alias and self._alias_depth == 0:
                self._alias_at = None
            return self._scalar(node)
        self._active.add(key)
        self._alias_depth += alias
        try:
            if isinstance(node, yaml.SequenceNode):
                self._check_tag(node, _SEQ_TAG)
                out = []
                for i, item in enumerate(node.value):
                    self.lines.setdefault((*path, i), _line(item))
                    out.append(self.build(item, (*path, i), depth + 1))
                return out
            assert isinstance(node, yaml.MappingNode)
            self._check_tag(node, _MAP_TAG)
            return self._mapping(node, path, depth)
        finally:
            self._active.discard(key)
            self._alias_depth -= alias
            if alias and self._alias_depth == 0:
                self._alias_at = None

    def _key_line(self, path: FieldPath) -> int | None:
        """The line of the nearest mapping key at or above ``path``."""
        for n in range(len(path), 0, -1):
            if isinstance(path[n - 1], str) and path[:n] in self.lines:
                return self.lines[path[:n]]
        return None

    def _mapping(self, node: yaml.MappingNode, path: FieldPath, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                raise YamlError(
                    f"line {_line(key_node)}: merge keys (`<<: *alias`) are not supported in a "
                    "profile; write the keys out"
                )
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlError(
                    f"line {_line(key_node)}: a key must be plain text, not a list or mapping"
                )
            name = key_node.value  # keys are names: `yes`, `1` or `null` stay text
            line = _line(key_node)
            if name in first:
                again = f"again on line {line}" if first[name] != line else "twice on that line"
                self.problems.append(
                    Problem(
                        (*path, name),
                        f"duplicate key: set on line {first[name]} and {again}; YAML would "
                        "silently keep only the last one: remove one of them (or merge the two)",
                    )
                )
            first.setdefault(name, line)
            here = (*path, name)
            self.lines[here] = line
            out[name] = self.build(value_node, here, depth + 1)
        return out

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag == _STR_TAG:
            return node.value
        try:
            return self._scalars.construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:  # `2026-13-45`, `!foo x`
            problem = getattr(exc, "problem", None) or str(exc)
            raise YamlError(
                f"line {_line(node)}: {shorten_text(' '.join(str(problem).split()))} "
                f"(in {shorten_text(node.value)!r}); quote the value or fix it"
            ) from None

    @staticmethod
    def _check_tag(node: yaml.Node, plain: str) -> None:
        if node.tag != plain:
            raise YamlError(
                f"line {_line(node)}: the tag {shorten_text(node.tag)} is not supported in a "
                "profile; remove it"
            )


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def describe_error(exc: yaml.MarkedYAMLError, text: str) -> str:
    """``line N, column C: what; fix`` for a YAML syntax error, on the line that has it."""
    mark = exc.problem_mark or exc.context_mark
    problem = " ".join(str(exc.problem or exc.context or "not valid YAML").split())
    if mark is None:
        return f"not valid YAML: {shorten_text(problem)}; fix the syntax"
    lines = _LINE_BREAK.split(text)
    line, column = int(mark.line), int(mark.column)
    tab_line = _tab_line(lines, line, column, problem)
    if tab_line is not None:
        return (
            f"line {tab_line + 1}: a tab character; YAML indents with spaces only: "
            "replace the tab with spaces"
        )
    at = f"line {line + 1}, column {column + 1}"
    if line >= len(lines) or (line == len(lines) - 1 and not lines[line].strip()):
        at = "at the end of the file"
    context = ""
    cmark = exc.context_mark
    if exc.context and cmark is not None and cmark.line != line:
        context = f" ({' '.join(str(exc.context).split())} that starts on line {cmark.line + 1})"
    return f"{at}: not valid YAML: {shorten_text(problem)}{context}; fix the syntax"


def _tab_line(lines: list[str], line: int, column: int, problem: str) -> int | None:
    """The line with the tab that caused the error, if a tab caused it."""
    here = lines[line] if line < len(lines) else ""
    if column < len(here) and here[column] == "\t":
        return line
    if "tab" not in problem and "\\t" not in problem:
        return None
    for no in range(min(line, len(lines) - 1), -1, -1):
        if "\t" in lines[no][: len(lines[no]) - len(lines[no].lstrip())] or (
            no == line and "\t" in lines[no]
        ):
            return no
    return line


def _reader_error(exc: yaml.YAMLError, text: str) -> str:
    position = getattr(exc, "position", None)
    character = getattr(exc, "character", None)
    what = " ".join(str(getattr(exc, "reason", "") or exc).split())
    if isinstance(position, int) and 0 <= position <= len(text):
        line = len(_LINE_BREAK.findall(text[:position])) + 1
        char = f" ({character!r})" if character is not None else ""
        return f"line {line}: a character YAML does not allow{char}: {shorten_text(what)}"
    return f"not valid YAML: {shorten_text(what)}"
