"""YAML as the tests read and write it: through libyaml, several times faster than PyYAML's own Python parser and
emitter, with `safe_load`'s and `safe_dump`'s rules (the same tags, the same resolvers). The suite reads and
rewrites stack files, CRDs and chart values a few thousand times; in pure Python that was tens of seconds."""

from __future__ import annotations

from typing import Any

import yaml

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def load(stream: str | bytes) -> Any:
    """`yaml.safe_load`, on libyaml."""
    return yaml.load(stream, Loader=_LOADER)


def load_all(stream: str | bytes) -> list[Any]:
    """`list(yaml.safe_load_all(...))`, on libyaml."""
    return list(yaml.load_all(stream, Loader=_LOADER))


def dump(data: Any, **options: Any) -> str:
    """`yaml.safe_dump` to a string, on libyaml (`sort_keys`, `default_flow_style` and the rest as there)."""
    text: str = yaml.dump(data, Dumper=_DUMPER, **options)
    return text
