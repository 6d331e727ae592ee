"""The program: validated settings in, the platform's resources out. Same code under the engine and kfvs."""

from __future__ import annotations

from pathlib import Path

import pulumi

from components.mirror import RegistryMirror
from infra import paths
from infra.layers import CLUSTERS_OUTPUT
from infra.metering import MeteredResources
from infra.platform import build_platform
from infra.settings import load_from_runtime


def main(root: Path = paths.PROJECT_ROOT) -> None:
    """Read all configuration first (raising ConfigError before anything is registered), then build."""
    settings = load_from_runtime(root)
    mirror = settings.registry_mirror
    if mirror is not None:
        # Before any resource: the engine applies stack transforms only to later registrations.
        pulumi.runtime.register_resource_transform(
            RegistryMirror(
                host=mirror.host, manifests=str(mirror.manifests).rstrip("/"), pull_secret=mirror.pull_secret
            ).transform()
        )
    metered = MeteredResources() if settings.layer == "infra" else None
    platform = build_platform(settings)
    if metered is not None:
        metered.export()
    if settings.layer != "platform":
        # What the platform layer's StackReference reads (infra/layers.py): each cluster's admin kubeconfig.
        pulumi.export(
            CLUSTERS_OUTPUT,
            {
                c.name: {
                    "kubeconfig": pulumi.Output.secret(platform.clusters[c.name].kubeconfig),
                    "namespace": c.namespace,
                }
                for c in settings.clusters
            },
        )
    if platform.kubeflow is not None and platform.kubeflow.static_password is not None:
        pulumi.export("staticUserPassword", pulumi.Output.secret(platform.kubeflow.static_password))
    if platform.kubeflow is not None:
        pulumi.export("kubeflowLongestChain", platform.kubeflow.longest_chain)
    if settings.layer is not None:
        pulumi.export("layer", settings.layer)
    pulumi.export("environment", settings.environment.tier)
    pulumi.export("teams", [t.name for t in settings.teams])
    pulumi.export("platform", platform.urn)
