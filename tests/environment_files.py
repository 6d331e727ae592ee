"""An environment's configuration as tests edit it: one mapping over its two layers' stack files.

Since the split (docs/LAYERS.md) an environment's keys live in `stacks/Pulumi.<env>-infra.yaml` and
`stacks/Pulumi.<env>-platform.yaml`. A test edits the environment as one `config` mapping; writing it back puts
each key in the file that owns it (infra/layer_config.py), so a test says what it changes, not where it lives.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra import paths
from infra.layer_config import INFRA_KEYS, INFRA_NAMESPACES, PLATFORM_KEYS
from infra.layers import LAYERS, Layer, layer_stack
from tests import yamlio


def layer_file(env: str, layer: Layer) -> str:
    """A layer's stack file as error messages name it."""
    return f"stacks/Pulumi.{layer_stack(env, layer)}.yaml"


def owner(key: str) -> Layer | None:
    """The layer whose file holds `key` (None: either, such as the layer itself or the licence token)."""
    namespace, _, rest = key.partition(":")
    name = rest.split(".", 1)[0]
    if namespace in INFRA_NAMESPACES or (namespace == paths.PROJECT_NAME and name in INFRA_KEYS):
        return "infra"
    if namespace == paths.PROJECT_NAME and name in PLATFORM_KEYS:
        return "platform"
    return None


def owner_file(env: str, key: str) -> str:
    """The file a problem on `key` names."""
    return layer_file(env, owner(key) or "infra")


def _documents(project: Path, env: str) -> dict[Layer, dict[str, Any]]:
    return {layer: yamlio.load((project / layer_file(env, layer)).read_text()) for layer in LAYERS}


def read_environment(project: Path, env: str) -> dict[str, Any]:
    """The environment's `config`: both files' keys (the infra file's first)."""
    documents = _documents(project, env)
    return {**documents["infra"]["config"], **documents["platform"]["config"]}


def write_environment(project: Path, env: str, config: dict[str, Any]) -> None:
    """Each key into the file that owns it; a key either may hold stays where it was (a new one goes to the infra
    file); each file keeps its own `layer`."""
    documents = _documents(project, env)
    before = {layer: dict(documents[layer]["config"]) for layer in LAYERS}
    sections: dict[Layer, dict[str, Any]] = {layer: {} for layer in LAYERS}
    for key, value in config.items():
        home = owner(key)
        if home is not None:
            sections[home][key] = value
            continue
        if key == f"{paths.PROJECT_NAME}:layer":
            continue
        holders = [layer for layer in LAYERS if key in before[layer]] or ["infra"]
        for layer in holders:
            sections[layer][key] = value
    for layer in LAYERS:
        layer_key = f"{paths.PROJECT_NAME}:layer"
        head = {layer_key: before[layer][layer_key]} if layer_key in before[layer] else {}
        documents[layer]["config"] = {**head, **sections[layer]}
        (project / layer_file(env, layer)).write_text(yamlio.dump(documents[layer], sort_keys=False))


def edit_environment(project: Path, env: str, edit: Callable[[dict[str, Any]], None]) -> None:
    """Apply `edit` to the environment's `config` and write it back."""
    config = read_environment(project, env)
    edit(config)
    write_environment(project, env, config)


def join_environment(project: Path, env: str) -> Path:
    """The environment as one stack again (the layout before the split): `stacks/Pulumi.<env>.yaml` with both
    layers' keys and no `layer`, the layers' files removed. Returns the new file."""
    config = read_environment(project, env)
    config.pop(f"{paths.PROJECT_NAME}:layer", None)
    for layer in LAYERS:
        (project / layer_file(env, layer)).unlink()
    path = project / "stacks" / f"Pulumi.{env}.yaml"
    path.write_text(yamlio.dump({"config": config}, sort_keys=False))
    return path


def edit_stack_config(project: Path, stack: str, edit: Callable[[dict[str, Any]], None]) -> None:
    """Apply `edit` to a stack file's `config` (a YAML round trip), or to an environment's (both layers' files)."""
    path = project / "stacks" / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        edit_environment(project, stack, edit)
        return
    document = yamlio.load(path.read_text())
    edit(document["config"])
    path.write_text(yamlio.dump(document, sort_keys=False))
