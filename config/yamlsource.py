"""Reading a site file: bytes to Python data, plus where every key sits in the text.

PyYAML's `safe_load` keeps the last of two equal keys without a word and forgets line numbers.
Here the document is composed into PyYAML's node tree first; that tree (which carries marks)
gives a `SourceMap` from document paths to lines and is searched for duplicate keys, and only
then is it constructed into plain data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import yaml

from config.problems import FILE, Loc, Problem, format_location

_MERGE_TAG: Final = "tag:yaml.org,2002:merge"
_STARTER_HINT: Final = "start from config/examples/site-minimal.yaml"


@dataclass(frozen=True, slots=True)
class NodeInfo:
    line: int
    """1-based line of the key (for a mapping entry) or of the item (for a list entry)."""
    text: str | None
    """The value exactly as written, when it is a scalar: ``0950…`` before YAML typed it."""


@dataclass(frozen=True, slots=True)
class SourceMap:
    """Where each path of the document was written."""

    nodes: Mapping[Loc, NodeInfo] = field(default_factory=dict)

    def line(self, loc: Loc) -> int | None:
        """Line of `loc`, or of its nearest written ancestor (a missing key: its mapping)."""
        for end in range(len(loc), -1, -1):
            info = self.nodes.get(loc[:end])
            if info is not None:
                return info.line
        return None

    def text(self, loc: Loc) -> str | None:
        info = self.nodes.get(loc)
        return None if info is None else info.text


@dataclass(frozen=True, slots=True)
class YamlDocument:
    data: object | None
    source: SourceMap
    problems: list[Problem]


def read_yaml_file(path: Path) -> YamlDocument:
    """Read and parse `path`; every failure is a `Problem`, never an exception."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return _failed(f"file not found: {path}", hint=f"check the path, or {_STARTER_HINT}")
    except IsADirectoryError:
        return _failed(f"{path} is a directory, not a site file", hint="give the .yaml file")
    except OSError as exc:
        return _failed(f"cannot read {path}: {exc.strerror or exc}", hint=None)
    return parse_yaml_bytes(raw)


def parse_yaml_bytes(raw: bytes) -> YamlDocument:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return _failed(
            f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at column {column}",
            line=line,
            hint="save the file as UTF-8 (GBK/GB 2312 is not accepted)",
        )
    return parse_yaml_text(text)


def parse_yaml_text(text: str) -> YamlDocument:
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:
        return _failed(
            f"control character U+{exc.character:04X} cannot appear in a YAML file",
            line=text.count("\n", 0, exc.position) + 1,
            hint="remove control characters; save the file as plain UTF-8 text",
        )
    try:
        node = loader.get_single_node()
        if node is None:
            return _failed("the file is empty", line=1, hint=_STARTER_HINT)
        nodes: dict[Loc, NodeInfo] = {}
        problems: list[Problem] = []
        _walk(node, (), node.start_mark.line + 1, nodes, problems, set())
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        message, line, hint = _describe_yaml_error(exc)
        return _failed(message, line=line, hint=hint)
    except yaml.YAMLError as exc:
        return _failed(f"not valid YAML: {exc}", hint=None)
    finally:
        loader.dispose()
    return YamlDocument(data, SourceMap(nodes), problems)


def _failed(message: str, *, line: int | None = None, hint: str | None) -> YamlDocument:
    return YamlDocument(None, SourceMap(), [Problem(FILE, line, message, hint)])


_SYNTAX_HINTS: Final = (
    ("mapping values are not allowed", "quote a value that contains ': ', or fix the indentation"),
    ("cannot start any token", "YAML indents with spaces, not tabs"),
    ("expected <block end>", "this line is indented differently from the lines above it"),
    ("found undefined alias", "define the &anchor before using *anchor"),
    ("could not determine a constructor", "remove the !tag; site files use plain YAML"),
    ("expected a single document", "a site file holds one document: remove the '---' line"),
)


def _describe_yaml_error(exc: yaml.MarkedYAMLError) -> tuple[str, int | None, str | None]:
    mark = exc.problem_mark or exc.context_mark
    line = None if mark is None else mark.line + 1
    what = exc.problem or "not valid YAML"
    if exc.context and what.startswith("but "):
        message = f"YAML syntax: {exc.context}, {what}"
    else:
        message = f"YAML syntax: {what}"
        if exc.context and exc.context_mark is not None:
            message += f" ({exc.context} at line {exc.context_mark.line + 1})"
    hint = next((hint for needle, hint in _SYNTAX_HINTS if needle in message), None)
    return message, line, hint


def _walk(
    node: yaml.Node,
    loc: Loc,
    line: int,
    nodes: dict[Loc, NodeInfo],
    problems: list[Problem],
    active: set[int],
) -> None:
    text = node.value if isinstance(node, yaml.ScalarNode) else None
    nodes.setdefault(loc, NodeInfo(line, text))
    if id(node) in active:
        return
    active.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*loc, index), item.start_mark.line + 1, nodes, problems, active)
    elif isinstance(node, yaml.MappingNode):
        _walk_mapping(node, loc, nodes, problems, active)
    active.discard(id(node))


def _walk_mapping(
    node: yaml.MappingNode,
    loc: Loc,
    nodes: dict[Loc, NodeInfo],
    problems: list[Problem],
    active: set[int],
) -> None:
    first_seen: dict[str, int] = {}
    merged: list[yaml.Node] = []
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE_TAG:
            merged.append(value_node)
            continue
        if not isinstance(key_node, yaml.ScalarNode):
            continue
        key = str(key_node.value)
        key_line = key_node.start_mark.line + 1
        if key in first_seen:
            problems.append(
                Problem(
                    format_location((*loc, key)),
                    key_line,
                    f"duplicate key {key!r} (first written at line {first_seen[key]}); "
                    "YAML would silently keep only the last one",
                    hint="delete one of the two entries",
                )
            )
            continue
        first_seen[key] = key_line
        _walk(value_node, (*loc, key), key_line, nodes, problems, active)
    for source in merged:
        sources = source.value if isinstance(source, yaml.SequenceNode) else [source]
        for mapping in sources:
            if isinstance(mapping, yaml.MappingNode):
                _walk_mapping(mapping, loc, nodes, [], active)
