"""What a name on the `kfvs` command line means: one stack, or an environment of two layered stacks.

`kfvs plan dev` plans the environment: `dev-infra`, then `dev-platform` with its StackReference answered from the
infra layer's plan (docs/LAYERS.md). `kfvs plan dev-infra` plans that layer alone. A stack file named for the
environment itself (`Pulumi.dev.yaml`, the layout before the split) is that one stack.
"""

from __future__ import annotations

from pathlib import Path

from infra import paths
from infra.errors import ConfigError, Problem
from infra.kfvs.recorder import Recording
from infra.layers import LAYERS, environment_of, layer_stack


def layer_stacks(name: str, root: Path = paths.PROJECT_ROOT) -> list[str]:
    """The stacks `name` stands for, in `pulumi up` order; ConfigError naming what exists when it is neither."""
    if paths.stack_file(name, root).is_file():
        return [name]
    layered = [
        layer_stack(name, layer) for layer in LAYERS if paths.stack_file(layer_stack(name, layer), root).is_file()
    ]
    if layered:
        return layered
    file = paths.relative(paths.stack_file(name, root), root)
    return _missing(file, root)


def _missing(file: str, root: Path) -> list[str]:
    raise ConfigError([Problem(file, "", f"no such stack or environment; here: {names_here(root) or 'none'}")])


def environments(root: Path = paths.PROJECT_ROOT) -> list[str]:
    """Environments whose stacks are layered (`dev` for `dev-infra` and `dev-platform`)."""
    stacks = paths.list_stacks(root)
    return sorted({environment_of(s, layer) for s in stacks for layer in LAYERS if s.endswith(f"-{layer}")})


def names_here(root: Path = paths.PROJECT_ROOT) -> str:
    """The names a command takes: each environment (and, for the layered ones, a hint at their layers' stacks)."""
    layered = environments(root)
    names = ", ".join(paths.list_environments(root))
    return f"{names} (or one layer: {layered[0]}-infra, {layered[0]}-platform)" if layered else names


def merged(name: str, recordings: list[Recording]) -> Recording:
    """One recording of an environment's layers: every resource, read and lookup of each (URNs keep their
    layer's stack). Outputs and references are the last layer's: the platform's view of the environment; so are
    the stack transforms, the platform's, which the objects `kfvs render` builds belong to."""
    first = recordings[0]
    out = Recording(first.project, name)
    for r in recordings:
        out.resources.update(r.resources)
        out.invocations += r.invocations
        out.reads += r.reads
        out.duplicates += r.duplicates
        out.references.update(r.references)
        out.outputs = r.outputs if r.outputs is not None else out.outputs
        out.transforms = r.transforms
    return out
