"""Pieces of the small programs tests record in place of the project's (`infra.kfvs.recorder.record`)."""

from __future__ import annotations

import pulumi


class Box(pulumi.ComponentResource):
    """A component of type `test:index:Box` that holds whatever is given it as parent, and nothing of its own."""

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("test:index:Box", name, None, opts)
        self.register_outputs({})
