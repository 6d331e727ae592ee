"""Safety rules for every stack: credentials only through Secrets, TLS at the ingress, protected state in
prod, fully reserved GPU memory, pinned charts, GPU keys in every profile quota. (Team labels are checked by
the quotas pack, which attributes usage by them.)"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.conventions import VGPU_MEMORY_RESERVATION
from policies.usage import PROFILE, VM, VM_CLASS

_CREDENTIAL_KEY = re.compile(
    r"(password|passwd|secret|token|api[-_]?key|private[-_]?key|dockerconfigjson)$", re.IGNORECASE
)
_SECRET_REFERENCE = re.compile(r"^existing", re.IGNORECASE)
"""Helm's convention for naming a Secret that holds the credential (`existingSecret`): a reference, not a value."""
_DEFAULT_CREDENTIALS = ("12341234", "$2y$12$4K/VkmDd1q1Orb3xAt82zu8gk7Ad6ReFR4LCP9UeYE90NLiN9Df72")
"""Upstream Kubeflow's example password and its published bcrypt hash."""
_SECRET_KINDS = {"kubernetes:core/v1:Secret"}
_CHARTS = {"kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Release"}
_KUSTOMIZE = "kubernetes:kustomize/v2:Directory"
_EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")
_STATEFUL = [
    VM,
    "vsphere:index/contentLibrary:ContentLibrary",
    "vsphere:index/namespace:Namespace",
    "kubernetes:cluster.x-k8s.io/v1beta1:Cluster",
    "kubernetes:run.tanzu.vmware.com/v1alpha3:TanzuKubernetesCluster",
    PROFILE,
    "kubernetes:vmoperator.vmware.com/v1alpha3:VirtualMachine",
]


DEFAULT_CREDENTIAL = "{path} holds a well-known default credential; generate one or use an identity provider"
PLAIN_CREDENTIAL = "{path} is a credential written in plain text; put it in a Secret and reference it"
NO_GATEWAY = "the ingress gateway serves no Gateway with TLS: Kubeflow would be reachable over plain HTTP"
NO_HTTPS = "gateway '{gateway}' has no HTTPS server with a certificate (tls.credentialName)"
PLAIN_HTTP = "gateway '{gateway}' serves plain HTTP without redirecting to HTTPS"
UNPROTECTED = "{type} '{name}' holds state: protect it in this environment"
PASSTHROUGH_VM_RESERVATION = "GPU passthrough VM reserves {reserved} of {memory} MiB; reserve all of it"
VGPU_CLASS_RESERVATION = f"vGPU VM class reserves {{reserved}}% of memory; vGPU needs {VGPU_MEMORY_RESERVATION}"
CHART_UNPINNED = "chart '{chart}' is not pinned to an exact version (got '{version}')"
KUSTOMIZE_UNPINNED = "kustomize directory '{directory}' is not pinned to a tag (?ref=<tag>)"
PROFILE_WITHOUT_GPU_KEY = (
    "profile '{profile}' has no quota key requests.nvidia.com/gpu: every profile states its GPUs (0 is fine)"
)

IN_CLUSTER_STORE = (
    "{component} installs its in-cluster {store} ({directory}): set kubeflow.stores.{component} in the stack file "
    "(docs/STORES.md)"
)
IN_CLUSTER_STORE_RUNS = (
    "Deployment kubeflow/{name} is {component}'s in-cluster {store} and runs {replicas} replica(s): set "
    "kubeflow.stores.{component} in the stack file (docs/STORES.md)"
)

MESSAGES: dict[str, dict[str, str]] = {
    "no-literal-credentials": {"default-credential": DEFAULT_CREDENTIAL, "plain-text": PLAIN_CREDENTIAL},
    "ingress-tls": {"no-gateway": NO_GATEWAY, "no-https": NO_HTTPS, "plain-http": PLAIN_HTTP},
    "stateful-resources-protected": {"unprotected": UNPROTECTED},
    "gpu-memory-reserved": {"passthrough-vm": PASSTHROUGH_VM_RESERVATION, "vgpu-class": VGPU_CLASS_RESERVATION},
    "charts-pinned": {"chart": CHART_UNPINNED, "kustomize": KUSTOMIZE_UNPINNED},
    "profile-gpu-quota": {"no-gpu-key": PROFILE_WITHOUT_GPU_KEY},
    "external-data-stores": {"directory": IN_CLUSTER_STORE, "running": IN_CLUSTER_STORE_RUNS},
}
"""Every finding each policy can report, by policy and branch (str.format templates): the tests give each
branch a case of its own, and fail when one has none."""


def _walk(value: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """(path, key, value) for every mapping entry, however deep."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            here = f"{path}.{k}" if path else str(k)
            yield here, str(k), v
            yield from _walk(v, here)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]")


def _credentials(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for path, key, value in _walk(args.props):
        if isinstance(value, str) and value in _DEFAULT_CREDENTIALS:
            report(DEFAULT_CREDENTIAL.format(path=path), None)
        elif (
            args.resource_type not in _SECRET_KINDS
            and _CREDENTIAL_KEY.search(key)
            and not _SECRET_REFERENCE.search(key)
            and isinstance(value, str)
            and value
        ):
            report(PLAIN_CREDENTIAL.format(path=path), None)


def _gpu_memory(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    reserved, memory = props.get("memoryReservation"), props.get("memory")
    fully = reserved == memory or props.get("memoryReservationLockedToMax")
    if args.resource_type == VM and props.get("pciDeviceIds") and not fully:
        report(PASSTHROUGH_VM_RESERVATION.format(reserved=_n(reserved), memory=_n(memory)), None)
    if (
        args.resource_type == VM_CLASS
        and props.get("vgpuDevices")
        and props.get("memoryReservation") != VGPU_MEMORY_RESERVATION
    ):
        report(VGPU_CLASS_RESERVATION.format(reserved=_n(props.get("memoryReservation"))), None)


def _n(value: Any) -> str:
    """Numbers arrive as floats over the wire; show whole ones as integers."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _protected(args: ResourceValidationArgs, report: ReportViolation) -> None:
    types = args.get_config().get("types", _STATEFUL)
    if args.resource_type in types and not args.opts.protect:
        report(UNPROTECTED.format(type=args.resource_type, name=args.name), None)


def _pinned(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if args.resource_type in _CHARTS:
        version = str(props.get("version") or "")
        if not _EXACT_VERSION.match(version):
            report(CHART_UNPINNED.format(chart=props.get("chart"), version=version or "none"), None)
    if args.resource_type == _KUSTOMIZE:
        directory = str(props.get("directory") or "")
        ref = directory.partition("?ref=")[2]
        if directory.startswith(("https://", "git@", "ssh://")) and (not ref or ref in ("master", "main", "HEAD")):
            report(KUSTOMIZE_UNPINNED.format(directory=directory), None)


def _profile_gpu_quota(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != PROFILE:
        return
    hard = ((args.props.get("spec") or {}).get("resourceQuotaSpec") or {}).get("hard") or {}
    if "requests.nvidia.com/gpu" not in hard:
        name = (args.props.get("metadata") or {}).get("name", args.name)
        report(PROFILE_WITHOUT_GPU_KEY.format(profile=name), None)


_INGRESS_DIRECTORY = "/common/istio/istio-install/"
"""kubeflow/manifests' Istio install, which brings the ingress gateway (matched by path, so a git mirror counts)."""


def _is_ingress(resource_type: str, props: Mapping[str, Any]) -> bool:
    """An ingress gateway installed by an Istio chart, or by upstream's Istio kustomize directory."""
    if resource_type in _CHARTS:
        return props.get("chart") in ("gateway", "istio-ingress")
    return resource_type == _KUSTOMIZE and _INGRESS_DIRECTORY in str(props.get("directory", ""))


def _ingress_tls(args: StackValidationArgs, report: ReportViolation) -> None:
    gateways = [
        r
        for r in args.resources
        if r.resource_type.startswith("kubernetes:networking.istio.io/")
        and r.resource_type.rsplit(":", 1)[-1] in ("Gateway", "GatewayPatch")
    ]
    has_ingress = any(_is_ingress(r.resource_type, r.props) for r in args.resources)
    if has_ingress and not gateways:
        report(NO_GATEWAY, None)
    for g in gateways:
        servers = (g.props.get("spec") or {}).get("servers") or []
        https = [
            s
            for s in servers
            if (s.get("port") or {}).get("protocol") == "HTTPS" and (s.get("tls") or {}).get("credentialName")
        ]
        plain = [
            s
            for s in servers
            if (s.get("port") or {}).get("protocol") == "HTTP" and not (s.get("tls") or {}).get("httpsRedirect")
        ]
        if not https:
            report(NO_HTTPS.format(gateway=g.name), g.urn)
        if plain:
            report(PLAIN_HTTP.format(gateway=g.name), g.urn)


STORES_ANNOTATION = "kubeflow-vsphere.io/external-stores"
"""What components/kubeflow/stores.py stamps on the objects wiring a component to external stores (a test keeps
the two equal)."""
_STORE_NAMES = {"database": "MySQL database", "objectStore": "object store"}
_STORE_DIRECTORIES = {
    # kubeflow/manifests 26.03: the directory -> the component and the stores it carries in-cluster
    "/applications/pipeline/": ("pipelines", ("database", "objectStore")),
    "/applications/katib/upstream/installs/katib-with-kubeflow": ("katib", ("database",)),
    "/applications/model-registry/upstream/overlays/db": ("modelRegistry", ("database",)),
}
_STORE_DEPLOYMENTS = {
    "mysql": ("pipelines", "database"),
    "seaweedfs": ("pipelines", "objectStore"),
    "katib-mysql": ("katib", "database"),
    "model-registry-db": ("modelRegistry", "database"),
}
"""Upstream's in-cluster store Deployments in `kubeflow`, which the engine registers as children of the
directories (kfvs sees only the directories)."""
_DEPLOYMENT = "kubernetes:apps/v1:Deployment"
_CONFIG_MAP = "kubernetes:core/v1:ConfigMap"


def _external_stamps(resources: list[Any]) -> set[tuple[str, str]]:
    """(component, store) pairs the stack's own objects wire elsewhere, read from their stamp."""
    found: set[tuple[str, str]] = set()
    for r in resources:
        if r.resource_type != _CONFIG_MAP:
            continue
        metadata = r.props.get("metadata") or {}
        raw = (metadata.get("annotations") or {}).get(STORES_ANNOTATION)
        if metadata.get("namespace") != "kubeflow" or not isinstance(raw, str):
            continue
        try:
            stamp = json.loads(raw)
        except ValueError:
            continue
        component = stamp.get("component") if isinstance(stamp, dict) else None
        found |= {(str(component), store) for store in _STORE_NAMES if isinstance(stamp, dict) and stamp.get(store)}
    return found


def _external_stores(args: StackValidationArgs, report: ReportViolation) -> None:
    config = args.get_config()
    components = set(config.get("components", ["pipelines", "katib", "modelRegistry"]))
    kinds = set(config.get("stores", list(_STORE_NAMES)))
    external = _external_stamps(list(args.resources))
    for r in args.resources:
        if r.resource_type == _KUSTOMIZE:
            for message in _in_cluster_directory(str(r.props.get("directory", "")), components, kinds, external):
                report(message, r.urn)
        elif r.resource_type == _DEPLOYMENT:
            running = _in_cluster_deployment(r.props, components, kinds)
            if running:
                report(running, r.urn)


def _in_cluster_directory(
    directory: str, components: set[str], kinds: set[str], external: set[tuple[str, str]]
) -> list[str]:
    """A directory that carries an in-cluster store: the db overlay always, the others unless wired elsewhere."""
    found = []
    for marker, (component, carried) in _STORE_DIRECTORIES.items():
        if marker not in directory or component not in components:
            continue
        for store in carried:
            if store in kinds and ("overlays/db" in marker or (component, store) not in external):
                found.append(
                    IN_CLUSTER_STORE.format(component=component, store=_STORE_NAMES[store], directory=directory)
                )
    return found


def _in_cluster_deployment(props: Mapping[str, Any], components: set[str], kinds: set[str]) -> str | None:
    """An upstream in-cluster store Deployment (as the engine registers it) that still runs."""
    metadata = props.get("metadata") or {}
    hit = _STORE_DEPLOYMENTS.get(str(metadata.get("name")))
    if hit is None or metadata.get("namespace") != "kubeflow" or hit[0] not in components or hit[1] not in kinds:
        return None
    replicas = (props.get("spec") or {}).get("replicas", 1)
    if replicas == 0:
        return None
    return IN_CLUSTER_STORE_RUNS.format(
        name=metadata.get("name"), component=hit[0], store=_STORE_NAMES[hit[1]], replicas=_n(replicas)
    )


POLICIES: list[Any] = [
    ResourceValidationPolicy(
        name="no-literal-credentials",
        description="Credentials reach resources only through Secrets; no well-known default credential anywhere.",
        validate=_credentials,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    StackValidationPolicy(
        name="ingress-tls",
        description="The platform's ingress answers HTTPS with a certificate and redirects HTTP.",
        validate=_ingress_tls,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    ResourceValidationPolicy(
        name="stateful-resources-protected",
        description="Resources that hold state are protected (enforced in prod through config).",
        validate=_protected,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PolicyConfigSchema(properties={"types": {"type": "array", "items": {"type": "string"}}}),
    ),
    ResourceValidationPolicy(
        name="gpu-memory-reserved",
        description="GPU passthrough VMs and vGPU VM classes reserve all their memory.",
        validate=_gpu_memory,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    ResourceValidationPolicy(
        name="charts-pinned",
        description="Every Helm chart has an exact version; every remote kustomize directory a tag.",
        validate=_pinned,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    ResourceValidationPolicy(
        name="profile-gpu-quota",
        description="Every Kubeflow profile has a quota with a GPU key.",
        validate=_profile_gpu_quota,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    StackValidationPolicy(
        name="external-data-stores",
        description="Pipelines, Katib and Model Registry use external databases and object stores (prod: config).",
        validate=_external_stores,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PolicyConfigSchema(
            properties={
                "components": {"type": "array", "items": {"enum": ["pipelines", "katib", "modelRegistry"]}},
                "stores": {"type": "array", "items": {"enum": ["database", "objectStore"]}},
            }
        ),
    ),
]
