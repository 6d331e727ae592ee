"""Rule `pod-security`: every pod template against its namespace's enforced level, after Istio injection.

The level is the namespace's `pod-security.kubernetes.io/enforce` label; without one, the cluster's default.
VKS default (VMware, "Configure PSA for TKR 1.25 and Later", vSphere 8 TKG Service docs, GUID-B57DA879): TKr 1.25
only warns, and "starting with TKr v1.26, PSA is enforced", at `restricted`, with VKS's own system namespaces
exempt; from vSphere 8 U3 the cluster's `podSecurityStandard` ClusterClass variable sets the default instead
(`enforce`, `deactivated`, `exemptions.namespaces`), which is read from the Cluster object when the rendering has it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from infra.kfvs.lint import injection, pss
from infra.kfvs.lint.finding import Finding
from infra.kfvs.lint.model import Obj, Platform, as_dict, as_list, pod_template

RULE = "pod-security"
ENFORCE = "pod-security.kubernetes.io/enforce"

VKS_ENFORCING_FROM = (1, 26)
VKS_DEFAULT_LEVEL = "restricted"
VKS_EXEMPT_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease", "tkg-system"})
VKS_EXEMPT_PREFIXES = ("vmware-system-",)


@dataclass(frozen=True)
class Default:
    level: str
    why: str
    exempt: frozenset[str] = frozenset()


def cluster_default(platform: Platform, cluster: str) -> Default:
    """The level of a namespace without an enforce label, in `cluster`."""
    for c in platform.of_kind("cluster.x-k8s.io", "Cluster"):
        if c.name != cluster:
            continue
        for variable in as_list(as_dict(c.spec.get("topology")).get("variables")):
            if as_dict(variable).get("name") == "podSecurityStandard":
                value = as_dict(as_dict(variable).get("value"))
                exempt = frozenset(str(n) for n in as_list(as_dict(value.get("exemptions")).get("namespaces")))
                if value.get("deactivated") is True:
                    return Default("privileged", "the cluster's podSecurityStandard is deactivated", exempt)
                level = str(value.get("enforce") or VKS_DEFAULT_LEVEL)
                return Default(level, f"the cluster's podSecurityStandard enforces {level}", exempt)
    major, _, minor = platform.kubernetes_version.partition(".")
    version = (int(major or 0), int(minor.partition(".")[0] or 0))
    if version >= VKS_ENFORCING_FROM:
        return Default(VKS_DEFAULT_LEVEL, f"VKS enforces {VKS_DEFAULT_LEVEL} by default from TKr 1.26")
    return Default("privileged", f"TKr {platform.kubernetes_version} does not enforce Pod Security by default")


def level_of(platform: Platform, cluster: str, namespace: str) -> tuple[str, str]:
    """(enforced level, where it comes from) of one namespace."""
    labels = platform.namespace_labels(cluster, namespace)
    if ENFORCE in labels:
        return labels[ENFORCE], f"namespace {namespace} enforces {labels[ENFORCE]}"
    if cluster == "":
        return "privileged", "the Supervisor"
    default = cluster_default(platform, cluster)
    if namespace in VKS_EXEMPT_NAMESPACES or namespace.startswith(VKS_EXEMPT_PREFIXES) or namespace in default.exempt:
        return "privileged", f"namespace {namespace} is exempt"
    return default.level, f"namespace {namespace} has no enforce label and {default.why}"


def check(platform: Platform) -> Iterator[Finding]:
    mesh = injection.mesh(platform)
    for obj in platform.objects:
        template = pod_template(obj)
        if template is None:
            continue
        finding = judge(platform, mesh, obj, *template)
        if finding:
            yield finding


def judge(
    platform: Platform, mesh: injection.Mesh, obj: Obj, meta: dict[str, Any], spec: dict[str, Any]
) -> Finding | None:
    namespace = obj.namespace or "default"
    level, why = level_of(platform, obj.cluster, namespace)
    admitted, was_injected = injection.admitted_spec(platform, mesh, obj, meta, spec)
    reasons = pss.violations(level, meta, admitted)
    if not reasons:
        return None
    own = pss.violations(level, meta, spec)
    after = ""
    if was_injected:
        after = f" after Istio sidecar injection {'with' if mesh.cni else 'without'} CNI ({mesh.why})"
    message = f'pods violate PodSecurity "{level}"{after} ({why}): {", ".join(reasons)}'
    return Finding(
        RULE,
        obj.kind,
        obj.namespace,
        obj.name,
        message.replace(";", ","),
        _fix(level, own, was_injected, mesh),
        obj.component,
    )


def _fix(level: str, own: list[str], was_injected: bool, mesh: injection.Mesh) -> str:
    if was_injected and not own:
        if not mesh.cni:
            return (
                "install Istio with CNI (istio-cni) so the injected istio-init is not needed, "
                f"or lower the namespace's level below {level}"
            )
        return "set a pod-level securityContext.seccompProfile of RuntimeDefault so the injected containers inherit it"
    return f"give the pod template a securityContext that meets {level}, or label the namespace with the level it needs"
