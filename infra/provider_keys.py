"""Checks on the provider keys of a stack file (`vsphere:*`, `kubernetes:*`).

The allowed keys come from each provider SDK's generated ProviderArgs, so they match the
provider schema at the pinned version rather than a list kept by hand.
"""

from __future__ import annotations

import difflib
import functools
import importlib
from collections.abc import Mapping

from pydantic.alias_generators import to_camel

from infra import paths
from infra.errors import Problem

_PROVIDER_MODULES = {
    "vsphere": "pulumi_vsphere",
    "kubernetes": "pulumi_kubernetes",
}
# Keys the engine itself reads; any value is the engine's business.
_ENGINE_NAMESPACES = {"pulumi"}
_REQUIRED = ("vsphere:vsphereServer", "vsphere:user", "vsphere:password")
_MUST_BE_SECRET = ("vsphere:password",)


@functools.cache
def provider_keys(namespace: str) -> frozenset[str]:
    """The camelCase config keys a provider declares: the properties of its generated ProviderArgs."""
    args = importlib.import_module(_PROVIDER_MODULES[namespace]).ProviderArgs
    names = [n for n, v in vars(args).items() if isinstance(v, property)]
    return frozenset(to_camel(n) for n in names)


def check_provider_keys(config: Mapping[str, str], secret_keys: frozenset[str], file: str) -> list[Problem]:
    """Unknown namespaces or provider keys, missing vCenter credentials, and credentials in plain text."""
    problems: list[Problem] = []
    for key in sorted(config):
        namespace, _, name = key.partition(":")
        if namespace in (paths.PROJECT_NAME, *_ENGINE_NAMESPACES):
            continue
        if namespace not in _PROVIDER_MODULES:
            known = ", ".join(sorted((paths.PROJECT_NAME, *_PROVIDER_MODULES, *_ENGINE_NAMESPACES)))
            problems.append(Problem(file, key, f"unknown config namespace '{namespace}'; known: {known}"))
        elif name not in provider_keys(namespace):
            problems.append(Problem(file, key, _unknown(namespace, name)))
    for key in _REQUIRED:
        if key not in config:
            problems.append(Problem(file, key, "required key is missing: add it with `pulumi config set`"))
    for key in _MUST_BE_SECRET:
        if key in config and key not in secret_keys:
            problems.append(Problem(file, key, "is stored in plain text: set it with `pulumi config set --secret`"))
    return problems


def _unknown(namespace: str, name: str) -> str:
    allowed = sorted(provider_keys(namespace))
    close = difflib.get_close_matches(name, allowed, n=1)
    hint = f" did you mean '{namespace}:{close[0]}'?" if close else ""
    return f"unknown {namespace} provider key;{hint} see the provider's configuration reference"
