"""Metrics, dashboards and alerts of one workload cluster: the pinned kube-prometheus-stack (or a Prometheus the site
runs), the GPU Operator's DCGM exporter scraped through its own ServiceMonitor, Kubeflow components' metrics where
upstream exposes them, dashboards for the Grafana sidecar and alert rules, all from files in this repository.

Grafana runs only in the Kubeflow cluster, behind the Kubeflow gateway: oauth2-proxy (the gateway's ext-authz
provider) signs people in, the gateway's RequestAuthentication turns the verified JWT's email into the
`kubeflow-userid` header, and Grafana's auth.proxy reads that header. Its pod is in the mesh and an
AuthorizationPolicy admits only the ingress gateway, so no pod of the cluster can reach it with a forged header.
The admin password is a RandomPassword; anonymous access, basic auth and the login form are off.

Pod Security: the stack's namespace `monitoring` is `restricted` (the operator, Prometheus, Alertmanager,
kube-state-metrics and Grafana all run as the chart sets them: non-root, no capabilities, RuntimeDefault seccomp;
Grafana's injected sidecar passes through Istio CNI). node-exporter reads the host's /proc, /sys and root file
system with hostNetwork, hostPID and hostPath volumes, which `baseline` already forbids, so it runs in a namespace
of its own, `monitoring-node-exporter`, at `privileged`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
import yaml

from components.catalog import KUBE_PROMETHEUS_STACK
from components.charts import helm_chart
from components.kubeflow.auth import GATEWAY
from components.kubeflow.ingress import INGRESS_GATEWAY_PRINCIPAL
from components.labels import GPU_POOL_LABEL, TEAM_LABEL, pss_labels

RELEASE = "kube-prometheus-stack"
"""The Helm release: the chart's Prometheus selects ServiceMonitors and PrometheusRules labelled `release: <it>`
(`*SelectorNilUsesHelmValues: true`, the chart's default)."""
NAMESPACE = "monitoring"
NODE_EXPORTER_NAMESPACE = "monitoring-node-exporter"
STACK_SELECTOR = {"release": RELEASE}
DASHBOARD_LABEL = ("grafana_dashboard", "1")
"""The label the chart's Grafana sidecar watches (values.yaml `grafana.sidecar.dashboards.label`/`labelValue`)."""
GRAFANA_SERVICE = "grafana"
"""`grafana.fullnameOverride`: the Service (port 80) and the pods' `app.kubernetes.io/name`."""
GRAFANA_ADMIN_SECRET = "grafana-admin"  # noqa: S105 - a Secret's name
USER_HEADER = "kubeflow-userid"
"""The header the Kubeflow gateway's RequestAuthentication fills from the verified JWT's email claim."""
DCGM_JOB = "nvidia-dcgm-exporter"
"""The GPU Operator's ServiceMonitor labels its job with the Service's `app` label (`jobLabel: app`)."""

MONITORING = Path(__file__).parent / "monitoring"
RULES_DIR = MONITORING / "rules"
DASHBOARDS_DIR = MONITORING / "dashboards"
GPU_RULES = ("gpu",)
"""Rule files for clusters that run the GPU Operator; the others (team quotas) go to the Kubeflow cluster."""
GPU_DASHBOARDS = ("gpu-use", "vgpu-licensing")


def metric_label(label: str) -> str:
    """The name kube-state-metrics gives a Kubernetes label in `kube_*_labels` (`label_` + sanitised key)."""
    return "label_" + re.sub(r"[^a-zA-Z0-9_]", "_", label)


def rule_files() -> dict[str, dict[str, Any]]:
    """Each rule file by stem: a Prometheus rule file (`groups:`), the spec of one PrometheusRule."""
    return {p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(RULES_DIR.glob("*.yaml"))}


def dashboard_files() -> dict[str, str]:
    """Each dashboard's JSON by stem, as shipped (checked to parse)."""
    out = {}
    for path in sorted(DASHBOARDS_DIR.glob("*.json")):
        text = path.read_text(encoding="utf-8")
        json.loads(text)
        out[path.stem] = text
    return out


def dcgm_service_monitor(selector: Mapping[str, str]) -> dict[str, Any]:
    """The GPU Operator chart's `dcgmExporter.serviceMonitor`: on, with the labels Prometheus selects.

    honorLabels keeps the exporter's `namespace`/`pod` (those of the pod holding the GPU) instead of renaming them
    `exported_*`, which the per-team dashboards join on; the relabeling adds the scraped pod's `node`, which the
    per-pool dashboards and the GPU node alerts join on."""
    return {
        "enabled": True,
        "honorLabels": True,
        "additionalLabels": dict(selector),
        "relabelings": [
            {"sourceLabels": ["__meta_kubernetes_pod_node_name"], "targetLabel": "node", "action": "replace"}
        ],
    }


@dataclass(frozen=True, kw_only=True)
class KubeflowMonitor:
    """A Kubeflow component's metrics Service as upstream's manifests (26.03) install it."""

    component: str
    """The component's key (components/kubeflow/registry.py): scraped only when it is installed."""
    service: str
    selector: Mapping[str, str]
    port: str
    https: bool = False
    """Behind kube-rbac-proxy: HTTPS with Prometheus' service account token (its ClusterRole may GET /metrics)."""


KUBEFLOW_MONITORS: tuple[KubeflowMonitor, ...] = (
    KubeflowMonitor(
        component="katib",
        service="katib-controller",
        selector={"katib.kubeflow.org/component": "controller"},
        port="metrics",
    ),
    KubeflowMonitor(
        component="trainingOperator",
        service="training-operator",
        selector={"app": "training-operator"},
        port="monitoring-port",
    ),
    KubeflowMonitor(
        component="kserve",
        service="kserve-controller-manager-metrics-service",
        selector={"control-plane": "kserve-controller-manager"},
        port="https",
        https=True,
    ),
)
"""Upstream metrics Services whose pods are outside the mesh (`sidecar.istio.io/inject: "false"`), so Prometheus,
which is not in the mesh, can scrape them. Left out: ml-pipeline (8888), tensorboard-controller and pvcviewer
(kube-rbac-proxy, 8443) expose metrics too, but their pods are in the mesh behind `global-deny-all`."""
KUBEFLOW_NAMESPACE = "kubeflow"

NOTEBOOK_METRIC = "kubeflow_notebook_ready_replicas"
PIPELINE_RUN_METRIC = "kubeflow_pipeline_run_info"


def custom_resource_metrics(components: Sequence[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """kube-state-metrics' CustomResourceStateMetrics for notebooks and pipeline runs, and the RBAC rules it needs.

    One `kubeflow_notebook_ready_replicas` series per Notebook (kubeflow.org/v1) and one `kubeflow_pipeline_run_info`
    per Argo Workflow (a Kubeflow Pipelines run), labelled with its namespace and phase."""
    resources: list[dict[str, Any]] = []
    rules: list[dict[str, Any]] = []
    where = {"namespace": ["metadata", "namespace"], "name": ["metadata", "name"]}
    if "notebooks" in components:
        resources.append(
            {
                "groupVersionKind": {"group": "kubeflow.org", "version": "v1", "kind": "Notebook"},
                "metricNamePrefix": "kubeflow_notebook",
                "labelsFromPath": where,
                "metrics": [
                    {
                        "name": "ready_replicas",
                        "help": "Ready replicas of a Kubeflow notebook (0 while stopped or starting)",
                        "each": {"type": "Gauge", "gauge": {"path": ["status", "readyReplicas"], "nilIsZero": True}},
                    }
                ],
            }
        )
        rules.append({"apiGroups": ["kubeflow.org"], "resources": ["notebooks"], "verbs": ["list", "watch"]})
    if "pipelines" in components:
        resources.append(
            {
                "groupVersionKind": {"group": "argoproj.io", "version": "v1alpha1", "kind": "Workflow"},
                "metricNamePrefix": "kubeflow_pipeline_run",
                "labelsFromPath": where,
                "metrics": [
                    {
                        "name": "info",
                        "help": "One series per Kubeflow Pipelines run (Argo Workflow), with its phase",
                        "each": {"type": "Info", "info": {"labelsFromPath": {"phase": ["status", "phase"]}}},
                    }
                ],
            }
        )
        rules.append({"apiGroups": ["argoproj.io"], "resources": ["workflows"], "verbs": ["list", "watch"]})
    return {"kind": "CustomResourceStateMetrics", "spec": {"resources": resources}}, rules


@dataclass(frozen=True, kw_only=True)
class GrafanaArgs:
    """Grafana under the Kubeflow hostname, after the gateway and its ext-authz provider exist."""

    hostname: str
    path: str = "/grafana/"
    default_role: str = "Viewer"
    depends_on: Sequence[pulumi.Resource] = ()


@dataclass(frozen=True, kw_only=True)
class ExistingPrometheusArgs:
    """A Prometheus Operator the site runs: where our objects go and the labels its selectors match."""

    namespace: str
    selector_labels: Mapping[str, str]
    dashboard_label: tuple[str, str] = DASHBOARD_LABEL


@dataclass(frozen=True, kw_only=True)
class ObservabilityArgs:
    """One cluster's observability: what runs there decides which rules, monitors and dashboards it gets."""

    provider: pulumi.ProviderResource
    gpu_operator: bool
    """The cluster runs the GPU Operator: GPU rules and dashboards."""
    kubeflow_components: Sequence[str] | None = None
    """The Kubeflow components installed in this cluster (None: Kubeflow does not run here)."""
    kubeflow_metrics: bool = True
    existing: ExistingPrometheusArgs | None = None
    """None: install the pinned kube-prometheus-stack."""
    retention: str = "15d"
    storage_gib: int | None = None
    storage_class: str | None = None
    """The StorageClass of Prometheus' volume (the cluster's own); None: the cluster's default."""
    grafana: GrafanaArgs | None = None
    """Only with the stack, in the Kubeflow cluster."""
    labels: Mapping[str, str] = field(default_factory=dict[str, str])


def selector_labels(existing: ExistingPrometheusArgs | None) -> dict[str, str]:
    """The labels the cluster's Prometheus selects ServiceMonitors and PrometheusRules by."""
    return dict(existing.selector_labels) if existing is not None else dict(STACK_SELECTOR)


def grafana_values(grafana: GrafanaArgs) -> dict[str, Any]:
    """The Grafana subchart: admin from our Secret, signed in only by the gateway's header, in the mesh."""
    return {
        "fullnameOverride": GRAFANA_SERVICE,
        "admin": {"existingSecret": GRAFANA_ADMIN_SECRET, "userKey": "admin-user", "passwordKey": "admin-password"},
        # Prometheus is outside the mesh and `global-deny-all` would refuse its scrapes of the meshed Grafana.
        "serviceMonitor": {"enabled": False},
        "testFramework": {"enabled": False},
        "podLabels": {"sidecar.istio.io/inject": "true"},
        "grafana.ini": {
            "server": {
                "domain": grafana.hostname,
                "root_url": f"https://{grafana.hostname}{grafana.path}",
                "serve_from_sub_path": True,
            },
            "auth": {"disable_login_form": True, "disable_signout_menu": True},
            "auth.anonymous": {"enabled": False},
            "auth.basic": {"enabled": False},
            "auth.proxy": {
                "enabled": True,
                "header_name": USER_HEADER,
                "header_property": "email",
                "auto_sign_up": True,
                "enable_login_token": False,
            },
            "users": {"allow_sign_up": False, "auto_assign_org": True, "auto_assign_org_role": grafana.default_role},
            "analytics": {"check_for_updates": False, "reporting_enabled": False},
        },
    }


def stack_values(args: ObservabilityArgs) -> dict[str, Any]:
    """kube-prometheus-stack values: only keys of the pinned chart and its subcharts (a test checks it)."""
    prometheus: dict[str, Any] = {"retention": args.retention}
    if args.storage_gib is not None:
        prometheus["storageSpec"] = {
            "volumeClaimTemplate": {
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": f"{args.storage_gib}Gi"}},
                    **({"storageClassName": args.storage_class} if args.storage_class else {}),
                }
            }
        }
    ksm: dict[str, Any] = {"metricLabelsAllowlist": [f"namespaces=[{TEAM_LABEL}]", f"nodes=[{GPU_POOL_LABEL}]"]}
    if args.kubeflow_components is not None and args.kubeflow_metrics:
        config, rules = custom_resource_metrics(args.kubeflow_components)
        if rules:
            ksm["customResourceState"] = {"enabled": True, "config": config}
            ksm["rbac"] = {"extraRules": rules}
    return {
        # TKG control planes bind etcd, the scheduler and the controller manager to localhost: not scrapable.
        "kubeEtcd": {"enabled": False},
        "kubeControllerManager": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "prometheus": {"prometheusSpec": prometheus},
        "kube-state-metrics": ksm,
        "prometheus-node-exporter": {"namespaceOverride": NODE_EXPORTER_NAMESPACE},
        "grafana": grafana_values(args.grafana) if args.grafana is not None else {"enabled": False},
    }


def kubeflow_monitor_spec(monitor: KubeflowMonitor) -> dict[str, Any]:
    endpoint: dict[str, Any] = {"port": monitor.port, "path": "/metrics"}
    if monitor.https:
        # As upstream's own ServiceMonitors for these controllers: kube-rbac-proxy's self-signed certificate.
        endpoint |= {
            "scheme": "https",
            "bearerTokenFile": "/var/run/secrets/kubernetes.io/serviceaccount/token",
            "tlsConfig": {"insecureSkipVerify": True},
        }
    return {
        "namespaceSelector": {"matchNames": [KUBEFLOW_NAMESPACE]},
        "selector": {"matchLabels": dict(monitor.selector)},
        "endpoints": [endpoint],
    }


def grafana_route(path: str) -> dict[str, Any]:
    """The VirtualService on the Kubeflow gateway: `<path>` to Grafana (which serves from that sub-path)."""
    return {
        "gateways": [GATEWAY],
        "hosts": ["*"],
        "http": [
            {"match": [{"uri": {"exact": path.rstrip("/")}}], "redirect": {"uri": path}},
            {
                "match": [{"uri": {"prefix": path}}],
                "route": [
                    {
                        "destination": {
                            "host": f"{GRAFANA_SERVICE}.{NAMESPACE}.svc.cluster.local",
                            "port": {"number": 80},
                        }
                    }
                ],
            },
        ],
    }


def grafana_policy() -> dict[str, Any]:
    """Only the ingress gateway (which has verified the user's JWT) may call Grafana."""
    return {
        "action": "ALLOW",
        "selector": {"matchLabels": {"app.kubernetes.io/name": GRAFANA_SERVICE}},
        "rules": [{"from": [{"source": {"principals": [INGRESS_GATEWAY_PRINCIPAL]}}]}],
    }


class Observability(pulumi.ComponentResource):
    """Prometheus (pinned chart or the site's), rules, monitors and dashboards of one cluster, and Grafana."""

    namespace: str
    chart: k8s.helm.v4.Chart | None
    grafana_admin_password: pulumi.Output[str] | None

    def __init__(self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubeflow-vsphere:services:Observability", name, None, opts)
        self.args = args
        self.labels = dict(args.labels)
        self.chart = None
        self.grafana_admin_password = None
        after: list[pulumi.Resource] = []
        if args.existing is None:
            self.namespace = NAMESPACE
            self.chart = self._stack(name)
            after = [self.chart]
        else:
            self.namespace = args.existing.namespace
        self._rules(name, after)
        self._kubeflow_monitors(name, after)
        if args.existing is not None or args.grafana is not None:
            self._dashboards(name, args.existing.dashboard_label if args.existing else DASHBOARD_LABEL, after)
        if args.grafana is not None:
            self._grafana_route(name, args.grafana, after)
        self.register_outputs({"namespace": self.namespace, "chart": RELEASE if self.chart else None})

    def _opts(self, after: Sequence[pulumi.Resource] = ()) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self.args.provider, depends_on=list(after))

    def _namespace(self, name: str, namespace: str, level: str) -> k8s.core.v1.Namespace:
        return k8s.core.v1.Namespace(
            name,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=namespace, labels={**self.labels, **pss_labels(level)}),
            opts=self._opts(),
        )

    def _stack(self, name: str) -> k8s.helm.v4.Chart:
        namespaces: list[pulumi.Resource] = [
            self._namespace(f"{name}-namespace", NAMESPACE, "restricted"),
            self._namespace(f"{name}-node-exporter-namespace", NODE_EXPORTER_NAMESPACE, "privileged"),
        ]
        if self.args.grafana is not None:
            password = random.RandomPassword(
                f"{name}-grafana-admin", length=32, special=False, opts=pulumi.ResourceOptions(parent=self)
            )
            self.grafana_admin_password = pulumi.Output.secret(password.result)
            namespaces.append(
                k8s.core.v1.Secret(
                    f"{name}-grafana-admin",
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        name=GRAFANA_ADMIN_SECRET, namespace=NAMESPACE, labels=self.labels
                    ),
                    string_data={"admin-user": "admin", "admin-password": self.grafana_admin_password},
                    opts=self._opts(namespaces[:1]),
                )
            )
        return helm_chart(
            f"{name}-chart",
            KUBE_PROMETHEUS_STACK,
            namespace=NAMESPACE,
            values=stack_values(self.args),
            release=RELEASE,
            opts=self._opts(namespaces),
        )

    def _object(
        self,
        name: str,
        api: tuple[str, str],
        object_name: str,
        spec: Mapping[str, Any],
        *,
        labels: Mapping[str, str],
        after: Sequence[pulumi.Resource],
    ) -> k8s.apiextensions.CustomResource:
        api_version, kind = api
        return k8s.apiextensions.CustomResource(
            name,
            api_version=api_version,
            kind=kind,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=object_name, namespace=self.namespace, labels={**self.labels, **labels}
            ),
            spec=dict(spec),
            opts=self._opts(after),
        )

    def _rules(self, name: str, after: Sequence[pulumi.Resource]) -> None:
        selector = selector_labels(self.args.existing)
        kubeflow = self.args.kubeflow_components is not None
        for stem, groups in rule_files().items():
            if (stem in GPU_RULES and self.args.gpu_operator) or (stem not in GPU_RULES and kubeflow):
                self._object(
                    f"{name}-rules-{stem}",
                    ("monitoring.coreos.com/v1", "PrometheusRule"),
                    f"kubeflow-vsphere-{stem}",
                    {"groups": groups["groups"]},
                    labels=selector,
                    after=after,
                )

    def _kubeflow_monitors(self, name: str, after: Sequence[pulumi.Resource]) -> None:
        components = self.args.kubeflow_components
        if components is None or not self.args.kubeflow_metrics:
            return
        for monitor in KUBEFLOW_MONITORS:
            if monitor.component in components:
                self._object(
                    f"{name}-monitor-{monitor.service}",
                    ("monitoring.coreos.com/v1", "ServiceMonitor"),
                    f"kubeflow-{monitor.service}",
                    kubeflow_monitor_spec(monitor),
                    labels=selector_labels(self.args.existing),
                    after=after,
                )

    def _dashboards(self, name: str, label: tuple[str, str], after: Sequence[pulumi.Resource]) -> None:
        kubeflow = self.args.kubeflow_components is not None
        for stem, text in dashboard_files().items():
            if (stem in GPU_DASHBOARDS and self.args.gpu_operator) or (stem not in GPU_DASHBOARDS and kubeflow):
                k8s.core.v1.ConfigMap(
                    f"{name}-dashboard-{stem}",
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        name=f"kubeflow-vsphere-{stem}",
                        namespace=self.namespace,
                        labels={**self.labels, label[0]: label[1]},
                    ),
                    data={f"{stem}.json": text},
                    opts=self._opts(after),
                )

    def _grafana_route(self, name: str, grafana: GrafanaArgs, after: Sequence[pulumi.Resource]) -> None:
        mesh = [*grafana.depends_on, *after]
        self._object(
            f"{name}-grafana-route",
            ("networking.istio.io/v1", "VirtualService"),
            GRAFANA_SERVICE,
            grafana_route(grafana.path),
            labels={},
            after=mesh,
        )
        self._object(
            f"{name}-grafana-policy",
            ("security.istio.io/v1", "AuthorizationPolicy"),
            GRAFANA_SERVICE,
            grafana_policy(),
            labels={},
            after=mesh,
        )
