"""Every Kubeflow component, in upstream's install order: the one list a new component is added to."""

from __future__ import annotations

from collections.abc import Mapping

from components.kubeflow import addons, apps, auth, ingress, workloads
from components.kubeflow.base import KubeflowComponent

COMPONENTS: tuple[type[KubeflowComponent], ...] = (
    apps.KubeflowNamespace,
    ingress.CertManager,
    ingress.Istio,
    auth.OAuth2Proxy,
    auth.Dex,
    apps.Profiles,
    apps.CentralDashboard,
    apps.AdmissionWebhook,
    apps.Notebooks,
    apps.PvcViewer,
    apps.VolumesWebApp,
    apps.Tensorboards,
    workloads.Knative,
    workloads.KServe,
    apps.Pipelines,
    workloads.Katib,
    workloads.Trainer,
    workloads.TrainingOperator,
    workloads.SparkOperator,
    workloads.ModelRegistry,
    addons.SeldonCore,
    addons.MLRun,
    addons.Nuclio,
    addons.Emissary,
)
"""Upstream's install order (the manifests README: a serial chain, one step per component); ties in the
platform's dependency order are broken by it."""

BY_KEY: Mapping[str, type[KubeflowComponent]] = {c.key: c for c in COMPONENTS}
"""Component class by its settings key."""


def needs_table() -> str:
    """The README's "component | needs" table, generated from the declarations."""
    rows = ["| component | installs | needs |", "|---|---|---|"]
    for c in COMPONENTS:
        needs = ", ".join(c.needs) or "nothing"
        if c.not_needed_with_raw_serving:
            needs += f" (not {', '.join(c.not_needed_with_raw_serving)} in raw-deployment mode)"
        if c.waits_for_if_enabled:
            needs += f"; waits for {', '.join(c.waits_for_if_enabled)} when they are enabled"
        default = "" if c.enabled_by_default else " (off by default)"
        rows.append(f"| `{c.key}`{default} | {c.summary} | {needs} |")
    return "\n".join(rows) + "\n"
