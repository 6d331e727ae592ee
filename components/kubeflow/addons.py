"""Integrations the platform's brief names, each opt-in and pinned to its official chart."""

from __future__ import annotations

from components import catalog
from components.kubeflow.base import KubeflowComponent


class SeldonCore(KubeflowComponent):
    """Seldon Core v2 (CRDs, then controller and servers). BSL 1.1 since 2024-01: opt-in, licence stated."""

    kind = "SeldonCore"

    def build(self, name: str) -> None:
        ns = self.namespace(f"{name}-namespace", "seldon-mesh", "baseline")
        crds = self.chart(f"{name}-crds", catalog.SELDON_CRDS, "seldon-mesh", {}, ns)
        self.chart(f"{name}-setup", catalog.SELDON_SETUP, "seldon-mesh", {"controller": {"clusterwide": True}}, crds)


class MLRun(KubeflowComponent):
    """MLRun CE (serving graphs, with Nuclio bundled)."""

    kind = "MLRun"

    def build(self, name: str) -> None:
        ns = self.namespace(f"{name}-namespace", "mlrun", "baseline")
        self.chart(f"{name}-chart", catalog.MLRUN_CE, "mlrun", {}, ns)


class Nuclio(KubeflowComponent):
    """Nuclio serverless functions on their own (MLRun bundles its own)."""

    kind = "Nuclio"

    def build(self, name: str) -> None:
        ns = self.namespace(f"{name}-namespace", "nuclio", "baseline")
        self.chart(f"{name}-chart", catalog.NUCLIO, "nuclio", {}, ns)


class Pachyderm(KubeflowComponent):
    """Pachyderm data versioning. Source-available licence: opt-in, licence stated."""

    kind = "Pachyderm"

    def build(self, name: str) -> None:
        ns = self.namespace(f"{name}-namespace", "pachyderm", "baseline")
        self.chart(f"{name}-chart", catalog.PACHYDERM, "pachyderm", {"deployTarget": "CUSTOM"}, ns)


class Emissary(KubeflowComponent):
    """Emissary-ingress (Ambassador) as an additional API gateway; CRDs chart first."""

    kind = "Emissary"

    def build(self, name: str) -> None:
        ns = self.namespace(f"{name}-namespace", "emissary", "baseline")
        crds = self.chart(f"{name}-crds", catalog.EMISSARY_CRDS, "emissary-system", {}, ns)
        self.chart(f"{name}-chart", catalog.EMISSARY, "emissary", {}, crds)
