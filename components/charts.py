"""A pinned chart of the catalog as Helm v4 installs it: the one way every component installs a chart."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.catalog import HelmChart


def helm_chart(
    name: str,
    chart: HelmChart,
    *,
    namespace: str,
    values: Mapping[str, Any],
    opts: pulumi.ResourceOptions,
    release: str | None = None,
) -> k8s.helm.v4.Chart:
    """`chart` at its pinned version, released as `release` (default: the chart's name).

    helm.v4 would otherwise name the release after the resource (`<stack>-...-chart`), and every object name
    derived from it would miss what refers to it. An OCI chart is referenced by its full URL, an HTTP one by
    name in its repository. Chart v4 renders in the provider and registers each object, so stack transforms
    (the registry mirror) reach them."""
    oci = chart.repository.startswith("oci://")
    return k8s.helm.v4.Chart(
        name,
        name=release or chart.name,
        chart=chart.ref,
        version=chart.version,
        repository_opts=None if oci else k8s.helm.v4.RepositoryOptsArgs(repo=chart.repository),
        namespace=namespace,
        values=dict(values),
        opts=opts,
    )
