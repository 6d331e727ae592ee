"""The observability section: Prometheus (the pinned kube-prometheus-stack, or one the site already runs), the GPU
Operator's DCGM exporter ServiceMonitor, dashboards and alert rules, and Grafana behind the Kubeflow login."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from infra.models.base import DnsLabel, Model, matching

Duration = Annotated[str, matching(r"[1-9][0-9]*(h|d|w|y)", "a Prometheus retention such as '15d' or '12h'")]
LabelKey = Annotated[
    str,
    matching(
        r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?",
        "a Kubernetes label key such as 'release' or 'example.com/team'",
    ),
]
LabelValue = Annotated[
    str, matching(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?", "a Kubernetes label value (63 characters)")
]
SubPath = Annotated[
    str, matching(r"/([a-z0-9][-a-z0-9]*/)+", "a path under the Kubeflow hostname such as '/grafana/' (with both '/')")
]


class StackPrometheus(Model):
    """The pinned kube-prometheus-stack chart, installed in every cluster that runs the GPU Operator or Kubeflow."""

    retention: Duration = "15d"
    storage_gib: int | None = Field(
        default=None,
        ge=1,
        le=16384,
        description="a PersistentVolumeClaim of this size for Prometheus (on the cluster's storageClass); "
        "unset, Prometheus keeps its data in an emptyDir and loses it when the pod moves",
    )


class ExistingPrometheus(Model):
    """A Prometheus Operator the site already runs in each of those clusters: only ServiceMonitors, PrometheusRules
    and dashboard ConfigMaps are made, with the labels its Prometheus and its Grafana sidecar select."""

    namespace: DnsLabel = Field(description="where the rules and dashboards go (the namespace must exist)")
    selector_labels: dict[LabelKey, LabelValue] = Field(
        min_length=1,
        description="labels its Prometheus' serviceMonitorSelector and ruleSelector match, e.g. {release: prom}",
    )
    dashboard_label: LabelKey = "grafana_dashboard"
    dashboard_label_value: LabelValue = "1"


class GrafanaSettings(Model):
    """Grafana (the chart's own) under the Kubeflow hostname, signed in through the platform's login only."""

    path: SubPath = "/grafana/"
    default_role: Literal["Viewer", "Editor"] = Field(
        default="Viewer", description="the Grafana role of everyone who signs in through the Kubeflow login"
    )


class ObservabilitySettings(Model):
    """Opt-in: `observability: {enabled: true}` installs the pinned stack; `prometheus: existing` uses the site's."""

    enabled: bool = True
    prometheus: Literal["stack", "existing"] = "stack"
    stack: StackPrometheus = StackPrometheus()
    existing: ExistingPrometheus | None = None
    grafana: GrafanaSettings = GrafanaSettings()
    kubeflow_metrics: bool = Field(
        default=True,
        description="scrape the Kubeflow components whose upstream manifests expose a metrics Service, and count "
        "notebooks and pipeline runs (kube-state-metrics custom resource metrics)",
    )

    @model_validator(mode="after")
    def _section_for_prometheus(self) -> ObservabilitySettings:
        if self.prometheus == "existing" and self.existing is None:
            raise ValueError(
                "prometheus is 'existing': add the 'existing' section beside it (namespace, selectorLabels)"
            )
        if self.prometheus == "stack" and self.existing is not None:
            raise ValueError("the 'existing' section is read only with prometheus: existing; remove it or set that")
        return self
