"""API groups the cluster serves on its own, so a custom kind of theirs needs no CRD in the rendering.

The one list of them, with why. A kind of any other group with no CRD in the rendering is a finding: the API server
would answer "no matches for kind".
"""

from __future__ import annotations

SUPERVISOR_GROUPS: dict[str, str] = {
    "cluster.x-k8s.io": "Cluster API, installed by the Supervisor's TKG Service (Cluster, MachineDeployment, ...)",
    "run.tanzu.vmware.com": "TKG Service itself (TanzuKubernetesCluster, TanzuKubernetesRelease)",
    "vmoperator.vmware.com": "VM Service of the Supervisor (VirtualMachine, VirtualMachineClass, images)",
    "topology.tanzu.vmware.com": "the Supervisor's availability zones",
    "cns.vmware.com": "Cloud Native Storage on the Supervisor",
    "addons.kubernetes.vmware.com": "VKS add-on management on the Supervisor",
}
"""Served by the vSphere Supervisor (cluster "" of a rendering)."""

WORKLOAD_CLUSTER_GROUPS: dict[str, str] = {
    "run.tanzu.vmware.com": "VKS installs its own CRDs (e.g. KappControllerConfig) in every workload cluster",
    "cns.vmware.com": "the vSphere CSI driver's CRDs, installed with every VKS workload cluster",
    "snapshot.storage.k8s.io": "the CSI snapshot CRDs VKS ships with the vSphere CSI driver (TKr 1.26 and later)",
}
"""Served by every VKS (TKG Service) workload cluster before anything of this project is applied."""


def served_by_cluster(cluster: str, group: str) -> str | None:
    """Why the cluster serves `group` itself, or None when it does not."""
    return (SUPERVISOR_GROUPS if cluster == "" else WORKLOAD_CLUSTER_GROUPS).get(group)
