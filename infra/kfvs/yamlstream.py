"""A YAML stream of JSON-like objects, written directly: PyYAML's dumper (even over libyaml) spends seconds
resolving every scalar of a platform's CRD schemas, and `kfvs render` prints thousands of them.

The output is block style as kubectl prints it (lists not indented under their key). A string is written
plain only when it cannot be read back as anything else (it starts with a letter, `_` or `/`, holds only
letters, digits and `_./-`, and is no YAML 1.1 boolean or null word); a multi-line string as a literal block;
any other string double-quoted as JSON quotes it (a JSON string is a valid YAML double-quoted scalar).
`yaml.safe_load_all` reads the stream back to the same objects (tests/test_render.py checks it for any value).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./-]*")
_WORDS = frozenset(
    w
    for word in ("y", "n", "yes", "no", "on", "off", "true", "false", "null")
    for w in (word, word.capitalize(), word.upper())
)
# What a YAML reader takes as it stands (its printable set, less the characters it reads as line breaks or a
# byte-order mark); anything else is written as a JSON escape.
_READABLE = re.compile("[\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]*")
_UNREADABLE = re.compile("[^\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")


def dump_all(documents: Iterable[Any]) -> str:
    """The documents as one stream, separated by `---`."""
    parts = []
    for document in documents:
        lines: list[str] = []
        if isinstance(document, dict | list) and document:
            _value(document, 0, lines)
        else:  # a bare scalar document (never a manifest): quoted, since a top-level block needs indentation
            lines.append(_scalar(document))
        parts.append("\n".join(lines) + "\n")
    return "---\n".join(parts)


def _value(value: Any, indent: int, lines: list[str]) -> None:
    if isinstance(value, dict) and value:
        _mapping(value, indent, lines)
    elif isinstance(value, list) and value:
        _sequence(value, indent, lines)
    else:
        block = _block(value, indent)
        if block is not None:
            lines += block
        else:
            lines.append(" " * indent + _scalar(value))


def _mapping(value: dict[Any, Any], indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for key, item in value.items():
        head = f"{pad}{_scalar(str(key))}:"
        if isinstance(item, dict) and item:
            lines.append(head)
            _mapping(item, indent + 2, lines)
        elif isinstance(item, list) and item:
            lines.append(head)
            _sequence(item, indent, lines)
        else:
            block = _block(item, indent + 2)
            if block is not None:
                lines.append(f"{head} {block[0].strip()}")
                lines += block[1:]
            else:
                lines.append(f"{head} {_scalar(item)}")


def _sequence(value: list[Any], indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for item in value:
        nested: list[str] = []
        _value(item, indent + 2, nested)
        # The first line of the item takes the dash in place of its indentation.
        nested[0] = f"{pad}- {nested[0][indent + 2 :]}"
        lines += nested


def _block(value: Any, indent: int) -> list[str] | None:
    """A multi-line string as a literal block (`|`, `|-` or `|+` keeps its trailing newlines exactly)."""
    if not isinstance(value, str) or "\n" not in value or not _READABLE.fullmatch(value):
        return None
    body = value.rstrip("\n")
    trailing = len(value) - len(body)
    # A block's indentation is read from its first line, and a line of blanks only is read as empty.
    first = body.split("\n", 1)[0]
    if not first.strip() or first[0] in " \t" or any(line and not line.strip() for line in body.split("\n")):
        return None
    chomp = {0: "-", 1: ""}.get(trailing, "+")
    pad = " " * indent
    lines = [f"{pad}|{chomp}"] + [f"{pad}{line}" if line else "" for line in body.split("\n")]
    lines += [""] * (trailing - 1) if trailing > 1 else []
    return lines


def _scalar(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, dict | list):
        return "{}" if isinstance(value, dict) else "[]"
    text = str(value)
    if _PLAIN.fullmatch(text) and text not in _WORDS:
        return text
    quoted = json.dumps(text, ensure_ascii=False)  # escapes `"`, `\\` and C0 controls, as YAML reads them
    return quoted if _READABLE.fullmatch(quoted) else _UNREADABLE.sub(_escape, quoted)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _float(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    if "e" in text and "." not in text:  # YAML 1.1 reads `1e-05` as a string: it wants the dot
        mantissa, exponent = text.split("e")
        text = f"{mantissa}.0e{exponent}"
    return text
