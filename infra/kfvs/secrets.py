"""The secrets a stack needs before its first `pulumi up`, and which are set, placeholders or missing.

`pulumi preview` decrypts every `secure:` value of the stack file before the program runs; the example
files hold placeholders no secrets provider can decrypt, so a stack copied from them fails there, far
from the cause. `kfvs secrets <stack>` says beforehand which keys the stack's settings read
(`needed_secrets` mirrors the program's `config.require_secret` calls), and the README's checklist is
generated from the same table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from infra import paths
from infra.errors import ConfigError
from infra.layers import LAYERS
from infra.models.stores import STORE_CREDENTIALS, credential_users
from infra.provider_keys import PROVIDER_SECRETS
from infra.settings import (
    LDAP_BIND_PASSWORD,
    NGC_API_KEY,
    NLS_CLIENT_TOKEN,
    OIDC_CLIENT_SECRET,
    SUPERVISOR_KUBECONFIG,
    StackConfig,
    environment_config,
    secret_needs,
)
from infra.stackfile import environment_imports, read_stack_config, secure_values
from infra.validation import problems_from

State = Literal["set", "placeholder", "plain text", "missing"]
"""`set`: a ciphertext a secrets provider wrote; `placeholder`: the examples' stand-in, which `pulumi
preview` cannot decrypt; `plain text`: not a secret at all; `missing`: not in the stack file."""


@dataclass(frozen=True)
class Secret:
    """What a secret key is and how to set it (the value itself comes from a file or from the prompt)."""

    key: str
    what: str
    source: str | None = None
    """A file the value is read from (`pulumi config set --secret <key> < <file>`), or None to type it."""

    entries: bool = False
    """An object of named entries, each set on its own (`--path '<key>.<name>'`)."""

    def command(self) -> str:
        """The command that sets it (Pulumi prompts for the value when none is given)."""
        tail = f" < {self.source}" if self.source else ""
        if self.entries:
            return f"pulumi config set --secret --path '{self.key}.<name>'"
        return f"pulumi config set --secret {self.key}{tail}"


def _project(name: str) -> str:
    return f"{paths.PROJECT_NAME}:{name}"


SECRETS = {
    s.key: s
    for s in (
        Secret("vsphere:password", "the vCenter password of `vsphere:user`"),
        Secret(
            _project(SUPERVISOR_KUBECONFIG),
            "a kubeconfig for the Supervisor (`kubectl vsphere login` writes one)",
            "supervisor.kubeconfig",
        ),
        Secret(_project(NGC_API_KEY), "an NGC API key with access to the NVIDIA AI Enterprise registry"),
        Secret(
            _project(NLS_CLIENT_TOKEN),
            "the NVIDIA License System client configuration token",
            "client_configuration_token.tok",
        ),
        Secret(_project(OIDC_CLIENT_SECRET), "the client secret of `kubeflow.auth.oidc.clientId` at the provider"),
        Secret(_project(LDAP_BIND_PASSWORD), "the password of `kubeflow.auth.ldap.bindDN`"),
        Secret(
            _project(STORE_CREDENTIALS),
            "the external stores' passwords and keys, one entry per name `kubeflow.stores` gives",
            entries=True,
        ),
    )
}
"""Every secret key the program reads, in checklist order."""


@dataclass(frozen=True)
class SecretStatus:
    """One secret key of a stack: its state, and what in the settings reads it (empty: nothing does)."""

    key: str
    state: State
    needed_by: tuple[str, ...]

    @property
    def needed(self) -> bool:
        return bool(self.needed_by)

    @property
    def ready(self) -> bool:
        """Whether `pulumi preview` can use it: set, or not needed at all."""
        return self.state == "set" or not self.needed


def needed_secrets(config: StackConfig) -> dict[str, list[str]]:
    """Each secret key these settings make the program read, and what reads it (as the program's
    `require_secret` calls do: the provider, the Supervisor's provider, the GPU Operator, Dex's connector)."""
    needs: dict[str, list[str]] = {} if config.layer == "platform" else {k: [w] for k, w in PROVIDER_SECRETS.items()}
    needs |= {_project(name): users for name, users in secret_needs(config).items()}
    if config.layer != "infra" and config.kubeflow is not None:
        needs[_project(STORE_CREDENTIALS)] = credential_users(config.kubeflow.stores)
    return {key: users for key, users in needs.items() if users}


def stack_secrets(stack: str, root: Path = paths.PROJECT_ROOT) -> list[SecretStatus]:
    """Every secret the stack needs, then every other `secure:` value of its file; ConfigError when the
    file cannot be read as settings at all."""
    config, secret_keys = read_stack_config(stack, root)
    secure = secure_values(stack, root)
    needs = needed_secrets(_stack_config(stack, config, root))
    keys = [*needs, *sorted(k for k in secure if k not in needs)]
    statuses = []
    for key in keys:
        if key in secure:
            state: State = "placeholder" if secure[key] else "set"
        elif key in config:
            state = "set" if key in secret_keys else "plain text"
        else:
            state = "missing"
        statuses.append(SecretStatus(key, state, tuple(needs.get(key, ()))))
    return statuses


def _stack_config(stack: str, config: Mapping[str, str], root: Path) -> StackConfig:
    """The project's keys as settings, without the cross-checks (a missing secret is what we report)."""
    prefix = f"{paths.PROJECT_NAME}:"
    layer = config.get(f"{prefix}layer")
    if layer in LAYERS:
        # A layer's needs depend on the environment's whole configuration (its other file's plain keys too).
        config = environment_config(stack, layer, config, root)[0]
    raw = {k.removeprefix(prefix): _decode(v) for k, v in config.items() if k.startswith(prefix)}
    try:
        return StackConfig.model_validate(raw)
    except ValidationError as error:
        file = paths.relative(paths.stack_file(stack, root), root)
        raise ConfigError(problems_from(error, StackConfig, file, prefix)) from None


def _decode(value: str) -> object:
    """Structured config arrives as JSON text, as the engine passes it."""
    if value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def text(stack: str, statuses: list[SecretStatus], root: Path = paths.PROJECT_ROOT) -> str:
    """The table a user reads before `pulumi preview`, with the command for each secret still to set."""
    file = paths.relative(paths.stack_file(stack, root), root)
    needed = [s for s in statuses if s.needed]
    labels = {"set": "set", "placeholder": "placeholders", "missing": "missing", "plain text": "in plain text"}
    counts = ", ".join(f"{sum(s.state == state for s in needed)} {label}" for state, label in labels.items())
    lines = [f"{stack}: {len(needed)} secrets needed by the settings of {file}: {counts}"]
    width = max((len(s.key) for s in statuses), default=3)
    lines += [f"  {'key'.ljust(width)}  {'state'.ljust(11)}  needed by"]
    for s in statuses:
        lines.append(f"  {s.key.ljust(width)}  {s.state.ljust(11)}  {', '.join(s.needed_by) or '(not read here)'}")
    todo = [s for s in statuses if not s.ready]
    imports = environment_imports(stack, root)
    if todo:
        lines += ["", f"Set these before `pulumi preview`, with `pulumi stack select {stack}`:"]
        lines += [f"  {_command(s.key)}" for s in todo]
    if imports:
        lines += [
            f"note: {file} imports Pulumi ESC environments ({', '.join(imports)}): kfvs cannot see what they supply"
        ]
    return "\n".join(lines) + "\n"


def _command(key: str) -> str:
    known = SECRETS.get(key)
    return known.command() if known else f"pulumi config set --secret {key}"


def as_json(stack: str, statuses: list[SecretStatus]) -> str:
    """The same, for scripts: `state` is one of set, placeholder, plain text, missing."""
    rows = [{"key": s.key, "state": s.state, "neededBy": list(s.needed_by)} for s in statuses]
    return json.dumps({"stack": stack, "secrets": rows}, indent=2, sort_keys=True) + "\n"


def placeholder_warning(stack: str, statuses: list[SecretStatus], root: Path = paths.PROJECT_ROOT) -> str | None:
    """One line for `kfvs validate`: placeholders still in the file (kfvs plans with them; Pulumi cannot)."""
    left = [s.key for s in statuses if s.state == "placeholder"]
    if not left:
        return None
    file = paths.relative(paths.stack_file(stack, root), root)
    return (
        f"warning: {file}: {len(left)} secure values are still placeholders ({', '.join(left)}): "
        f"`pulumi preview` cannot decrypt them; `kfvs secrets {stack}` shows how to set each"
    )


def checklist(root: Path = paths.PROJECT_ROOT) -> str:
    """The README's "before your first `pulumi up`" table: every secret of every stack, and how to set it."""
    by_key: dict[str, list[str]] = {}
    for stack in paths.list_stacks(root):
        config, _ = read_stack_config(stack, root)
        for key in needed_secrets(_stack_config(stack, config, root)):
            by_key.setdefault(key, []).append(stack)
    rows = ["| secret | what it is | set it with | stacks that need it |", "|---|---|---|---|"]
    for key in [*(k for k in SECRETS if k in by_key), *sorted(k for k in by_key if k not in SECRETS)]:
        secret = SECRETS.get(key, Secret(key, "(undocumented: describe it in infra/kfvs/secrets.py)"))
        rows.append(f"| `{key}` | {secret.what} | `{secret.command()}` | {', '.join(by_key[key])} |")
    return "\n".join(rows) + "\n"
