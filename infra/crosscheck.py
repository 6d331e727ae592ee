"""Checks that span keys: names that must refer to something declared elsewhere, and capacity."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from components.kubeflow.dependencies import missing_prerequisites
from components.vsphere.allocation import HostDevices, capacity, shortfall
from infra.errors import Problem
from infra.models.cluster import ClusterSettings
from infra.models.compute import NamespaceSettings, PassthroughPool, VgpuPool, VmClassSettings
from infra.models.inventory import VsphereSettings
from infra.models.kubeflow import KubeflowSettings
from infra.models.team import Team, TeamEnvironment

_VSPHERE = "kubeflow-vsphere:vsphere"
_CLUSTERS = "kubeflow-vsphere:clusters"


@dataclass
class _Findings:
    """Problems of one file; `teams` is None when team files were broken (team references not judged)."""

    file: str
    teams: set[str] | None
    problems: list[Problem] = field(default_factory=list[Problem])

    def add(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.file, key, message))

    def need(self, value: str | None, declared: Iterable[str] | None, key: str, what: str, where: str = "") -> None:
        """`value` must be one of `declared` (skipped when either is unknown)."""
        if value is None or declared is None:
            return
        options = sorted(set(declared))
        if value not in options:
            self.add(key, f"unknown {what} '{value}'{where}; declared: {', '.join(options) or 'none'}")

    def unique(self, key: str, names: Sequence[str]) -> None:
        for name, count in sorted(Counter(names).items()):
            if count > 1:
                self.add(key, f"name '{name}' is used {count} times; names must be unique")


def storage_class_name(policy: str) -> str:
    """The Kubernetes StorageClass name the Supervisor derives from a storage policy's name."""
    return re.sub(r"[^a-z0-9-]+", "-", policy.lower()).strip("-")


def check_vsphere(vs: VsphereSettings, teams: Iterable[str] | None, file: str) -> list[Problem]:
    """Every reference in the vsphere section resolves, names are unique, and pools fit their hosts."""
    f = _Findings(file, set(teams) if teams is not None else None)
    f.unique(f"{_VSPHERE}.vmClasses", [c.name for c in vs.vm_classes])
    f.unique(f"{_VSPHERE}.namespaces", [n.name for n in vs.namespaces])
    f.unique(f"{_VSPHERE}.vms", [v.name for v in vs.vms] + [p.name for p in vs.gpu_pools])
    libraries = [lib.name for lib in vs.content_libraries]
    f.unique(f"{_VSPHERE}.contentLibraries", libraries)
    for i, ns in enumerate(vs.namespaces):
        key = f"{_VSPHERE}.namespaces[{i}]"
        f.need(ns.team, f.teams, f"{key}.team", "team")
        for j, cls in enumerate(ns.vm_classes):
            f.need(cls, [c.name for c in vs.vm_classes], f"{key}.vmClasses[{j}]", "VM class")
        for j, lib in enumerate(ns.content_libraries):
            f.need(lib, libraries, f"{key}.contentLibraries[{j}]", "content library")
        for j, policy in enumerate(ns.storage_policies):
            f.need(policy, vs.storage_policies, f"{key}.storagePolicies[{j}]", "storage policy")
    networks = ["management"] + (["workload"] if vs.networks.workload else [])
    for i, vm in enumerate(vs.vms):
        f.need(vm.team, f.teams, f"{_VSPHERE}.vms[{i}].team", "team")
        f.need(vm.network, networks, f"{_VSPHERE}.vms[{i}].network", "network role (set vsphere.networks)")
        f.need(
            vm.template.content_library, libraries, f"{_VSPHERE}.vms[{i}].template.contentLibrary", "content library"
        )
    for i, pool in enumerate(vs.gpu_pools):
        key = f"{_VSPHERE}.gpuPools[{i}]"
        f.need(pool.team, f.teams, f"{key}.team", "team")
        if isinstance(pool, VgpuPool):
            _vgpu_pool(f, pool, key, vs)
        else:
            f.need(pool.template.content_library, libraries, f"{key}.template.contentLibrary", "content library")
            _passthrough_pool(f, pool, key)
    _devices_used_once(f, vs)
    return f.problems


def _vgpu_pool(f: _Findings, pool: VgpuPool, key: str, vs: VsphereSettings) -> None:
    classes = {c.name: c for c in vs.vm_classes}
    namespaces = {n.name: n for n in vs.namespaces}
    f.need(pool.vm_class, classes, f"{key}.vmClass", "VM class")
    f.need(pool.namespace, namespaces, f"{key}.namespace", "namespace")
    cls, ns = classes.get(pool.vm_class), namespaces.get(pool.namespace)
    if cls is not None and not cls.vgpu_devices:
        f.add(f"{key}.vmClass", f"VM class '{cls.name}' has no vgpuDevices; a vGPU pool needs a vGPU class")
    if ns is not None and pool.vm_class not in ns.vm_classes:
        f.add(
            f"{key}.vmClass",
            f"VM class '{pool.vm_class}' is not bound to namespace '{ns.name}'; add it to its vmClasses",
        )


def _passthrough_pool(f: _Findings, pool: PassthroughPool, key: str) -> None:
    for j, host in enumerate(pool.hosts):
        for device, count in sorted(Counter(host.devices).items()):
            if count > 1:
                f.add(f"{key}.hosts[{j}].devices", f"device {device} is listed {count} times on host {host.name}")
    hosts = [HostDevices(host=h.name, devices=tuple(dict.fromkeys(h.devices))) for h in pool.hosts]
    if capacity(hosts, pool.gpus_per_vm) < pool.replicas:
        f.add(f"{key}.replicas", f"pool '{pool.name}' {shortfall(hosts, pool.replicas, pool.gpus_per_vm)}")


def _devices_used_once(f: _Findings, vs: VsphereSettings) -> None:
    owners: dict[tuple[str, str], str] = {}
    for i, pool in enumerate(vs.gpu_pools):
        if not isinstance(pool, PassthroughPool):
            continue
        for host in pool.hosts:
            for device in dict.fromkeys(host.devices):
                other = owners.setdefault((host.name, device), pool.name)
                if other != pool.name:
                    f.add(
                        f"{_VSPHERE}.gpuPools[{i}].hosts",
                        f"device {device} on host {host.name} is already given to pool '{other}'",
                    )


def check_clusters(
    clusters: Sequence[ClusterSettings], vs: VsphereSettings, teams: Iterable[str] | None, file: str
) -> list[Problem]:
    """Each cluster's namespace, VM classes and storage classes exist and fit; GPU pools are GPU-ready."""
    f = _Findings(file, set(teams) if teams is not None else None)
    f.unique(_CLUSTERS, [c.name for c in clusters])
    namespaces = {n.name: n for n in vs.namespaces}
    classes = {c.name: c for c in vs.vm_classes}
    for i, cluster in enumerate(clusters):
        key = f"{_CLUSTERS}[{i}]"
        ns = namespaces.get(cluster.namespace)
        if ns is None:
            f.need(cluster.namespace, namespaces, f"{key}.namespace", "namespace (vsphere.namespaces)")
            continue
        storage = sorted(storage_class_name(p) for p in ns.storage_policies)
        _bound(f, f"{key}.controlPlane.vmClass", cluster.control_plane.vm_class, ns.vm_classes, ns.name)
        f.need(cluster.storage_class, storage, f"{key}.storageClass", "storage class", f" in namespace '{ns.name}'")
        f.need(
            cluster.control_plane.storage_class,
            storage,
            f"{key}.controlPlane.storageClass",
            f"storage class of namespace '{ns.name}'",
        )
        f.unique(f"{key}.nodePools", [p.name for p in cluster.node_pools])
        for j, pool in enumerate(cluster.node_pools):
            pkey = f"{key}.nodePools[{j}]"
            _bound(f, f"{pkey}.vmClass", pool.vm_class, ns.vm_classes, ns.name)
            f.need(pool.storage_class, storage, f"{pkey}.storageClass", "storage class", f" in namespace '{ns.name}'")
            f.need(pool.team, f.teams, f"{pkey}.team", "team")
            _gpu_fit(f, pkey, pool.name, pool.gpu, classes.get(pool.vm_class))
        if any(p.gpu for p in cluster.node_pools) and (
            cluster.gpu_operator is None or not cluster.gpu_operator.enabled
        ):
            f.add(f"{key}.gpuOperator", "the cluster has GPU node pools: enable gpuOperator so their GPUs get drivers")
    return f.problems


def _bound(f: _Findings, key: str, vm_class: str, bound: Sequence[str], namespace: str) -> None:
    if vm_class not in bound:
        f.add(key, f"VM class '{vm_class}' is not bound to namespace '{namespace}'; bound: {', '.join(sorted(bound))}")


def _gpu_fit(f: _Findings, key: str, pool: str, gpu: bool, cls: VmClassSettings | None) -> None:
    if cls is None:
        return
    if gpu and not cls.vgpu_devices:
        f.add(
            f"{key}.vmClass",
            f"GPU pool '{pool}' uses VM class '{cls.name}', which has no vgpuDevices; pick a vGPU class",
        )
    if not gpu and cls.vgpu_devices:
        f.add(
            f"{key}.gpu",
            f"pool '{pool}' uses the vGPU class '{cls.name}': set gpu: true so it gets drivers and the GPU taint",
        )


def check_kubeflow(
    kf: KubeflowSettings | None, clusters: Sequence[ClusterSettings], tier: str, file: str
) -> list[Problem]:
    """Kubeflow's cluster exists, every enabled component has its prerequisites, and labs stay labs."""
    if kf is None:
        return []
    f = _Findings(file, None)
    key = "kubeflow-vsphere:kubeflow"
    f.need(kf.cluster, [c.name for c in clusters], f"{key}.cluster", "cluster (clusters)")
    for component, missing in missing_prerequisites(kf.components.enabled(), kf.serving.raw_deployment).items():
        f.add(
            f"{key}.components.{component}",
            f"needs {', '.join(missing)}: enable {' and '.join(missing)} or turn {component} off",
        )
    if kf.auth.mode == "staticUser" and tier == "prod":
        f.add(f"{key}.auth.mode", "staticUser is for labs: use oidc or ldap in prod")
    return f.problems


@dataclass(frozen=True)
class TeamContext:
    """What a team file's requests are checked against: this stack and what it declares."""

    stack: str
    stacks: list[str]
    kubeflow: KubeflowSettings | None
    clusters: Sequence[ClusterSettings]
    vsphere: VsphereSettings


def check_team_requests(teams: Sequence[Team], files: Mapping[str, str], ctx: TeamContext) -> list[Problem]:
    """Each team file names real environments, and what it asks for here fits what the stack offers."""
    problems: list[Problem] = []
    namespaces = {n.name: n for n in ctx.vsphere.namespaces}
    classes = {c.name: c for c in ctx.vsphere.vm_classes}
    for team in teams:
        f = _Findings(files[team.name], None)
        for env in team.environments:
            f.need(env, ctx.stacks, f"environments.{env}", "environment (a stack under stacks/)")
        request = team.environments.get(ctx.stack)
        if request is not None:
            _team_request(f, request, key=f"environments.{ctx.stack}", ctx=ctx, namespaces=namespaces, classes=classes)
            _own_namespace(f, team.name, request, f"environments.{ctx.stack}", ctx.vsphere)
        problems += f.problems
    return problems


def _team_request(
    f: _Findings,
    request: TeamEnvironment,
    *,
    key: str,
    ctx: TeamContext,
    namespaces: Mapping[str, NamespaceSettings],
    classes: Mapping[str, VmClassSettings],
) -> None:
    kf = ctx.kubeflow
    if (request.profile or request.gpu_node_pool) and kf is None:
        f.add(key, f"stack '{ctx.stack}' runs no Kubeflow: drop profile/gpuNodePool here or ask for Kubeflow there")
    if kf is not None and request.profile and "profiles" not in kf.components.enabled():
        f.add(f"{key}.profile", f"Kubeflow profiles are turned off in stack '{ctx.stack}'")
    cluster = next((c for c in ctx.clusters if kf is not None and c.name == kf.cluster), None)
    if request.gpu_node_pool is not None and cluster is not None:
        _vgpu_class(
            f, f"{key}.gpuNodePool.vmClass", request.gpu_node_pool.vm_class, classes, namespaces.get(cluster.namespace)
        )
    vms = request.gpu_vms
    if vms is not None:
        f.need(vms.namespace, namespaces, f"{key}.gpuVms.namespace", "namespace")
        ns = namespaces.get(vms.namespace)
        if ns is not None:
            _vgpu_class(f, f"{key}.gpuVms.vmClass", vms.vm_class, classes, ns)
            storage = [storage_class_name(p) for p in ns.storage_policies]
            f.need(
                vms.storage_class, storage, f"{key}.gpuVms.storageClass", "storage class", f" in namespace '{ns.name}'"
            )


def _own_namespace(f: _Findings, team: str, request: TeamEnvironment, key: str, vs: VsphereSettings) -> None:
    """A team's GPU VMs go to a shared Supervisor namespace or one the stack gives that team, never another's."""
    if request.gpu_vms is None:
        return
    for i, ns in enumerate(vs.namespaces):
        if ns.name == request.gpu_vms.namespace and ns.team not in (None, team):
            f.add(
                f"{key}.gpuVms.namespace",
                f"Supervisor namespace '{ns.name}' belongs to team '{ns.team}' ({_VSPHERE}.namespaces[{i}].team); "
                "use a shared namespace or one the stack gives this team",
            )


def _vgpu_class(
    f: _Findings, key: str, name: str, classes: Mapping[str, VmClassSettings], ns: NamespaceSettings | None
) -> None:
    f.need(name, classes, key, "VM class")
    cls = classes.get(name)
    if cls is not None and not cls.vgpu_devices:
        f.add(key, f"VM class '{name}' has no vgpuDevices; GPU requests need a vGPU class")
    if cls is not None and ns is not None and name not in ns.vm_classes:
        f.add(
            key, f"VM class '{name}' is not bound to namespace '{ns.name}'; bound: {', '.join(sorted(ns.vm_classes))}"
        )
