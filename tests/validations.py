"""Schema validation answered once per schema and object, for every `kfvs lint` of a test worker.

The suite lints the example stacks' renderings many times (each stack once, then the dev stack again with one
thing changed per test), and most objects in them are the same upstream objects judged by the same schemas:
measured over a run, nine of ten validations repeated an earlier one. `ValidationMemo` stands in for
`infra.kfvs.lint.schema.errors`, a function of the schema and the object alone, and answers a pair it has seen.
A schema is known by its validator (one per distinct schema in a process: `builtin.validator`, `crdschema.validator`),
an object by its JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Errors = Callable[[Any, Any], list[str]]


class ValidationMemo:
    """`errors(validator, instance)`, answered from an earlier call with the same schema and instance."""

    def __init__(self, errors: Errors) -> None:
        self.errors = errors
        self.answers: dict[tuple[int, str], list[str]] = {}
        self._validators: dict[int, Any] = {}  # each validator is kept, so that its id stays its own
        self.hits = 0

    def __call__(self, validator: Any, instance: Any) -> list[str]:
        self._validators.setdefault(id(validator), validator)
        key = (id(validator), json.dumps(instance, sort_keys=True, default=repr))
        if key in self.answers:
            self.hits += 1
        else:
            self.answers[key] = self.errors(validator, instance)
        return list(self.answers[key])
