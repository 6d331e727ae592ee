"""Reading configuration files safely: bounded, strict YAML and JSON from regular files inside the repository.

Every input file (stack file, team file, policy config) goes through here, so that a careless or hostile
file ends in one Problem naming it, never a hang, a traceback or a silently different document:

- only regular files inside the project root are opened (no symlink out of it, no FIFO, socket or device:
  the type is checked with lstat/stat before opening, and the file is opened non-blocking);
- at most `MAX_BYTES` are read;
- YAML is scanned as an event stream first (libyaml's parser is iterative), bounding nesting depth and the
  size of the document once aliases are expanded, and refusing duplicate keys, before anything is built;
- YAML scalars are resolved as YAML 1.2's core schema does (as Pulumi's own YAML reader does): `yes`, `on`,
  `1:20` and `2024-01-01` stay strings; only `true`/`false` are booleans;
- JSON refuses NaN, Infinity and duplicate keys.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.resolver import BaseResolver

from infra.errors import ConfigError, Problem

MAX_BYTES = 4 * 1024 * 1024
"""Largest configuration file read (the biggest example is a few KiB; 200 teams' files are each small)."""
MAX_DEPTH = 64
"""Deepest nesting of mappings and lists (the schema needs fewer than ten levels)."""
MAX_NODES = 200_000
"""Most values in one document with every alias expanded (bounds alias bombs)."""


class CoreResolver(BaseResolver):
    """YAML 1.2 core schema: what Pulumi's YAML reader (Go yaml.v3) and most tools today resolve."""


# First characters each resolver may match (PyYAML's API); patterns end with \Z so no trailing newline passes.
CoreResolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)\Z"), list("tTfF")
)
CoreResolver.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?(?:0|[1-9][0-9]*)|0o[0-7]+|0x[0-9a-fA-F]+)\Z"),
    list("-+0123456789"),
)
CoreResolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|(?:0|[1-9][0-9]*)(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\Z"
    ),
    list("-+.0123456789"),
)
CoreResolver.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)\Z"), ["~", "n", "N", ""]
)
CoreResolver.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^<<\Z"), ["<"])


class _CoreConstructor(SafeConstructor):
    """SafeConstructor with `0o17` octal (YAML 1.2) as well as 1.1's forms."""

    def construct_yaml_int(self, node: Any) -> int:
        value = str(self.construct_scalar(node))
        if value.startswith("0o"):
            return int(value[2:], 8)
        return int(SafeConstructor.construct_yaml_int(self, node))


# What add_constructor does: a copy of the inherited table with this class's entry.
_CoreConstructor.yaml_constructors = {
    **SafeConstructor.yaml_constructors,
    "tag:yaml.org,2002:int": _CoreConstructor.construct_yaml_int,
}


def _strict_loader() -> Any:
    """libyaml's parser when PyYAML was built with it (several times faster), else PyYAML's own."""
    libyaml = getattr(yaml, "CSafeLoader", None)
    if libyaml is not None:
        parsers: tuple[Any, ...] = (libyaml.__mro__[1],)  # CSafeLoader(CParser, SafeConstructor, Resolver)
    else:  # pragma: no cover - PyYAML wheels ship libyaml
        parsers = (yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer)

    def __init__(self: Any, stream: str) -> None:  # noqa: N807 - the loader's constructor
        parsers[0].__init__(self, stream)  # the reader (or libyaml's parser) takes the text; the rest nothing
        for base in parsers[1:]:
            base.__init__(self)
        _CoreConstructor.__init__(self)
        CoreResolver.__init__(self)

    return type("StrictLoader", (*parsers, _CoreConstructor, CoreResolver), {"__init__": __init__})


StrictLoader: Any = _strict_loader()
"""The parser with the safe constructor and the YAML 1.2 core resolver."""

SAFE_LOADER: Any = StrictLoader
"""The loader every configuration file is read with (kept under this name for callers of infra.settings)."""


@dataclass
class _Frame:
    """One open mapping or list while scanning: its key path and what it holds so far."""

    path: tuple[int | str, ...]
    mapping: bool
    anchor: str | None = None
    size: int = 0
    index: int = 0
    expecting_key: bool = True
    key: int | str = ""
    lines: dict[str, int] = field(default_factory=dict[str, int])


KeyFormat = Callable[[Sequence[int | str]], str]
"""How a key path is written in a Problem (the stack file drops its `config.` level)."""


def dotted(path: Sequence[int | str]) -> str:
    """`("vsphere", "networks", 0)` -> `vsphere.networks[0]`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def stack_key(path: Sequence[int | str]) -> str:
    """A stack file's key path as every other message writes it: without the `config` level."""
    return dotted(path[1:] if path[:1] == ("config",) and len(path) > 1 else path)


_SHOWN_PARTS = 8
"""Key path parts named in a Problem (a 20,000-level path is no help)."""
_NODE_EVENTS = (yaml.AliasEvent, yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent)
_END_EVENTS = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


class _Scan:
    """Bounds a YAML event stream (depth, expanded size, duplicate keys) before any object is built."""

    def __init__(self, file: str, key_format: KeyFormat) -> None:
        self.file = file
        self.key_format = key_format
        self.stack: list[_Frame] = []
        self.anchors: dict[str, int] = {}
        self.total = 0

    def fail(self, path: Sequence[int | str], message: str) -> ConfigError:
        shown = self.key_format(path[:_SHOWN_PARTS]) + ("..." if len(path) > _SHOWN_PARTS else "")
        return ConfigError([Problem(self.file, shown, message)])

    def run(self, text: str) -> None:
        for event in yaml.parse(text, Loader=SAFE_LOADER):
            if isinstance(event, _NODE_EVENTS):
                self._node(event)
            elif isinstance(event, _END_EVENTS):
                frame = self.stack.pop()
                if frame.anchor is not None:
                    self.anchors[frame.anchor] = frame.size + 1
                if self.stack:
                    self.stack[-1].size += frame.size

    def _node(self, event: Any) -> None:
        alias = isinstance(event, yaml.AliasEvent)
        size = self.anchors.get(str(event.anchor), 1) if alias else 1
        parent = self.stack[-1] if self.stack else None
        path = self._place(parent, event)
        self.total += size
        if self.total > MAX_NODES:
            raise self.fail(
                path, f"holds more than {MAX_NODES} values once its aliases are expanded; write it out plainly"
            )
        if parent is not None:
            parent.size += size
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if len(self.stack) >= MAX_DEPTH:
                raise self.fail(path, f"is nested more than {MAX_DEPTH} levels deep; flatten it")
            self.stack.append(_Frame(path, isinstance(event, yaml.MappingStartEvent), event.anchor))
        elif not alias and event.anchor is not None:
            self.anchors[str(event.anchor)] = 1

    def _place(self, parent: _Frame | None, event: Any) -> tuple[int | str, ...]:
        """The key path of this node; a mapping key takes its mapping's path (and is checked for duplicates)."""
        if parent is None:
            return ()
        if not parent.mapping:
            parent.index += 1
            return (*parent.path, parent.index - 1)
        if not parent.expecting_key:
            parent.expecting_key = True
            return (*parent.path, parent.key)
        parent.expecting_key = False
        key = str(event.value) if isinstance(event, yaml.ScalarEvent) else "?"
        parent.key = key
        line = event.start_mark.line + 1
        if isinstance(event, yaml.ScalarEvent) and key != "<<":
            if key in parent.lines:
                raise self.fail(
                    (*parent.path, key),
                    f"duplicate key ({_lines(parent.lines[key], line)}): only one would count; keep one of them",
                )
            parent.lines[key] = line
        return parent.path


def _lines(first: int, second: int) -> str:
    return f"line {first}" if first == second else f"lines {first} and {second}"


def scan_yaml(text: str, file: str, key_format: KeyFormat = dotted) -> None:
    """Raise ConfigError when the document is too deep, too big once expanded, or repeats a key."""
    try:
        _Scan(file, key_format).run(text)
    except yaml.YAMLError as error:
        raise ConfigError([Problem(file, "", f"malformed YAML: {yaml_reason(error)}")]) from None


def load_yaml(text: str, file: str, key_format: KeyFormat = dotted) -> Any:
    """The document in `text`, bounded and strict (see the module docstring); ConfigError otherwise."""
    scan_yaml(text, file, key_format)
    try:
        return yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 - a safe constructor on libyaml's parser
    except yaml.YAMLError as error:
        raise ConfigError([Problem(file, "", f"malformed YAML: {yaml_reason(error)}")]) from None


def yaml_reason(error: yaml.YAMLError) -> str:
    """PyYAML's complaint and where, without the echo of the offending text."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    if mark is not None:
        return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
    return str(problem)


class _Constant:
    """`NaN`, `Infinity` or `-Infinity` where a number was expected: kept as a marker to name its key."""

    def __init__(self, name: str) -> None:
        self.name = name


class _Pairs(dict[str, Any]):
    """A JSON object that repeated a key: kept as a marker to name its key."""

    repeated: list[str]


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) == len(keys):
        return dict(pairs)
    marked = _Pairs(pairs)
    marked.repeated = [k for i, k in enumerate(keys) if k in keys[:i]]
    return marked


def _json_fault(value: Any, loc: tuple[int | str, ...] = ()) -> tuple[tuple[int | str, ...], str] | None:
    """The first NaN/Infinity or repeated key in a parsed document, and what to say about it."""
    if isinstance(value, _Constant):
        return loc, f"{value.name} is not a number JSON allows (every comparison with it is false); write a number"
    if isinstance(value, _Pairs):
        key = value.repeated[0]
        return (*loc, key), "duplicate key: only one would count; keep one of them"
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for k, v in children:
        found = _json_fault(v, (*loc, k))
        if found is not None:
            return found
    return None


def load_json(text: str, file: str) -> Any:
    """Strict JSON: no NaN or Infinity, no duplicate keys, bounded depth; ConfigError naming the file and key."""
    if _json_depth(text) > MAX_DEPTH:
        raise ConfigError([Problem(file, "", f"is nested more than {MAX_DEPTH} levels deep; flatten it")])
    try:
        document = json.loads(text, parse_constant=_Constant, object_pairs_hook=_pairs)
    except json.JSONDecodeError as error:
        raise ConfigError(
            [Problem(file, "", f"malformed JSON: {error.msg} at line {error.lineno}, column {error.colno}")]
        ) from None
    except (ValueError, RecursionError) as error:
        raise ConfigError([Problem(file, "", f"malformed JSON: {error}")]) from None
    fault = _json_fault(document)
    if fault is not None:
        raise ConfigError([Problem(file, dotted(fault[0]), fault[1])])
    return document


def _json_depth(text: str) -> int:
    """Deepest bracket nesting outside strings: checked before parsing, which recurses."""
    depth = deepest = 0
    for token in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', text):
        char = token.group(0)
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                break
        elif char in "]}":
            depth -= 1
    return deepest


def read_config_file(path: Path, root: Path) -> str:
    """The text of a configuration file that is a regular file inside `root`; ConfigError naming it otherwise.

    The file's type is checked before it is opened (so a FIFO never blocks the reader), and it is opened
    non-blocking and re-checked on the open descriptor (so a swap in between is caught too).
    """
    file = relative_name(path, root)

    def problem(message: str) -> ConfigError:
        return ConfigError([Problem(file, "", message)])

    try:
        real = path.resolve(strict=True)
    except FileNotFoundError:
        raise problem("no such file") from None
    except (OSError, RuntimeError) as error:
        raise problem(f"cannot be resolved ({type(error).__name__}); it must be a plain file") from None
    if not real.is_relative_to(root.resolve()):
        raise problem("is a symbolic link to outside the repository; configuration is read only from inside it")
    try:
        info = os.stat(real)
        _regular(info.st_mode, problem)
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as error:
        raise problem(f"cannot be read: {error.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        _regular(os.fstat(handle.fileno()).st_mode, problem)
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise problem(f"is larger than {MAX_BYTES // (1024 * 1024)} MiB; configuration files are kept small")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise problem(f"is not UTF-8 text (byte {error.start}); save it as UTF-8") from None


def _regular(mode: int, problem: Callable[[str], ConfigError]) -> None:
    if stat.S_ISDIR(mode):
        raise problem("is a directory, not a file")
    if not stat.S_ISREG(mode):
        raise problem("is not a regular file (a FIFO, socket or device); configuration must be a plain file")


def relative_name(path: Path, root: Path) -> str:
    """The path as users see it in messages: relative to the project root, without following links."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
