"""The two layers of an environment (docs/LAYERS.md) and how a stack's name and config select one.

`<env>-infra` is the vSphere administrators' layer (libraries, VM classes, namespaces, VMs, GPU pools,
workload clusters); `<env>-platform` the platform team's (GPU Operator, Kubeflow, teams), whose cluster
providers are built from the infra stack's `clusters` export so that they are known at its preview. A stack
without `kubeflow-vsphere:layer` is the whole environment in one stack, as before the split.
"""

from __future__ import annotations

from typing import Literal

import pulumi
import pulumi_kubernetes as k8s

from infra import paths

Layer = Literal["infra", "platform"]
LAYERS: tuple[Layer, ...] = ("infra", "platform")
CLUSTERS_OUTPUT = "clusters"
"""The infra stack's export: per cluster `{"kubeconfig": <secret>, "namespace": <Supervisor namespace>}`."""


def environment_of(stack: str, layer: Layer | None) -> str:
    """The environment a stack belongs to: `dev-infra` and `dev-platform` are both `dev`.

    Resource names, labels and team files follow the environment, not the stack, so a resource moved from the
    one-stack layout keeps its URN apart from the stack name (docs/LAYERS.md: moving an existing environment).
    """
    suffix = f"-{layer}" if layer else ""
    return stack.removesuffix(suffix) if suffix and stack.endswith(suffix) else stack


def layer_stack(environment: str, layer: Layer) -> str:
    """The stack of one layer of an environment."""
    return f"{environment}-{layer}"


def default_infra_stack(environment: str, organization: str | None) -> str:
    """`<org>/kubeflow-vsphere/<env>-infra`; on a self-managed backend without an org, `organization`."""
    return f"{organization or 'organization'}/{paths.PROJECT_NAME}/{layer_stack(environment, 'infra')}"


class InfraReference:
    """The platform layer's view of its infra stack: one provider per workload cluster, from its kubeconfig."""

    def __init__(self, name: str, infra_stack: str, parent: pulumi.Resource) -> None:
        self.infra_stack = infra_stack
        self.ref = pulumi.StackReference(name, stack_name=infra_stack, opts=pulumi.ResourceOptions(parent=parent))
        # require_output, not get_output: a missing export fails the program with its name instead of yielding
        # an empty kubeconfig, with which the provider would fall back to the ambient $KUBECONFIG.
        self.clusters = self.ref.require_output(CLUSTERS_OUTPUT)

    def kubeconfig(self, cluster: str) -> pulumi.Output[str]:
        """The cluster's admin kubeconfig, still a secret; a cluster the infra stack lacks fails by name."""

        def pick(clusters: dict[str, dict[str, str]]) -> str:
            if cluster not in clusters:
                raise pulumi.RunError(
                    f"the infra stack {self.infra_stack} exports no cluster {cluster} (it has "
                    f"{', '.join(sorted(clusters)) or 'none'}): run `pulumi up` on it first, or fix clusters[].name"
                )
            return str(clusters[cluster]["kubeconfig"])

        return pulumi.Output.secret(self.clusters.apply(pick))

    def provider(self, cluster: str, parent: pulumi.Resource) -> k8s.Provider:
        """Named as in the one-stack layout (`<cluster>-provider`), with an alias for its old parent (the
        `WorkloadCluster`, which stays in the infra layer), so objects moved with `pulumi state move` keep it."""
        return k8s.Provider(
            f"{cluster}-provider",
            kubeconfig=self.kubeconfig(cluster),
            opts=pulumi.ResourceOptions(parent=parent, aliases=[pulumi.Alias(parent=workload_cluster_urn(cluster))]),
        )


PLATFORM_TYPE = "kubeflow-vsphere:index:Platform"
WORKLOAD_CLUSTER_TYPE = "kubeflow-vsphere:tanzu:WorkloadCluster"


def workload_cluster_urn(cluster: str) -> str:
    """The URN a cluster's `WorkloadCluster` had in this stack before the split: the old parent of what moved."""
    return (
        f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{PLATFORM_TYPE}${WORKLOAD_CLUSTER_TYPE}::{cluster}"
    )
