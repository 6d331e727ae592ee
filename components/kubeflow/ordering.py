"""Order inside one kustomize directory, where upstream's install scripts wait and retry.

pulumi-kubernetes creates a directory's CRDs and namespaces first and waits for every object it creates; what
it cannot know is that a custom object is checked by a webhook served from a Deployment of the same directory.
KServe's ClusterServingRuntimes are (`clusterservingruntime.kserve-webhook-server.validator`, failurePolicy
Fail), and so is Knative Serving's own Certificate: created beside their controllers they are refused until
those answer, which is why 26.03's `tests/kserve_install.sh` and `knative_install.sh` apply their directories up
to three times. The `config.kubernetes.io/depends-on` annotation, which the provider honours within a
directory, makes each wait for its webhook's Deployment.

A stack transform, so it reaches the objects the provider renders from the directory; `kfvs render` runs the
same callable on the objects it builds, so the rendered manifests carry the annotation too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pulumi

DEPENDS_ON = "config.kubernetes.io/depends-on"

WEBHOOK_GATED: Mapping[str, tuple[str, ...]] = {
    "kubernetes:serving.kserve.io/v1alpha1:ClusterServingRuntime": (
        "apps/namespaces/kubeflow/Deployment/kserve-controller-manager",
        "/namespaces/kubeflow/Service/kserve-webhook-server-service",
    ),
    # Knative Serving's own Certificate, checked by `webhook.serving.knative.dev` (26.03's
    # `tests/knative_install.sh` retries the directory for it).
    "kubernetes:networking.internal.knative.dev/v1alpha1:Certificate": (
        "apps/namespaces/knative-serving/Deployment/webhook",
        "/namespaces/knative-serving/Service/webhook",
    ),
}
"""Pulumi type of a custom object -> depends-on references of the webhook that checks it: its Deployment and
the Service it is called through (the provider awaits a Service until it has endpoints)."""


def with_dependency(props: Mapping[str, Any], *references: str) -> dict[str, Any]:
    """`props` with `references` added to its depends-on annotation (each kept once; others' references kept)."""
    out = dict(props)
    metadata = dict(out.get("metadata") or {})
    annotations = dict(metadata.get("annotations") or {})
    refs = [r for r in str(annotations.get(DEPENDS_ON, "")).split(",") if r]
    refs += [r for r in references if r not in refs]
    annotations[DEPENDS_ON] = ",".join(refs)
    metadata["annotations"] = annotations
    out["metadata"] = metadata
    return out


def webhook_order() -> Callable[[pulumi.ResourceTransformArgs], pulumi.ResourceTransformResult | None]:
    """The stack transform: each webhook-gated object waits for its webhook's Deployment."""

    def order(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        references = WEBHOOK_GATED.get(args.type_)
        if references is None:
            return None
        return pulumi.ResourceTransformResult(props=with_dependency(args.props, *references), opts=args.opts)

    return order
