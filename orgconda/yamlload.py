"""Read a profile's YAML strictly, in one streaming pass: the data, each field's line, traps.

pyyaml's parser (libyaml's where available, for speed) yields events; this module builds plain
Python data from them itself, never holding pyyaml's node graph, so that it can

- refuse duplicate keys, naming both lines (plain YAML silently keeps the last one, so a pasted
  second ``telemetry:`` block would quietly win);
- bound the work: anchors and aliases are allowed, but what aliases expand to is capped (a
  "billion laughs" document is a clear error, not exhausted memory), and so are the entries of
  one list or mapping and the nesting depth, so any input is read in time and memory
  proportional to the part of it that is kept;
- return data that is a tree (no shared or recursive containers), which jsonschema and the
  renderer can walk safely;
- record the line of every field as it goes (the field path -> line index).

Syntax errors are reported with their own line and column (a tab on its own line, not the
next), without pyyaml's ``in "<unicode string>"``.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from .problems import FieldPath, Problem, dotted, shorten_text

# Values aliases may add in all. A profile that reuses a channel list with an anchor stays far
# below it; a billion-laughs document hits it at once.
ALIAS_BUDGET = 10_000
MAX_ENTRIES = 1_000  # items of one list, keys of one mapping
MAX_DEPTH = 64  # a profile nests about 4 levels

_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_PLAIN_TAGS = (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
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
    """Parse one YAML document; raise YamlError for syntax errors and what exceeds the caps."""
    loader = _Loader(text)
    try:
        return _Builder(loader).document()
    except yaml.MarkedYAMLError as exc:
        raise YamlError(describe_error(exc, text)) from None
    except yaml.YAMLError as exc:  # a reader error: a character YAML does not allow
        raise YamlError(_reader_error(exc, text)) from None
    except RecursionError:
        raise YamlError(f"nested more than {MAX_DEPTH} levels deep; flatten it") from None
    finally:
        loader.dispose()


def parse_value(text: str) -> Any:
    """A YAML scalar or flow value (``--set`` values), with the same limits as a profile."""
    return load_yaml(text).data


@dataclass
class _Anchor:
    value: Any
    lines: dict[FieldPath, int]  # relative to the anchored value
    size: int  # values it holds, counted against ALIAS_BUDGET on every use


class _Builder:
    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.lines: dict[FieldPath, int] = {}
        self.problems: list[Problem] = []
        self._anchors: dict[str, _Anchor | None] = {}  # None: being built (recursion)
        self._expanded = 0
        self._count = 0  # values built so far (an anchor's size is the difference)
        self._log: list[FieldPath] = []  # paths in the order their lines were recorded
        self._scalars = yaml.SafeLoader("")  # pyyaml's own scalar rules (bool, int, dates...)

    def document(self) -> Loaded:
        self._expect(yaml.StreamStartEvent)
        if self.loader.check_event(yaml.StreamEndEvent):
            return Loaded(None)
        self._expect(yaml.DocumentStartEvent)
        data = self._node((), 0)
        self._expect(yaml.DocumentEndEvent)
        if not self.loader.check_event(yaml.StreamEndEvent):
            event = self.loader.get_event()
            raise YamlError(
                f"line {_line(event)}: a second YAML document (after `---`); a profile is one "
                "document: remove the `---` and what follows, or merge the two"
            )
        return Loaded(data, self.lines, self.problems)

    def _expect(self, kind: type) -> Any:
        event = self.loader.get_event()
        assert isinstance(event, kind), event
        return event

    def _node(self, path: FieldPath, depth: int) -> Any:
        event = self.loader.peek_event()
        if depth > MAX_DEPTH:
            raise YamlError(f"line {_line(event)}: nested more than {MAX_DEPTH} levels deep")
        if isinstance(event, yaml.AliasEvent):
            self.loader.get_event()
            return self._alias(event, path)
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._anchors[anchor] = None
            start_count, start_log = self._count, len(self._log)
        self._count += 1
        if isinstance(event, yaml.ScalarEvent):
            self.loader.get_event()
            value = self._scalar(event)
        elif isinstance(event, yaml.SequenceStartEvent):
            value = self._sequence(path, depth)
        else:
            value = self._mapping(path, depth)
        if anchor is not None:
            inner = {p[len(path) :]: self.lines[p] for p in self._log[start_log:]}
            self._anchors[anchor] = _Anchor(value, inner, self._count - start_count)
        return value

    def _set_line(self, path: FieldPath, line: int, replace: bool = False) -> None:
        if path not in self.lines:
            self._log.append(path)
        elif not replace:
            return
        self.lines[path] = line

    def _alias(self, event: Any, path: FieldPath) -> Any:
        line = _line(event)
        if event.anchor not in self._anchors:
            raise YamlError(f"line {line}: the alias *{event.anchor} names no anchor before it")
        anchored = self._anchors[event.anchor]
        if anchored is None:
            raise YamlError(
                f"line {line}: the alias *{event.anchor} is inside the value it refers to "
                "(a recursive alias); write the value out"
            )
        self._expanded += anchored.size
        if self._expanded > ALIAS_BUDGET:
            raise YamlError(
                f"line {line}: aliases (`*name`) expand to more than {ALIAS_BUDGET} values "
                "(nested aliases multiply); write the values out instead"
            )
        for sub, sub_line in anchored.lines.items():
            self._set_line((*path, *sub), sub_line)
        self._count += anchored.size
        return copy.deepcopy(anchored.value)

    def _sequence(self, path: FieldPath, depth: int) -> list[Any]:
        start = self.loader.get_event()
        _check_tag(start)
        out: list[Any] = []
        while not self.loader.check_event(yaml.SequenceEndEvent):
            index = len(out)
            if index == MAX_ENTRIES:
                raise YamlError(_too_many(path, start, "items"))
            self._set_line((*path, index), _line(self.loader.peek_event()))
            out.append(self._node((*path, index), depth + 1))
        self.loader.get_event()
        return out

    def _mapping(self, path: FieldPath, depth: int) -> dict[str, Any]:
        start = self.loader.get_event()
        _check_tag(start)
        out: dict[str, Any] = {}
        first: dict[str, int] = {}
        while not self.loader.check_event(yaml.MappingEndEvent):
            if len(first) == MAX_ENTRIES:
                raise YamlError(_too_many(path, start, "keys"))
            name, line = self._key()
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
            self._set_line(here, line, replace=True)
            out[name] = self._node(here, depth + 1)
        self.loader.get_event()
        return out

    def _key(self) -> tuple[str, int]:
        event = self.loader.get_event()
        line = _line(event)
        if isinstance(event, yaml.ScalarEvent):
            if event.tag is None and event.implicit[0] and event.value == "<<":
                raise YamlError(
                    f"line {line}: merge keys (`<<: *alias`) are not supported in a profile; "
                    "write the keys out"
                )
            self._count += 1
            return event.value, line  # keys are names: `yes`, `1` or `null` stay text
        if isinstance(event, yaml.AliasEvent):
            anchored = self._anchors.get(str(event.anchor))
            if anchored is not None and isinstance(anchored.value, (str, int, float, bool)):
                return str(anchored.value), line
        raise YamlError(f"line {line}: a key must be plain text, not a list or mapping")

    def _scalar(self, event: Any) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            if not event.implicit[0]:  # quoted or a block: text
                return event.value
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag == _STR_TAG:
            return event.value
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            return self._scalars.construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:  # `2026-13-45`, `!foo x`
            problem = getattr(exc, "problem", None) or str(exc)
            raise YamlError(
                f"line {_line(event)}: {shorten_text(' '.join(str(problem).split()))} "
                f"(in {shorten_text(event.value)!r}); quote the value or fix it"
            ) from None


def _check_tag(event: Any) -> None:
    if event.tag not in _PLAIN_TAGS:
        raise YamlError(
            f"line {_line(event)}: the tag {shorten_text(event.tag)} is not supported in a "
            "profile; remove it"
        )


def _too_many(path: FieldPath, start: Any, what: str) -> str:
    where = f"`{dotted(path)}`" if path else "the profile"
    return (
        f"line {_line(start)}: {where} has more than {MAX_ENTRIES} {what}; a profile takes at "
        f"most {MAX_ENTRIES} in one list or mapping"
    )


def _line(event: Any) -> int:
    return int(event.start_mark.line) + 1


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
