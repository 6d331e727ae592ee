"""Rule `ordering`: what an object needs is applied before it, in the Pulumi dependency graph.

Between sources (kustomize Directories, Charts, the plan's own resources) the order is `Rendering.depends_on`
(transitively). Within one source the Kubernetes provider (pulumi-kubernetes 4.34, provider/pkg/provider/yaml/v2
`Register`) orders objects by sigs.k8s.io/cli-utils v0.37.2 pkg/object/graph `DependencyGraph`: a custom object after
the CRD of its group and kind, a namespaced object after its Namespace, plus the `config.kubernetes.io/depends-on`
and apply-time-mutation annotations; nothing else (a webhook and its Service, or objects a webhook intercepts and
the webhook's Service, are registered concurrently).

Checks: each custom object after its CRD, each namespaced object after its Namespace, each webhook configuration
after its Service, and each object that a webhook (failurePolicy Fail) intercepts after that webhook's Service.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infra.kfvs.lint import builtin
from infra.kfvs.lint.finding import Finding
from infra.kfvs.lint.model import EXTRA_SOURCE, Obj, Platform, as_dict, as_list, selects

RULE = "ordering"
DEPENDS_ON = "config.kubernetes.io/depends-on"


def _short(urn: str) -> str:
    return urn.rpartition("::")[2] or urn


def _explicit(obj: Obj, need: Obj) -> bool:
    """Whether obj's depends-on annotation names `need` (cli-utils' `group/namespaces/ns/kind/name` form)."""
    wanted = (
        f"{need.group}/namespaces/{need.namespace}/{need.kind}/{need.name}"
        if need.namespace
        else f"{need.group}/{need.kind}/{need.name}"
    )
    return wanted in [s.strip() for s in obj.annotations.get(DEPENDS_ON, "").split(",")]


def after(platform: Platform, obj: Obj, need: Obj, same_source_ordered: bool) -> bool:
    """Whether `obj` is applied after `need`: across sources by the graph, within one by the provider's rules."""
    if obj.source == need.source:
        return same_source_ordered or _explicit(obj, need)
    return platform.ordered_before(need.source, obj.source)


def _finding(obj: Obj, message: str, fix: str) -> Finding:
    return Finding(RULE, obj.kind, obj.namespace, obj.name, message, fix, obj.component)


def _not_ordered(obj: Obj, need: Obj, what: str) -> Finding:
    where = (
        f"in the same source {_short(obj.source)}, where the provider applies them concurrently"
        if obj.source == need.source
        else f"{_short(obj.source)} does not depend on {_short(need.source)}"
    )
    fix = (
        "move it to a source that depends on that one, or add a config.kubernetes.io/depends-on annotation"
        if obj.source == need.source
        else f"make {_short(obj.source)} depend on {_short(need.source)}"
    )
    return _finding(obj, f"may be applied before {what} {need.kind} {_name(need)}: {where}", fix)


def _name(obj: Obj) -> str:
    return f"{obj.namespace}/{obj.name}" if obj.namespace else obj.name


def check(platform: Platform) -> Iterator[Finding]:
    webhooks = [(config, hook, service, _groups(hook)) for config, hook, service in _webhooks(platform) if service]
    for obj in platform.objects:
        if obj.source == EXTRA_SOURCE:
            continue  # applied after the whole platform
        crd = platform.crd_for(obj)
        if crd is not None and not after(platform, obj, crd, same_source_ordered=True):
            yield _not_ordered(obj, crd, "its CRD")
        if obj.namespace and obj.cluster:
            ns = platform.namespaces.get((obj.cluster, obj.namespace))
            if ns is not None and not after(platform, obj, ns, same_source_ordered=True):
                yield _not_ordered(obj, ns, "its namespace")
        for config, hook, service, groups in webhooks:
            if obj.cluster != config.cluster or (obj is not config and not ({obj.group, "*"} & groups)):
                continue
            if obj is config:
                if not after(platform, obj, service, same_source_ordered=False) and obj.source != service.source:
                    yield _not_ordered(obj, service, f"webhook {hook.get('name')}'s Service")
            elif obj is not service and _intercepts(platform, hook, obj) and not _safe(platform, obj, config, service):
                yield _not_ordered(obj, service, f"the Service of webhook {hook.get('name')}, which intercepts it,")


def _safe(platform: Platform, obj: Obj, config: Obj, service: Obj) -> bool:
    """The webhook either serves already (obj after its Service) or is not registered yet (its config after obj)."""
    if after(platform, obj, service, same_source_ordered=False):
        return True
    return config.source != obj.source and platform.ordered_before(obj.source, config.source)


def _webhooks(platform: Platform) -> Iterator[tuple[Obj, dict[str, Any], Obj | None]]:
    """(configuration, webhook, its Service in the rendering) for every webhook that calls a Service."""
    for config in platform.objects:
        if config.group != "admissionregistration.k8s.io" or not config.kind.endswith("WebhookConfiguration"):
            continue
        for item in as_list(config.manifest.get("webhooks")):
            hook = as_dict(item)
            service = as_dict(as_dict(hook.get("clientConfig")).get("service"))
            if service.get("name"):
                found = platform.find(
                    config.cluster, "", "Service", str(service.get("namespace") or ""), str(service["name"])
                )
                yield config, hook, found


def _groups(hook: dict[str, Any]) -> frozenset[str]:
    """The API groups a webhook's rules name: most objects are ruled out by group alone."""
    return frozenset(str(g) for rule in as_list(hook.get("rules")) for g in as_list(as_dict(rule).get("apiGroups")))


def _resource(platform: Platform, obj: Obj) -> str:
    crd = platform.crd_for(obj)
    if crd is not None:
        return str(as_dict(crd.spec.get("names")).get("plural") or "")
    return builtin.plural(obj.kind)


def _intercepts(platform: Platform, hook: dict[str, Any], obj: Obj) -> bool:
    """Whether the API server sends obj's CREATE to this webhook and refuses it while the webhook cannot answer."""
    if hook.get("failurePolicy", "Fail") != "Fail":
        return False
    resource = _resource(platform, obj)
    if not any(_rule_matches(as_dict(rule), obj, resource) for rule in as_list(hook.get("rules"))):
        return False
    if not selects(as_dict(hook.get("objectSelector")), obj.labels):
        return False
    if obj.namespace:
        labels = {**platform.namespace_labels(obj.cluster, obj.namespace), "kubernetes.io/metadata.name": obj.namespace}
        return selects(as_dict(hook.get("namespaceSelector")), labels)
    return True


def _rule_matches(rule: dict[str, Any], obj: Obj, resource: str) -> bool:
    def has(field: str, value: str) -> bool:
        values = [str(v) for v in as_list(rule.get(field))]
        return "*" in values or value in values

    resources = [str(r) for r in as_list(rule.get("resources"))]
    scope = str(rule.get("scope") or "*")
    scoped = scope == "*" or (scope == "Namespaced") == bool(obj.namespace)
    return (
        has("operations", "CREATE")
        and has("apiGroups", obj.group)
        and has("apiVersions", obj.version)
        and any(r in ("*", "*/*", resource) for r in resources)
        and scoped
    )
