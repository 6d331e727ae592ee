"""One thing lint found: which rule, which object, what is wrong and what to do about it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, order=True)
class Finding:
    """Printed as `rule-id: kind namespace/name: what is wrong; what to do` (cluster-scoped: `kind name`)."""

    rule: str
    kind: str
    namespace: str
    name: str
    message: str
    fix: str
    component: str = ""  # where the object comes from, for people: not part of the line, only of --json

    @property
    def target(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"

    def line(self) -> str:
        return f"{self.rule}: {self.target}: {self.message}; {self.fix}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
