"""The rendered platform indexed the way the rules ask about it: by cluster, kind, namespace and name."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import yaml

from infra.kfvs.kinds import CLUSTER_SCOPED
from infra.kfvs.lint import builtin
from infra.kfvs.rendered import NotRendered, Rendering

PROFILE_INJECTION_LABEL = "istio-injection"
PROFILE_LABELS_KEY = "namespace-labels.yaml"

EXTRA_SOURCE = "command line"
"""The source of manifests given on the command line: applied after everything the platform applies."""


@dataclass(frozen=True)
class Obj:
    """One object of the cluster's view, with where it comes from."""

    manifest: dict[str, Any]
    source: str
    component: str
    cluster: str

    @property
    def api_version(self) -> str:
        return str(self.manifest.get("apiVersion") or "")

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    @property
    def version(self) -> str:
        return self.api_version.rpartition("/")[2]

    @property
    def kind(self) -> str:
        return str(self.manifest.get("kind") or "")

    @property
    def metadata(self) -> dict[str, Any]:
        meta = self.manifest.get("metadata")
        return meta if isinstance(meta, dict) else {}

    @property
    def name(self) -> str:
        return str(self.metadata.get("name") or "")

    @property
    def namespace(self) -> str:
        return str(self.metadata.get("namespace") or "")

    @property
    def labels(self) -> dict[str, str]:
        return _str_map(self.metadata.get("labels"))

    @property
    def annotations(self) -> dict[str, str]:
        return _str_map(self.metadata.get("annotations"))

    @property
    def spec(self) -> dict[str, Any]:
        return as_dict(self.manifest.get("spec"))


def _str_map(value: object) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


Key = tuple[str, str, str, str, str]
"""(cluster, group, kind, namespace, name)"""


class Platform:
    """Everything the rules need: the objects (platform then command line), CRDs, namespaces and the graph."""

    def __init__(self, rendering: Rendering, extra: Iterable[Mapping[str, Any]] = ()) -> None:
        self.rendering = rendering
        self.kubernetes_version = rendering.kubernetes_version or builtin.DEFAULT_VERSION
        self.objects: list[Obj] = [
            Obj(dict(o.manifest), o.source, o.component, o.cluster)
            for o in rendering.objects
            if isinstance(o.manifest, dict)
        ]
        cluster = self.workload_cluster
        self.objects += [Obj(dict(m), EXTRA_SOURCE, EXTRA_SOURCE, cluster) for m in extra if isinstance(m, Mapping)]
        self.objects = [self._as_stored(o) for o in self.objects]
        self.__dict__.pop("crds", None)  # indexed again from the objects as stored
        self._by_key: dict[Key, Obj] = {}
        for obj in self.objects:
            self._by_key.setdefault(self.key(obj), obj)
        self._closure: dict[str, frozenset[str]] = {}
        self.memo: dict[tuple[str, ...], Any] = {}  # what rules compute once per run

    def _as_stored(self, obj: Obj) -> Obj:
        """An object as the API server stores it: a namespace given to a cluster-scoped object is ignored."""
        if not obj.namespace or self.is_namespaced(obj) is not False:
            return obj
        metadata = {k: v for k, v in obj.metadata.items() if k != "namespace"}
        return Obj({**obj.manifest, "metadata": metadata}, obj.source, obj.component, obj.cluster)

    @staticmethod
    def key(obj: Obj) -> Key:
        return (obj.cluster, obj.group, obj.kind, obj.namespace, obj.name)

    @cached_property
    def workload_cluster(self) -> str:
        """The cluster command-line manifests go to: the workload cluster with the most objects."""
        counts: dict[str, int] = defaultdict(int)
        for o in self.rendering.objects:
            if o.cluster:
                counts[o.cluster] += 1
        return max(sorted(counts), key=lambda c: counts[c]) if counts else ""

    def find(self, cluster: str, group: str, kind: str, namespace: str, name: str) -> Obj | None:
        return self._by_key.get((cluster, group, kind, namespace, name))

    def of_kind(self, group: str, kind: str) -> Iterator[Obj]:
        return (o for o in self.objects if o.kind == kind and o.group == group)

    @cached_property
    def crds(self) -> dict[tuple[str, str, str], Obj]:
        """(cluster, group, kind) -> the CustomResourceDefinition that serves it."""
        found: dict[tuple[str, str, str], Obj] = {}
        for crd in self.of_kind("apiextensions.k8s.io", "CustomResourceDefinition"):
            kind = str(as_dict(crd.spec.get("names")).get("kind") or "")
            found.setdefault((crd.cluster, str(crd.spec.get("group") or ""), kind), crd)
        return found

    def crd_for(self, obj: Obj) -> Obj | None:
        return self.crds.get((obj.cluster, obj.group, obj.kind))

    def is_namespaced(self, obj: Obj) -> bool | None:
        """True/False when the kind's scope is known (built-in or a CRD in the rendering), None otherwise."""
        if builtin.is_builtin_group(obj.group):
            return obj.kind not in CLUSTER_SCOPED
        crd = self.crd_for(obj)
        if crd is None:
            return None
        return crd.spec.get("scope") == "Namespaced"

    @cached_property
    def namespaces(self) -> dict[tuple[str, str], Obj]:
        return {(o.cluster, o.name): o for o in self.of_kind("", "Namespace")}

    def namespace_labels(self, cluster: str, namespace: str) -> dict[str, str]:
        """A namespace's labels as they will be: rendered, plus what the Kubeflow profile controller adds to the
        namespace of a Profile (`istio-injection: enabled` only when it creates the namespace itself, and the
        labels of its `namespace-labels.yaml` that the namespace does not set)."""
        ns = self.namespaces.get((cluster, namespace))
        labels = dict(ns.labels) if ns else {}
        if (cluster, namespace) in self.profiles:
            if ns is None:
                labels[PROFILE_INJECTION_LABEL] = "enabled"
            for key, value in self.profile_labels.get(cluster, {}).items():
                if value and key not in labels:
                    labels[key] = value
        return labels

    @cached_property
    def profiles(self) -> frozenset[tuple[str, str]]:
        return frozenset((o.cluster, o.name) for o in self.of_kind("kubeflow.org", "Profile"))

    @cached_property
    def profile_labels(self) -> dict[str, dict[str, str]]:
        """cluster -> the profile controller's default namespace labels (its `namespace-labels.yaml` ConfigMap)."""
        found: dict[str, dict[str, str]] = {}
        for cm in self.of_kind("", "ConfigMap"):
            raw = as_dict(cm.manifest.get("data")).get(PROFILE_LABELS_KEY)
            if isinstance(raw, str):
                try:
                    parsed = yaml.safe_load(raw)
                except yaml.YAMLError:
                    continue
                found.setdefault(cm.cluster, {}).update(_str_map(parsed))
        return found

    def depends(self, source: str) -> frozenset[str]:
        """Every source `source` waits for, directly or through others (the engine's order is transitive)."""
        if source == EXTRA_SOURCE:
            return frozenset({o.source for o in self.objects if o.source != EXTRA_SOURCE})
        if source in self._closure:
            return self._closure[source]
        self._closure[source] = frozenset()  # a cycle, should there be one, ends here
        seen: set[str] = set()
        for dep in self.rendering.depends_on.get(source, frozenset()):
            if dep != source:
                seen.add(dep)
                seen |= self.depends(dep)
        self._closure[source] = frozenset(seen)
        return self._closure[source]

    def ordered_before(self, first: str, then: str) -> bool:
        """Whether source `then` waits for source `first` (sources differ)."""
        return first in self.depends(then)

    @property
    def not_rendered(self) -> list[NotRendered]:
        return self.rendering.not_rendered

    def chart_inputs(self) -> Iterator[tuple[str, dict[str, Any]]]:
        yield from sorted(self.rendering.chart_inputs.items())

    def charts_named(self, *names: str) -> list[dict[str, Any]]:
        """Plan inputs of the helm charts whose chart is one of `names` (a repository chart or an OCI reference)."""
        return [inputs for _, inputs in self.chart_inputs() if chart_name(inputs) in names]

    def unrendered_charts(self) -> list[tuple[str, dict[str, Any]]]:
        """(URN, plan inputs) of each chart the rendering could not see into."""
        missing = {n.source for n in self.not_rendered}
        return [(urn, inputs) for urn, inputs in self.chart_inputs() if urn in missing]


def chart_name(inputs: Mapping[str, Any]) -> str:
    return str(inputs.get("chart") or "").rstrip("/").rpartition("/")[2]


def release_name(urn: str, inputs: Mapping[str, Any]) -> str:
    """A helm.v4 Chart's release name: its `name` input, else the resource's own name (the URN's last part)."""
    return str(inputs.get("name") or urn.rpartition("::")[2])


POD_TEMPLATE_KINDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("", "Pod"): (),
    ("", "ReplicationController"): ("spec", "template"),
    ("apps", "Deployment"): ("spec", "template"),
    ("apps", "StatefulSet"): ("spec", "template"),
    ("apps", "DaemonSet"): ("spec", "template"),
    ("apps", "ReplicaSet"): ("spec", "template"),
    ("batch", "Job"): ("spec", "template"),
    ("batch", "CronJob"): ("spec", "jobTemplate", "spec", "template"),
    # The notebook controller makes a StatefulSet from the Notebook's pod template as it stands.
    ("kubeflow.org", "Notebook"): ("spec", "template"),
    # KServe's predictor carries the PodSpec fields inline (containers, securityContext, volumes, ...); what KServe
    # adds (the runtime's kserve-container, storage-initializer, queue-proxy) is not modelled.
    ("serving.kserve.io", "InferenceService"): ("spec", "predictor"),
}
"""Kinds that carry a pod template, and where it is."""


def pod_template(obj: Obj) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(metadata, spec) of the pod the object makes, or None when it makes none."""
    path = POD_TEMPLATE_KINDS.get((obj.group, obj.kind))
    if path is None:
        return None
    node: Any = obj.manifest
    for step in path:
        node = as_dict(node).get(step)
    template = as_dict(node)
    if obj.kind == "InferenceService":
        return obj.metadata, template
    spec = as_dict(template.get("spec"))
    if not path:
        return obj.metadata, spec
    return as_dict(template.get("metadata")), spec


def containers(spec: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(field, container) for every container of a pod spec: init, regular and ephemeral."""
    for field_name in ("initContainers", "containers", "ephemeralContainers"):
        for c in as_list(spec.get(field_name)):
            if isinstance(c, dict):
                yield field_name, c


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A LabelSelector's verdict (an empty selector selects everything)."""
    for key, value in as_dict(selector.get("matchLabels")).items():
        if labels.get(str(key)) != str(value):
            return False
    for item in as_list(selector.get("matchExpressions")):
        expression = as_dict(item)
        key, operator = str(expression.get("key")), expression.get("operator")
        values = [str(v) for v in as_list(expression.get("values"))]
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True
