"""Rule `references`: every name one object gives to another resolves to an object that will exist.

Services named by VirtualServices, DestinationRules, ext-authz providers, webhooks and APIServices; Gateways named
by VirtualServices; ServiceAccounts named by AuthorizationPolicy principals, bindings and pods; Roles bound; Secrets
and ConfigMaps pods mount or read (optional ones excepted); the namespace of every namespaced object (and objects
left without one). What could only come from an unrendered source is reported as `unverified`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, NamedTuple

import yaml

from infra.kfvs.lint import injection, producers
from infra.kfvs.lint.finding import Finding
from infra.kfvs.lint.model import (
    EXTRA_SOURCE,
    Obj,
    Platform,
    as_dict,
    as_list,
    chart_name,
    containers,
    pod_template,
    release_name,
)
from infra.kfvs.lint.unverified import RULE as UNVERIFIED
from infra.kfvs.lint.unverified import could_come_from_unrendered

RULE = "references"
DOMAIN = "cluster.local"
_PRINCIPAL = re.compile(r"^(?:[^/]+)/ns/([^/*]+)/sa/([^/*]+)$")
BUILTIN_CLUSTER_ROLES = frozenset({"cluster-admin", "admin", "edit", "view"})


class Ref(NamedTuple):
    """What a reference names."""

    group: str
    kind: str
    namespace: str
    name: str


class Exists:
    """Everything that will be in the cluster: the rendering plus what the cluster and controllers create."""

    def __init__(self, platform: Platform) -> None:
        istio = injection.mesh(platform).installed
        self.keys = {platform.key(o) for o in platform.objects} | set(producers.made_at_run_time(platform, istio))

    def __call__(self, cluster: str, group: str, kind: str, namespace: str, name: str) -> bool:
        return (cluster, group, kind, namespace, name) in self.keys


class Checker:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.exists = Exists(platform)

    def ref(self, obj: Obj, what: str, ref: Ref, fix: str) -> Finding | None:
        """A finding when the named object will not exist; `what` says which field names it."""
        group, kind, namespace, name = ref
        if self.exists(obj.cluster, group, kind, namespace, name):
            return None
        target = f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"
        maybe = could_come_from_unrendered(self.platform, namespace)
        if maybe:
            hint = _release_hint(self.platform, kind, namespace, name)
            message = f"{what} {target}, which is not in the rendering: {maybe}{hint}"
            return _finding(UNVERIFIED, obj, message, "check that it creates exactly that name")
        return _finding(RULE, obj, f"{what} {target}, which nobody creates", fix)


def _finding(rule: str, obj: Obj, message: str, fix: str) -> Finding:
    return Finding(rule, obj.kind, obj.namespace, obj.name, message.replace(";", ","), fix, obj.component)


def _release_hint(platform: Platform, kind: str, namespace: str, name: str) -> str:
    """Helm charts name what they make after the release (`<release>` or `<release>-<chart>`): say when that differs."""
    if kind not in ("Service", "ServiceAccount"):
        return ""
    for urn, inputs in platform.unrendered_charts():
        if str(inputs.get("namespace") or "") != namespace:
            continue
        release, chart = release_name(urn, inputs), chart_name(inputs)
        fullname = release if chart in release else f"{release}-{chart}"
        if fullname != name:
            return (
                f" (charts following Helm's naming convention call it {fullname!r}: "
                "set the chart's release name or fullnameOverride)"
            )
    return ""


def check(platform: Platform) -> Iterator[Finding]:
    checker = Checker(platform)
    for obj in platform.objects:
        for finding in _object(checker, obj):
            if finding is not None:
                yield finding
    yield from _ext_authz(checker)


def _object(c: Checker, obj: Obj) -> Iterator[Finding | None]:
    yield from _namespace(c, obj)
    group, kind = obj.group, obj.kind
    if group == "networking.istio.io" and kind == "VirtualService":
        yield from _virtual_service(c, obj)
    elif group == "networking.istio.io" and kind == "DestinationRule":
        yield from _service_host(c, obj, "its host", str(obj.spec.get("host") or ""))
    elif group == "security.istio.io" and kind == "AuthorizationPolicy":
        yield from _principals(c, obj)
    elif group == "admissionregistration.k8s.io" and kind.endswith("WebhookConfiguration"):
        for hook in as_list(obj.manifest.get("webhooks")):
            yield from _client_service(
                c, obj, f"webhook {as_dict(hook).get('name')} calls", as_dict(hook).get("clientConfig")
            )
    elif group == "apiextensions.k8s.io" and kind == "CustomResourceDefinition":
        webhook = as_dict(as_dict(obj.spec.get("conversion")).get("webhook"))
        yield from _client_service(c, obj, "its conversion webhook calls", webhook.get("clientConfig"))
    elif group == "apiregistration.k8s.io" and kind == "APIService":
        service = as_dict(obj.spec.get("service"))
        if service.get("name"):
            yield c.ref(
                obj,
                "serves from",
                Ref("", "Service", str(service.get("namespace") or ""), str(service["name"])),
                "create that Service or fix spec.service",
            )
    elif group == "rbac.authorization.k8s.io" and kind in ("RoleBinding", "ClusterRoleBinding"):
        yield from _binding(c, obj)
    template = pod_template(obj)
    if template is not None:
        yield from _pod(c, obj, template[1])


def _namespace(c: Checker, obj: Obj) -> Iterator[Finding | None]:
    namespaced = c.platform.is_namespaced(obj)
    if namespaced is None or obj.cluster == "":
        return  # unknown scope; Supervisor namespaces are vSphere Namespaces, not objects of the rendering
    if namespaced and not obj.namespace:
        where = "kubectl's current namespace" if obj.source == EXTRA_SOURCE else "the provider's default namespace"
        yield _finding(
            RULE,
            obj,
            f"has no namespace, so it lands in {where} (default): nobody chose that",
            "set its namespace (for a kustomize directory upstream applies with -n, a namespace transformation)",
        )
    elif namespaced:
        yield c.ref(
            obj,
            "is in",
            Ref("", "Namespace", "", obj.namespace),
            "create the namespace with the platform, before the object",
        )


def resolve_host(host: str, namespace: str) -> tuple[str, str] | None:
    """(service, namespace) a mesh host means, or None for hosts outside the cluster's Services (and wildcards)."""
    if not host or "*" in host:
        return None
    name = host.removesuffix("." + DOMAIN)
    parts = name.split(".")
    if len(parts) == 1:
        return parts[0], namespace  # Istio reads short names in the rule's own namespace
    if len(parts) == 3 and parts[2] == "svc":
        return parts[0], parts[1]
    if len(parts) == 2 and host == name:
        return parts[0], parts[1]  # <service>.<namespace>, as cluster DNS resolves it
    return None


def _service_host(c: Checker, obj: Obj, what: str, host: str) -> Iterator[Finding | None]:
    if _is_service_entry(c.platform, obj.cluster, host):
        return
    resolved = resolve_host(host, obj.namespace)
    if resolved:
        service, namespace = resolved
        yield c.ref(
            obj,
            f"{what} {host!r} means",
            Ref("", "Service", namespace, service),
            "create that Service, or name one the platform creates",
        )


def _is_service_entry(platform: Platform, cluster: str, host: str) -> bool:
    return any(
        host in as_list(se.spec.get("hosts"))
        for se in platform.of_kind("networking.istio.io", "ServiceEntry")
        if se.cluster == cluster
    )


def _virtual_service(c: Checker, obj: Obj) -> Iterator[Finding | None]:
    hosts: set[str] = set()
    for protocol in ("http", "tcp", "tls"):
        for item in as_list(obj.spec.get(protocol)):
            route = as_dict(item)
            for destination in as_list(route.get("route")):
                hosts.add(str(as_dict(as_dict(destination).get("destination")).get("host") or ""))
            if route.get("mirror"):
                hosts.add(str(as_dict(route.get("mirror")).get("host") or ""))
            for mirror in as_list(route.get("mirrors")):
                hosts.add(str(as_dict(as_dict(mirror).get("destination")).get("host") or ""))
    for host in sorted(hosts - {""}):
        yield from _service_host(c, obj, "routes to", host)
    for gateway in as_list(obj.spec.get("gateways")):
        ns, _, name = str(gateway).rpartition("/")
        if name and name != "mesh":
            yield c.ref(
                obj,
                "binds to",
                Ref("networking.istio.io", "Gateway", ns or obj.namespace, name),
                "create that Gateway, or bind to one the platform creates",
            )


def _principals(c: Checker, obj: Obj) -> Iterator[Finding | None]:
    seen: set[tuple[str, str]] = set()
    for rule in as_list(obj.spec.get("rules")):
        for source in as_list(as_dict(rule).get("from")):
            for principal in as_list(as_dict(as_dict(source).get("source")).get("principals")):
                match = _PRINCIPAL.match(str(principal))
                if match and (match[1], match[2]) not in seen:
                    seen.add((match[1], match[2]))
                    yield c.ref(
                        obj,
                        f"allows principal {principal!r}, the identity of",
                        Ref("", "ServiceAccount", match[1], match[2]),
                        "name the ServiceAccount the caller really runs as",
                    )
    if obj.spec.get("action") == "CUSTOM":
        provider = str(as_dict(obj.spec.get("provider")).get("name") or "")
        names = {str(as_dict(p).get("name")) for _, _, p in _extension_providers(c.platform)}
        if provider and provider not in names:
            yield _finding(
                RULE,
                obj,
                f"uses ext-authz provider {provider!r}, which meshConfig does not define",
                "add it to meshConfig.extensionProviders (istiod's values) or use a defined provider",
            )


def _client_service(c: Checker, obj: Obj, what: str, client_config: Any) -> Iterator[Finding | None]:
    service = as_dict(as_dict(client_config).get("service"))
    if service.get("name"):
        yield c.ref(
            obj,
            what,
            Ref("", "Service", str(service.get("namespace") or ""), str(service["name"])),
            "create that Service, or point clientConfig at the one that serves the webhook",
        )


def _binding(c: Checker, obj: Obj) -> Iterator[Finding | None]:
    for item in as_list(obj.manifest.get("subjects")):
        subject = as_dict(item)
        if subject.get("kind") == "ServiceAccount":
            namespace = str(subject.get("namespace") or obj.namespace)
            yield c.ref(
                obj,
                "binds",
                Ref("", "ServiceAccount", namespace, str(subject.get("name"))),
                "bind the ServiceAccount the workload runs as",
            )
    role = as_dict(obj.manifest.get("roleRef"))
    name = str(role.get("name") or "")
    if role.get("kind") == "ClusterRole" and name not in BUILTIN_CLUSTER_ROLES and not name.startswith("system:"):
        yield c.ref(
            obj,
            "grants",
            Ref("rbac.authorization.k8s.io", "ClusterRole", "", name),
            "create that ClusterRole, or grant one that exists",
        )
    elif role.get("kind") == "Role":
        yield c.ref(
            obj,
            "grants",
            Ref("rbac.authorization.k8s.io", "Role", obj.namespace, name),
            "create that Role, or grant one that exists",
        )


def _pod(c: Checker, obj: Obj, spec: dict[str, Any]) -> Iterator[Finding | None]:
    namespace = obj.namespace or "default"
    account = str(spec.get("serviceAccountName") or spec.get("serviceAccount") or "default")
    yield c.ref(
        obj,
        "runs pods as",
        Ref("", "ServiceAccount", namespace, account),
        "create the ServiceAccount beside the workload",
    )
    for kind, name in sorted(set(_pod_refs(spec))):
        yield c.ref(
            obj, "pods need", Ref("", kind, namespace, name), f"create the {kind}, or mark the reference optional"
        )


def _optional_refs(source: Any, kind: str, name_key: str = "name") -> Iterator[tuple[str, str]]:
    ref = as_dict(source)
    if ref and not ref.get("optional") and ref.get(name_key):
        yield kind, str(ref[name_key])


def _pod_refs(spec: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(kind, name) of every required Secret and ConfigMap a pod mounts or reads (and its image pull Secrets)."""
    for volume in map(as_dict, as_list(spec.get("volumes"))):
        yield from _optional_refs(volume.get("secret"), "Secret", "secretName")
        yield from _optional_refs(volume.get("configMap"), "ConfigMap")
        for projected in map(as_dict, as_list(as_dict(volume.get("projected")).get("sources"))):
            yield from _optional_refs(projected.get("secret"), "Secret")
            yield from _optional_refs(projected.get("configMap"), "ConfigMap")
    for pull in map(as_dict, as_list(spec.get("imagePullSecrets"))):
        yield from _optional_refs(pull, "Secret")
    for _field, container in containers(spec):
        for env in map(as_dict, as_list(container.get("env"))):
            value_from = as_dict(env.get("valueFrom"))
            yield from _optional_refs(value_from.get("secretKeyRef"), "Secret")
            yield from _optional_refs(value_from.get("configMapKeyRef"), "ConfigMap")
        for env_from in map(as_dict, as_list(container.get("envFrom"))):
            yield from _optional_refs(env_from.get("secretRef"), "Secret")
            yield from _optional_refs(env_from.get("configMapRef"), "ConfigMap")


def _extension_providers(platform: Platform) -> Iterator[tuple[Obj | None, str, dict[str, Any]]]:
    """(the ConfigMap that configures it or None, the chart's URN or "", provider) per meshConfig extension provider."""
    found = False
    for cm in platform.of_kind("", "ConfigMap"):
        if cm.name == "istio" and cm.namespace == "istio-system":
            mesh = yaml.safe_load(str(as_dict(cm.manifest.get("data")).get("mesh") or "")) or {}
            for provider in as_list(as_dict(mesh).get("extensionProviders")):
                found = True
                yield cm, "", as_dict(provider)
    if found:
        return
    for urn, inputs in platform.chart_inputs():
        if chart_name(inputs) == "istiod":
            for provider in as_list(as_dict(as_dict(inputs.get("values")).get("meshConfig")).get("extensionProviders")):
                yield None, urn, as_dict(provider)


def _ext_authz(c: Checker) -> Iterator[Finding]:
    for owner, urn, provider in _extension_providers(c.platform):
        for key in ("envoyExtAuthzHttp", "envoyExtAuthzGrpc"):
            host = str(as_dict(provider.get(key)).get("service") or "")
            if not host:
                continue
            configured_by = owner or Obj(
                {
                    "apiVersion": "helm.sh/v4",
                    "kind": "Chart",
                    "metadata": {"name": urn.rpartition("::")[2], "namespace": "istio-system"},
                },
                urn,
                urn.rpartition("::")[2],
                c.platform.workload_cluster,
            )
            resolved = resolve_host(host, "istio-system")
            if resolved:
                finding = c.ref(
                    configured_by,
                    f"ext-authz provider {provider.get('name')!r} sends to",
                    Ref("", "Service", resolved[1], resolved[0]),
                    "create that Service, or point the provider at the one the platform creates",
                )
                if finding:
                    yield finding
