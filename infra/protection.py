"""What `protect` covers in prod: exactly the resources that hold state, never whole components.

`protect` set on a component is inherited by every child, so RoleBindings, AuthorizationPolicies,
PodDefaults, LimitRanges, charts, Secrets and providers became undeletable and removing a team member
failed `pulumi up`. The components this project owns take a `protect` flag and set it on their stateful
child only (VM, content library, vSphere Namespace, cluster object, VM Service VM). A team's tenancy
(components/tenancy.py) gets the transformation below, which protects its Profile and Namespace only.
"""

from __future__ import annotations

from collections.abc import Collection

import pulumi

PROFILE = "kubernetes:kubeflow.org/v1:Profile"
NAMESPACE = "kubernetes:core/v1:Namespace"
TEAM_STATEFUL_TYPES = frozenset({PROFILE, NAMESPACE})
"""A team's Profile and its namespace (notebooks' volumes live there); nothing else of the team's."""


def protect_types(types: Collection[str]) -> pulumi.ResourceTransformation:
    """A transformation (run in the SDK, for every child of the resource it is given to) protecting `types`."""

    def protect(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if args.type_ not in types:
            return None
        return pulumi.ResourceTransformationResult(
            args.props, pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(protect=True))
        )

    return protect
