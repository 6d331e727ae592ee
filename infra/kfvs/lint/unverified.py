"""What lint cannot see: the sources the rendering left out, and how a reference into them is reported.

A reference that only an unrendered chart (or directory) could satisfy is neither passed nor failed: it is reported
under its own rule id, `unverified`, naming what was left out.
"""

from __future__ import annotations

from infra.kfvs.lint.model import Platform, chart_name, release_name

RULE = "unverified"
MAX_NAMED = 3


def _short(urn: str) -> str:
    return urn.rpartition("::")[2] or urn


def unrendered_sources(platform: Platform) -> str:
    """'the unrendered a, b and 2 more', or '' when everything was rendered."""
    names = sorted({_short(n.source) for n in platform.not_rendered})
    if not names:
        return ""
    shown = ", ".join(names[:MAX_NAMED])
    more = f" and {len(names) - MAX_NAMED} more" if len(names) > MAX_NAMED else ""
    return f"the unrendered {shown}{more}"


def unrendered_in_namespace(platform: Platform, namespace: str) -> str:
    """The unrendered charts installed into `namespace` (release names), or '' when none is known to be."""
    releases = []
    for urn, inputs in platform.unrendered_charts():
        if str(inputs.get("namespace") or "") == namespace:
            name = chart_name(inputs)
            release = release_name(urn, inputs)
            releases.append(f"chart {name} (release {release!r})")
    return ", ".join(sorted(releases))


def could_come_from_unrendered(platform: Platform, namespace: str) -> str:
    """Why an object of `namespace` missing from the rendering may still exist: '' when nothing could make it.

    With the plan's chart inputs known, only charts installed into that namespace count; without them (or for an
    unrendered kustomize directory, or a cluster-scoped object) any unrendered source might.
    """
    if not namespace:  # a cluster-scoped object: any unrendered source may make one
        everything = unrendered_sources(platform)
        return f"{everything} may create it" if everything else ""
    charts = unrendered_in_namespace(platform, namespace)
    if charts:
        return f"the unrendered {charts} in that namespace may create it"
    known = {urn for urn, _ in platform.unrendered_charts()}
    opaque = sorted({_short(n.source) for n in platform.not_rendered if n.source not in known})
    if opaque:
        shown = ", ".join(opaque[:MAX_NAMED]) + (
            f" and {len(opaque) - MAX_NAMED} more" if len(opaque) > MAX_NAMED else ""
        )
        return f"the unrendered {shown} may create it"
    return ""
