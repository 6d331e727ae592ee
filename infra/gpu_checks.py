"""Checks of what VMware and NVIDIA accept together: ClusterClass variables, NVAIE versions, vGPU profiles.

Each is a mistake the API server or the hardware would only report after `pulumi up` (a Cluster that
Cluster API rejects, a guest driver that does not load under the hosts' vGPU Manager, a vGPU profile of
another GPU): here it is one config error naming the key and the fix.
"""

from __future__ import annotations

from collections.abc import Sequence

from components.catalog import NVAIE_RELEASES, NvaieRelease
from components.tanzu.classes import CLUSTER_CLASSES, cluster_class
from components.vsphere.gpus import GPU_BOARDS, board_of, gpu_board
from components.vsphere.guest_driver import is_cloud_config
from infra.errors import Problem
from infra.models.cluster import ClusterSettings, GpuOperatorSettings
from infra.models.compute import PassthroughPool, VgpuPool
from infra.models.inventory import VsphereSettings

_CLUSTERS = "kubeflow-vsphere:clusters"
_VSPHERE = "kubeflow-vsphere:vsphere"


def branch(version: str) -> int:
    """`580.95.05` -> 580: NVIDIA driver versions start with their release branch."""
    return int(version.split(".", 1)[0])


def nvaie_release(major: int) -> NvaieRelease | None:
    """The catalog's row for an NVAIE major release, if the table has one."""
    return next((r for r in NVAIE_RELEASES if r.major == major), None)


def check_gpu_config(clusters: Sequence[ClusterSettings], vs: VsphereSettings, file: str) -> list[Problem]:
    """Every cluster's class and GPU Operator, and the vGPU profiles against the GPUs the stack declares."""
    problems: list[Problem] = []
    for i, cluster in enumerate(clusters):
        key = f"{_CLUSTERS}[{i}]"
        problems += _cluster_class(cluster, key, file)
        if cluster.gpu_operator is not None and cluster.gpu_operator.enabled:
            problems += _nvaie(cluster.gpu_operator, f"{key}.gpuOperator", file)
    problems += _vgpu_profiles(vs, file)
    problems += _passthrough_models(vs, file)
    problems += _guest_drivers(clusters, vs, file)
    return problems


def _guest_drivers(clusters: Sequence[ClusterSettings], vs: VsphereSettings, file: str) -> list[Problem]:
    """A VM's guest driver is on the hosts' vGPU Manager branch, and merges into a `#cloud-config`."""
    hosts = sorted(
        {c.gpu_operator.host_vgpu_manager for c in clusters if c.gpu_operator is not None and c.gpu_operator.enabled}
    )
    problems: list[Problem] = []
    for i, pool in enumerate(vs.gpu_pools):
        if not isinstance(pool, VgpuPool) or pool.guest_driver is None:
            continue
        key = f"{_VSPHERE}.gpuPools[{i}]"
        version = pool.guest_driver.version
        for host in hosts:
            if branch(host) != branch(version):
                problems.append(
                    Problem(
                        file,
                        f"{key}.guestDriver.version",
                        f"guest driver {version} is on the R{branch(version)} branch, but the hosts' vGPU Manager "
                        f"is {host} (gpuOperator.hostVgpuManager): use a {branch(host)}.x guest driver",
                    )
                )
        if pool.cloud_init is not None and not is_cloud_config(pool.cloud_init.user_data):
            problems.append(
                Problem(
                    file,
                    f"{key}.cloudInit.userData",
                    "with guestDriver the user data must be a '#cloud-config' mapping (the driver install and "
                    "licensing are merged into it)",
                )
            )
    return problems


def _passthrough_models(vs: VsphereSettings, file: str) -> list[Problem]:
    """A passthrough pool's `gpuModel` names a known board whose framebuffer is the pool's `gpuMemoryGiB`."""
    problems: list[Problem] = []
    for i, pool in enumerate(vs.gpu_pools):
        if not isinstance(pool, PassthroughPool):
            continue
        key = f"{_VSPHERE}.gpuPools[{i}]"
        if pool.template.firmware == "bios":
            problems.append(
                Problem(
                    file,
                    f"{key}.template.firmware",
                    "passthrough GPUs with large BARs need EFI firmware (64-bit MMIO): clone from an EFI template",
                )
            )
        board = gpu_board(pool.gpu_model)
        if board is None:
            problems.append(
                Problem(
                    file,
                    f"{key}.gpuModel",
                    f"unknown GPU '{pool.gpu_model}'; known (vGPU board names): "
                    f"{', '.join(b.name for b in GPU_BOARDS)}",
                )
            )
        elif board.memory_gib != pool.gpu_memory_gib:
            problems.append(
                Problem(
                    file,
                    f"{key}.gpuMemoryGiB",
                    f"the {board.display} has {board.memory_gib} GB, not {pool.gpu_memory_gib}: set gpuMemoryGiB to "
                    f"{board.memory_gib} or gpuModel to the board the hosts carry",
                )
            )
    return problems


def _cluster_class(cluster: ClusterSettings, key: str, file: str) -> list[Problem]:
    if cluster.api == "tanzuKubernetesCluster":
        if cluster.default_registry_secret is not None:
            return [
                Problem(
                    file,
                    f"{key}.defaultRegistrySecret",
                    "a TanzuKubernetesCluster has no defaultRegistrySecret: remove it, or use api: clusterClass "
                    "with clusterClass tanzukubernetescluster",
                )
            ]
        return []
    if cluster.cluster_class not in CLUSTER_CLASSES:
        known = ", ".join(sorted(CLUSTER_CLASSES))
        return [
            Problem(
                file,
                f"{key}.clusterClass",
                f"unknown ClusterClass '{cluster.cluster_class}': each class defines its own variables and Cluster "
                f"API rejects undefined ones, so this program writes Clusters only for {known}; pick one of them",
            )
        ]
    if cluster_class(cluster.cluster_class).schema == "generic" and cluster.default_registry_secret is not None:
        return [
            Problem(
                file,
                f"{key}.defaultRegistrySecret",
                f"ClusterClass '{cluster.cluster_class}' defines no defaultRegistrySecret variable: remove it and "
                "trust the registry's CA with trustedCAs, or use tanzukubernetescluster / builtin-generic-v3.1.0",
            )
        ]
    return []


def _nvaie(operator: GpuOperatorSettings, key: str, file: str) -> list[Problem]:
    release = nvaie_release(operator.nvaie_major)
    if release is None:
        known = ", ".join(str(r.major) for r in NVAIE_RELEASES)
        return [
            Problem(
                file,
                f"{key}.nvaieRelease",
                f"NVIDIA AI Enterprise {operator.nvaie_release} is not in the compatibility table "
                f"(components/catalog.py NVAIE_RELEASES: {known}); use one of those or add its row, citing NVIDIA's "
                "release notes",
            )
        ]
    problems: list[Problem] = []
    expected = f"R{release.branch} (NVIDIA vGPU {release.vgpu_software}.x)"
    guest = operator.driver.version
    if branch(guest) != release.branch:
        problems.append(
            Problem(
                file,
                f"{key}.driver.version",
                f"guest driver {guest} is on the R{branch(guest)} branch, but NVAIE {release.major} ships {expected}: "
                f"set a {release.branch}.x guest driver of NVAIE {release.major}, or the nvaieRelease it belongs to",
            )
        )
    host = operator.host_vgpu_manager
    if branch(host) != release.branch:
        problems.append(
            Problem(
                file,
                f"{key}.hostVgpuManager",
                f"the ESXi hosts' NVIDIA Virtual GPU Manager {host} is on the R{branch(host)} branch; NVAIE "
                f"{release.major}'s guest driver needs {expected} on the hosts: upgrade the hosts' vGPU Manager to "
                f"a {release.branch}.x release, or set nvaieRelease to the release the hosts run",
            )
        )
    image = operator.driver.image
    if image is not None and image != release.guest_driver_image:
        problems.append(
            Problem(
                file,
                f"{key}.driver.image",
                f"NVAIE {release.major}'s guest driver image is '{release.guest_driver_image}', not '{image}': "
                "remove the key (the image is derived from nvaieRelease)",
            )
        )
    return problems


def _vgpu_profiles(vs: VsphereSettings, file: str) -> list[Problem]:
    """A profile must fit a GPU NVIDIA makes it for, and not name a board the stack's GPUs are not."""
    problems: list[Problem] = []
    passthrough = [(i, p) for i, p in enumerate(vs.gpu_pools) if isinstance(p, PassthroughPool)]
    for i, cls in enumerate(vs.vm_classes):
        for j, profile in enumerate(cls.vgpu_devices):
            key = f"{_VSPHERE}.vmClasses[{i}].vgpuDevices[{j}]"
            board = board_of(profile)
            known = gpu_board(board.name) if board else None
            if board is None or known is None:
                problems.append(
                    Problem(
                        file,
                        key,
                        f"'{profile}' is not a vGPU profile of a GPU this program knows (components/vsphere/gpus.py); "
                        "use the name vCenter lists under the host's Graphics > vGPU profiles",
                    )
                )
                continue
            if board.framebuffer_gib > known.memory_gib:
                problems.append(
                    Problem(
                        file,
                        key,
                        f"'{profile}' asks for {board.framebuffer_gib} GB of a {known.display}, which has "
                        f"{known.memory_gib} GB: pick a profile of at most {known.memory_gib} GB",
                    )
                )
            for k, pool in passthrough:
                other = gpu_board(pool.gpu_model)
                if other is not None and other.family == known.family and other.name != known.name:
                    problems.append(
                        Problem(
                            file,
                            key,
                            f"'{profile}' is a profile of the {known.display}, but gpuPools[{k}] ('{pool.name}') "
                            f"declares this stack's {known.family.upper()} GPUs as {other.display}: use the "
                            f"grid_{other.name}-... profiles",
                        )
                    )
    return problems
