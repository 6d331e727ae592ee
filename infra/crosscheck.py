"""Checks that span keys: names that must refer to something declared elsewhere, and capacity."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from components.vsphere.allocation import HostDevices, capacity, shortfall
from infra.errors import Problem
from infra.models.compute import NamespaceSettings, PassthroughPool, VgpuPool, VmClassSettings
from infra.models.inventory import VsphereSettings

_PREFIX = "kubeflow-vsphere:vsphere"


def check_vsphere(vs: VsphereSettings, teams: Iterable[str] | None, file: str) -> list[Problem]:
    """Every reference in the vsphere section resolves, names are unique, and pools fit their hosts.

    `teams` is None when the team files could not all be read: team references are not judged then.
    """
    known_teams = set(teams) if teams is not None else None
    problems: list[Problem] = []

    def need(value: str | None, allowed: Iterable[str] | None, key: str, what: str) -> None:
        if allowed is None:
            return
        options = sorted(set(allowed))
        if value is not None and value not in options:
            problems.append(
                Problem(file, f"{_PREFIX}.{key}", f"unknown {what} '{value}'; declared: {', '.join(options) or 'none'}")
            )

    problems += _unique(file, "vmClasses", [c.name for c in vs.vm_classes])
    problems += _unique(file, "namespaces", [n.name for n in vs.namespaces])
    problems += _unique(file, "vms", [v.name for v in vs.vms] + [p.name for p in vs.gpu_pools], "vms/gpuPools")
    libraries = [lib.name for lib in vs.content_libraries]
    classes = {c.name: c for c in vs.vm_classes}
    namespaces = {n.name: n for n in vs.namespaces}
    for i, ns in enumerate(vs.namespaces):
        need(ns.team, known_teams, f"namespaces[{i}].team", "team")
        for j, cls in enumerate(ns.vm_classes):
            need(cls, classes, f"namespaces[{i}].vmClasses[{j}]", "VM class")
        for j, lib in enumerate(ns.content_libraries):
            need(lib, libraries, f"namespaces[{i}].contentLibraries[{j}]", "content library")
        for j, policy in enumerate(ns.storage_policies):
            need(policy, vs.storage_policies, f"namespaces[{i}].storagePolicies[{j}]", "storage policy")
    networks = ["management"] + (["workload"] if vs.networks.workload else [])
    for i, vm in enumerate(vs.vms):
        need(vm.team, known_teams, f"vms[{i}].team", "team")
        need(vm.network, networks, f"vms[{i}].network", "network role (set vsphere.networks)")
        need(vm.template.content_library, libraries, f"vms[{i}].template.contentLibrary", "content library")
    for i, pool in enumerate(vs.gpu_pools):
        key = f"gpuPools[{i}]"
        need(pool.team, known_teams, f"{key}.team", "team")
        if isinstance(pool, VgpuPool):
            problems += _check_vgpu_pool(pool, key, classes, namespaces, file)
        else:
            need(pool.template.content_library, libraries, f"{key}.template.contentLibrary", "content library")
            problems += _check_passthrough_pool(pool, key, file)
    problems += _devices_used_once(vs, file)
    return problems


def _unique(file: str, key: str, names: Sequence[str], what: str | None = None) -> list[Problem]:
    return [
        Problem(file, f"{_PREFIX}.{key}", f"name '{name}' is used {count} times in {what or key}; names must be unique")
        for name, count in sorted(Counter(names).items())
        if count > 1
    ]


def _check_vgpu_pool(
    pool: VgpuPool, key: str, classes: dict[str, VmClassSettings], namespaces: dict[str, NamespaceSettings], file: str
) -> list[Problem]:
    problems: list[Problem] = []
    cls = classes.get(pool.vm_class)
    ns = namespaces.get(pool.namespace)
    if cls is None:
        problems.append(
            Problem(
                file,
                f"{_PREFIX}.{key}.vmClass",
                f"unknown VM class '{pool.vm_class}'; declared: {', '.join(sorted(classes)) or 'none'}",
            )
        )
    elif not cls.vgpu_devices:
        problems.append(
            Problem(
                file,
                f"{_PREFIX}.{key}.vmClass",
                f"VM class '{cls.name}' has no vgpuDevices; a vGPU pool needs a vGPU class",
            )
        )
    if ns is None:
        problems.append(
            Problem(
                file,
                f"{_PREFIX}.{key}.namespace",
                f"unknown namespace '{pool.namespace}'; declared: {', '.join(sorted(namespaces)) or 'none'}",
            )
        )
    elif pool.vm_class not in ns.vm_classes:
        problems.append(
            Problem(
                file,
                f"{_PREFIX}.{key}.vmClass",
                f"VM class '{pool.vm_class}' is not bound to namespace '{ns.name}'; "
                "add it to that namespace's vmClasses",
            )
        )
    return problems


def _check_passthrough_pool(pool: PassthroughPool, key: str, file: str) -> list[Problem]:
    problems: list[Problem] = []
    for j, host in enumerate(pool.hosts):
        for device, count in sorted(Counter(host.devices).items()):
            if count > 1:
                problems.append(
                    Problem(
                        file,
                        f"{_PREFIX}.{key}.hosts[{j}].devices",
                        f"device {device} is listed {count} times on host {host.name}",
                    )
                )
    hosts = [HostDevices(h.name, tuple(dict.fromkeys(h.devices))) for h in pool.hosts]
    if capacity(hosts, pool.gpus_per_vm) < pool.replicas:
        problems.append(
            Problem(
                file,
                f"{_PREFIX}.{key}.replicas",
                f"pool '{pool.name}' {shortfall(hosts, pool.replicas, pool.gpus_per_vm)}",
            )
        )
    return problems


def _devices_used_once(vs: VsphereSettings, file: str) -> list[Problem]:
    owners: dict[tuple[str, str], str] = {}
    problems: list[Problem] = []
    for i, pool in enumerate(vs.gpu_pools):
        if not isinstance(pool, PassthroughPool):
            continue
        for host in pool.hosts:
            for device in dict.fromkeys(host.devices):
                other = owners.setdefault((host.name, device), pool.name)
                if other != pool.name:
                    problems.append(
                        Problem(
                            file,
                            f"{_PREFIX}.gpuPools[{i}].hosts",
                            f"device {device} on host {host.name} is already given to pool '{other}'",
                        )
                    )
    return problems
