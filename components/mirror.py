"""Air-gapped sites: every image, chart and manifest from the private registry (Harbor) instead.

A stack transform, so it reaches every object the engine registers, including what Helm charts
and kustomize directories render inside the provider.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi

from components.catalog import MANIFESTS_REPO

_IMAGE_KEYS = {"image", "repository", "hub"}
_CHART = "kubernetes:helm.sh/v4:Chart"
_KUSTOMIZE = "kubernetes:kustomize/v2:Directory"


@dataclass(frozen=True, kw_only=True)
class RegistryMirror:
    """`host` is the Harbor project proxying upstream registries by host (`harbor/proxy/ghcr.io/...`);
    charts are OCI artifacts under `host/charts`; `manifests` is a git mirror of kubeflow/manifests."""

    host: str
    manifests: str
    pull_secret: str | None = None

    def image(self, ref: str) -> str:
        """`ghcr.io/kubeflow/x:1` -> `<host>/ghcr.io/kubeflow/x:1`; Docker Hub short names made explicit."""
        if ref.startswith(self.host + "/") or not ref:
            return ref
        first, _, rest = ref.partition("/")
        if rest and ("." in first or ":" in first or first == "localhost"):
            return f"{self.host}/{first}/{rest}"
        return f"{self.host}/docker.io/{ref if rest else 'library/' + ref}"

    def chart(self, props: dict[str, Any]) -> dict[str, Any]:
        """A chart from an HTTP or OCI repository -> the same chart as an OCI artifact in the mirror."""
        chart = str(props.get("chart", ""))
        name = chart.rsplit("/", 1)[-1]
        props = {k: v for k, v in props.items() if k != "repositoryOpts"}
        props["chart"] = f"oci://{self.host}/charts/{name}"
        props["values"] = self._values(props.get("values") or {})
        return props

    def _values(self, value: Any, key: str = "") -> Any:
        """Image references inside chart values: `image`/`repository`/`hub` strings, or a split
        `registry` + `repository` pair (then only the registry moves)."""
        if isinstance(value, dict) and isinstance(value.get("registry"), str) and "repository" in value:
            return {**value, "registry": f"{self.host}/{value['registry']}"}
        if isinstance(value, dict):
            return {k: self._values(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self._values(v, key) for v in value]
        if isinstance(value, str) and key in _IMAGE_KEYS and "/" in value:
            return self.image(value)
        return value

    def pods(self, value: Any) -> Any:
        """Every `image` of every container in a rendered object, and the pull secret on every pod spec."""
        if isinstance(value, dict):
            out = {
                k: (self.image(v) if k == "image" and isinstance(v, str) else self.pods(v)) for k, v in value.items()
            }
            if self.pull_secret and "containers" in out and isinstance(out["containers"], list):
                out["imagePullSecrets"] = [*out.get("imagePullSecrets", []), {"name": self.pull_secret}]
            return out
        if isinstance(value, list):
            return [self.pods(v) for v in value]
        return value

    def transform(self) -> Callable[[pulumi.ResourceTransformArgs], pulumi.ResourceTransformResult | None]:
        """The stack transform to register once, before any resource."""

        def rewrite(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
            props = dict(args.props)
            if args.type_ == _CHART:
                props = self.chart(props)
            elif args.type_ == _KUSTOMIZE:
                props["directory"] = str(props.get("directory", "")).replace(MANIFESTS_REPO, self.manifests)
            elif args.type_.startswith("kubernetes:"):
                props = self.pods(props)
            else:
                return None
            return pulumi.ResourceTransformResult(props=props, opts=args.opts)

        return rewrite
