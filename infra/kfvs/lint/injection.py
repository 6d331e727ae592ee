"""Istio sidecar injection as istiod's webhook applies it, so Pod Security is judged on the pod that is admitted.

The containers' security contexts are data taken from Istio 1.30.3,
manifests/charts/istio-control/istio-discovery/files/injection-template.yaml
(https://github.com/istio/istio/blob/1.30.3/manifests/charts/istio-control/istio-discovery/files/injection-template.yaml,
Apache-2.0), evaluated with the chart's defaults: `global.proxy.privileged: false`, `global.proxy.seccompProfile: {}`
(so no container-level seccomp profile), interception mode REDIRECT, no `capNetBindService`, proxy UID/GID 1337.
The platform runs the Istio of kubeflow/manifests 26.03 (1.28.0); that tag's template differs from 1.30.3's only in
resource-field divisors, quoting and telemetry attributes, not in any security context (`git diff 1.28.0 1.30.3`).
Which namespaces and pods are injected follows the chart's webhook selectors (`istio-injection: enabled`, or an
`istio.io/rev` label without `istio-injection`, or a pod labelled `sidecar.istio.io/inject: "true"`) and
pkg/kube/inject's exceptions (hostNetwork pods; kube-system and kube-public).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from infra.kfvs.lint.model import Obj, Platform, as_dict, as_list

ISTIO_INIT: dict[str, Any] = {
    "name": "istio-init",
    "securityContext": {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "capabilities": {"add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]},
        "readOnlyRootFilesystem": False,
        "runAsGroup": 0,
        "runAsNonRoot": False,
        "runAsUser": 0,
    },
}
"""The init container without CNI (`pilot.cni.enabled: false`): it writes the pod's iptables rules itself."""

ISTIO_VALIDATION: dict[str, Any] = {
    "name": "istio-validation",
    "securityContext": {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": True,
        "runAsGroup": 1337,
        "runAsUser": 1337,
        "runAsNonRoot": True,
    },
}
"""The init container with CNI (`pilot.cni.enabled: true`): it only checks the rules istio-cni wrote."""

ISTIO_PROXY: dict[str, Any] = {
    "name": "istio-proxy",
    "securityContext": {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": 1337,
        "runAsGroup": 1337,
    },
}
"""The sidecar (native sidecar or not, its security context is the same)."""

NEVER_INJECTED_NAMESPACES = frozenset({"kube-system", "kube-public"})
CNI_DAEMONSET_NAMES = frozenset({"istio-cni-node"})
CNI_CHARTS = frozenset({"cni"})
ISTIOD_CHARTS = frozenset({"istiod"})
INJECTOR_CONFIGMAP = "istio-sidecar-injector"


@dataclass(frozen=True)
class Mesh:
    """What the platform's Istio does to pods: whether it is installed at all, and in which mode it injects."""

    installed: bool
    cni: bool
    why: str  # how the mode was decided, for messages
    privileged: bool = False
    seccomp_profile: dict[str, Any] | None = None


def _dig(values: Any, *path: str) -> Any:
    node = values
    for step in path:
        node = as_dict(node).get(step)
    return node


def _injector_values(platform: Platform) -> dict[str, Any] | None:
    """istiod's injection values as rendered (the `values` of the istio-sidecar-injector ConfigMap)."""
    for cm in platform.of_kind("", "ConfigMap"):
        if cm.name.startswith(INJECTOR_CONFIGMAP):
            raw = as_dict(cm.manifest.get("data")).get("values")
            if isinstance(raw, str):
                try:
                    parsed = json.loads(raw)
                except json.JSONDecodeError:
                    continue
                if isinstance(parsed, dict):
                    return parsed
    return None


def mesh(platform: Platform) -> Mesh:
    """Decide injection mode from the rendering first (istiod's injector config), then the plan's chart values."""
    values = _injector_values(platform)
    if values is not None:
        cni = bool(_dig(values, "pilot", "cni", "enabled") or _dig(values, "istio_cni", "enabled"))
        return _with_proxy(
            Mesh(True, cni, f"istiod's injector config has pilot.cni.enabled={str(cni).lower()}"), values
        )
    istiods = platform.charts_named(*ISTIOD_CHARTS)
    if istiods:
        chart_values = as_dict(istiods[0].get("values"))
        cni = bool(_dig(chart_values, "pilot", "cni", "enabled") or _dig(chart_values, "istio_cni", "enabled"))
        why = f"the istiod chart's values have pilot.cni.enabled={str(cni).lower()}"
        return _with_proxy(Mesh(True, cni, why), chart_values)
    installed = any(o.name.startswith("istiod") for o in platform.of_kind("apps", "Deployment")) or any(
        o.name.startswith(INJECTOR_CONFIGMAP)
        for o in platform.of_kind("admissionregistration.k8s.io", "MutatingWebhookConfiguration")
    )
    cni = any(o.name in CNI_DAEMONSET_NAMES for o in platform.of_kind("apps", "DaemonSet")) or bool(
        platform.charts_named(*CNI_CHARTS)
    )
    return Mesh(installed, cni, "istio-cni is installed" if cni else "no istio-cni is installed")


def _with_proxy(m: Mesh, values: dict[str, Any]) -> Mesh:
    seccomp = _dig(values, "global", "proxy", "seccompProfile")
    return Mesh(
        m.installed,
        m.cni,
        m.why,
        privileged=_dig(values, "global", "proxy", "privileged") is True,
        seccomp_profile=dict(seccomp) if isinstance(seccomp, dict) and seccomp else None,
    )


def injected(namespace_labels: dict[str, str], namespace: str, meta: dict[str, Any], spec: dict[str, Any]) -> bool:
    """Whether istiod's webhook injects this pod (the chart's default webhook selectors)."""
    if namespace in NEVER_INJECTED_NAMESPACES or spec.get("hostNetwork") is True:
        return False
    labels = {str(k): str(v) for k, v in as_dict(meta.get("labels")).items()}
    annotations = {str(k): str(v) for k, v in as_dict(meta.get("annotations")).items()}
    if labels.get("sidecar.istio.io/inject") == "false" or annotations.get("sidecar.istio.io/inject") == "false":
        return False
    ns_injection = namespace_labels.get("istio-injection")
    if ns_injection == "enabled":
        return True
    if ns_injection is None and "istio.io/rev" in namespace_labels:
        return True
    return ns_injection is None and labels.get("sidecar.istio.io/inject") == "true"


def inject(m: Mesh, meta: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """The pod spec after injection: the init container of the mode, and the sidecar."""
    annotations = {str(k): str(v) for k, v in as_dict(meta.get("annotations")).items()}
    mode = annotations.get("sidecar.istio.io/interceptionMode", "REDIRECT")
    result = copy.deepcopy(spec)
    proxy = copy.deepcopy(ISTIO_PROXY)
    init = copy.deepcopy(ISTIO_VALIDATION if m.cni else ISTIO_INIT)
    if mode == "TPROXY":
        proxy["securityContext"]["capabilities"]["add"] = ["NET_ADMIN"]
        proxy["securityContext"].update(runAsNonRoot=False, runAsUser=0)
    for container in (proxy, init):
        if m.privileged:
            container["securityContext"].update(privileged=True, allowPrivilegeEscalation=True)
        if m.seccomp_profile:
            container["securityContext"]["seccompProfile"] = dict(m.seccomp_profile)
    inits = [
        c
        for c in as_list(result.get("initContainers"))
        if as_dict(c).get("name") not in ("istio-init", "istio-validation")
    ]
    result["initContainers"] = ([init] if mode != "NONE" else []) + inits
    result["containers"] = [c for c in as_list(result.get("containers")) if as_dict(c).get("name") != "istio-proxy"] + [
        proxy
    ]
    return result


def admitted_spec(
    platform: Platform, m: Mesh, obj: Obj, meta: dict[str, Any], spec: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """(the pod spec the API server judges, whether Istio injected it)."""
    namespace = obj.namespace or "default"
    if m.installed and injected(platform.namespace_labels(obj.cluster, namespace), namespace, meta, spec):
        return inject(m, meta, spec), True
    return spec, False
