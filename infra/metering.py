"""What the infra layer hands the platform layer's quota policy: its resources that hold team capacity.

`team-quotas` must judge a team's whole use of an environment, but after the split (docs/LAYERS.md) its GPU pools
and VMs are in the infra stack and its profile quota in the platform stack. The infra layer therefore exports,
as `meteredResources`, the inputs of each resource the quota pack meters (policies/usage.py `METERED_TYPES`), taken
by a stack transform as they are registered; the platform layer's StackReference carries them to the pack, which
meters them with its own resources by the same code. Exported as a secret: cloud-init and vApp properties may
hold credentials.
"""

from __future__ import annotations

from typing import Any

import pulumi

from policies.usage import METERED_OUTPUT, METERED_TYPES


class MeteredResources:
    """Registers the transform; `export` once the program has registered everything."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        pulumi.runtime.register_resource_transform(self._take)

    def _take(self, args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if args.type_ in METERED_TYPES:
            self.seen.append({"type": args.type_, "urn": f"{args.type_}::{args.name}", "props": dict(args.props)})
        return None

    def export(self) -> None:
        pulumi.export(METERED_OUTPUT, pulumi.Output.secret(self.seen))
