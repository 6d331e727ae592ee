"""Before the first `pulumi up`: the secrets each stack needs, the README's checklist of them, and
`kfvs secrets <stack>`, which tells set values from the examples' placeholders and from missing ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra import paths
from infra.errors import ConfigError
from infra.kfvs.run import validate_stack
from infra.kfvs.secrets import checklist, needed_secrets
from infra.layers import LAYERS
from infra.provider_keys import PROVIDER_SECRETS
from infra.settings import StackConfig, environment_config
from infra.stackfile import PLACEHOLDER_CIPHERTEXT, is_placeholder_ciphertext, read_stack_config, secure_values
from tests import yamlio
from tests.conftest import KfvsRunner

EXIT_SECRETS = 4
# What `pulumi config set --secret` writes with the passphrase provider: v1:<nonce>:<ciphertext>, base64.
CIPHERTEXT = "v1:2vXWc3bJYtQ=:u6cfSSh2SP3Bl0WKMk9d3OavzsZ9uBE="


@pytest.mark.parametrize("stack", paths.list_stacks())
def test_needed_secrets_are_what_validation_requires_and_what_the_example_holds(stack: str, project: Path) -> None:
    config, _ = read_stack_config(stack, project)
    prefix = f"{paths.PROJECT_NAME}:"
    layer = next((lay for lay in LAYERS if config.get(f"{prefix}layer") == lay), None)
    if layer is not None:
        config = environment_config(stack, layer, config, project)[0]  # both layers' plain keys
    raw = {k.removeprefix(prefix): json.loads(v) if v[:1] in "{[" else v for k, v in config.items() if prefix in k}
    needed = set(needed_secrets(StackConfig.model_validate(raw)))
    assert (set(PROVIDER_SECRETS) <= needed) is (layer != "platform")
    # The example file carries exactly those, each as the placeholder, and plans with them.
    assert secure_values(stack, project) == dict.fromkeys(needed, True)
    validate_stack(stack, project)
    # And each is one the program cannot do without: dropping it is a problem naming that key.
    path = project / f"stacks/Pulumi.{stack}.yaml"
    original = path.read_text()
    for key in sorted(needed):
        _set(project, stack, {}, drop=(key,))
        with pytest.raises(ConfigError) as caught:
            validate_stack(stack, project)
        assert key in {p.key for p in caught.value.problems}, key
        path.write_text(original)


def test_readme_checklist_is_generated_from_the_stacks() -> None:
    readme = (paths.PROJECT_ROOT / "README.md").read_text()
    start = readme.index("\n", readme.index("<!-- secrets:begin")) + 1
    end = readme.index("<!-- secrets:end -->")
    assert readme[start:end] == checklist()
    table = checklist()
    for stack in paths.list_stacks():
        for key in secure_values(stack):
            row = next(line for line in table.splitlines() if line.startswith(f"| `{key}` |"))
            assert stack in row.rsplit("|", 2)[1], (stack, key)
    for key in ("vsphere:password", "supervisorKubeconfig", "ngcApiKey", "nlsClientToken", "oidcClientSecret"):
        assert key in table
    assert "ldapBindPassword" in table


def test_placeholders_are_told_from_real_ciphertexts() -> None:
    assert is_placeholder_ciphertext(PLACEHOLDER_CIPHERTEXT)
    assert is_placeholder_ciphertext("")
    assert not is_placeholder_ciphertext(CIPHERTEXT)
    assert not is_placeholder_ciphertext("AAABAHR5cGUgYXdza21zIGJsb2IgZm9yIGEgdGVzdA==")  # a cloud KMS blob


def _ciphertexts(project: Path, stack: str, key: str) -> Any:
    """What a secrets provider writes for `key`: one ciphertext, or one per entry of a secret set by `--path`."""
    value = yamlio.load((project / f"stacks/Pulumi.{stack}.yaml").read_text())["config"][key]
    if set(value) == {"secure"}:
        return {"secure": CIPHERTEXT}
    return {entry: {"secure": CIPHERTEXT} for entry in value}


def _set(project: Path, stack: str, values: dict[str, Any], drop: tuple[str, ...] = ()) -> None:
    """Set (or drop) keys of one stack file: a layer's (`prod-platform`), since each layer keeps its own secrets."""
    path = project / f"stacks/Pulumi.{stack}.yaml"
    document = yamlio.load(path.read_text())
    document["config"].update(values)
    for key in drop:
        del document["config"][key]
    path.write_text(yamlio.dump(document, sort_keys=False))


def test_kfvs_secrets_lists_placeholders_with_the_command_for_each(kfvs: KfvsRunner) -> None:
    run = kfvs("secrets", "staging")
    assert run.returncode == EXIT_SECRETS, run.stderr
    lines = run.stdout.splitlines()
    heads = [line for line in lines if " secrets needed by " in line]
    assert heads == [
        "staging-infra: 3 secrets needed by the settings of stacks/Pulumi.staging-infra.yaml: "
        "0 set, 3 placeholders, 0 missing, 0 in plain text",
        "staging-platform: 3 secrets needed by the settings of stacks/Pulumi.staging-platform.yaml: "
        "0 set, 3 placeholders, 0 missing, 0 in plain text",
    ]
    ldap = next(line for line in lines if "kubeflow-vsphere:ldapBindPassword " in line)
    assert ldap.split()[1] == "placeholder"
    assert "kubeflow.auth.mode: ldap" in ldap
    assert "  pulumi config set --secret kubeflow-vsphere:ldapBindPassword" in lines
    assert "  pulumi config set --secret kubeflow-vsphere:nlsClientToken < client_configuration_token.tok" in lines


def test_kfvs_secrets_set_missing_and_plain_text(kfvs: KfvsRunner, project: Path) -> None:
    for stack in ("prod-infra", "prod-platform"):
        _set(project, stack, {k: _ciphertexts(project, stack, k) for k in secure_values(stack, project)})
    done = kfvs("secrets", "prod")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "prod-infra: 3 secrets needed" in done.stdout
    assert "prod-platform: 4 secrets needed" in done.stdout
    assert done.stdout.count(" set, 0 placeholders, 0 missing, 0 in plain text") == 2
    assert "pulumi config set" not in done.stdout
    quiet = kfvs("validate", "prod")
    assert quiet.returncode == 0
    assert quiet.stderr == ""  # no placeholder left: no warning

    _set(
        project,
        "prod-platform",
        {"kubeflow-vsphere:ngcApiKey": "typed-in-plain"},
        drop=("kubeflow-vsphere:oidcClientSecret",),
    )
    run = kfvs("secrets", "prod-platform", "--format", "json")
    assert run.returncode == EXIT_SECRETS
    states = {s["key"]: s["state"] for s in json.loads(run.stdout)["secrets"]}
    assert states["kubeflow-vsphere:oidcClientSecret"] == "missing"
    assert states["kubeflow-vsphere:ngcApiKey"] == "plain text"
    assert "vsphere:password" not in states  # the platform layer makes no vCenter call


def test_a_secret_no_setting_reads_is_listed_but_does_not_fail(kfvs: KfvsRunner, project: Path) -> None:
    for stack in ("dev-infra", "dev-platform"):
        _set(project, stack, {k: {"secure": CIPHERTEXT} for k in secure_values(stack, project)})
    _set(project, "dev-platform", {"kubeflow-vsphere:ldapBindPassword": {"secure": PLACEHOLDER_CIPHERTEXT}})
    run = kfvs("secrets", "dev")
    assert run.returncode == 0, run.stdout
    row = next(line for line in run.stdout.splitlines() if "ldapBindPassword" in line)
    assert row.split()[1:] == ["placeholder", "(not", "read", "here)"]


def test_validate_warns_about_placeholders_but_passes(kfvs: KfvsRunner) -> None:
    run = kfvs("validate", "dev")
    assert run.returncode == 0
    assert run.stdout.strip() == "dev: configuration is valid (3 teams)"
    warnings = run.stderr.splitlines()
    assert len(warnings) == 2
    assert warnings[0].startswith("warning: stacks/Pulumi.dev-infra.yaml: 3 secure values are still placeholders (")
    assert warnings[1].startswith("warning: stacks/Pulumi.dev-platform.yaml: 2 secure values are still placeholders (")
    assert "`kfvs secrets dev-platform`" in run.stderr


def test_a_broken_stack_file_is_one_line_per_problem(kfvs: KfvsRunner, project: Path) -> None:
    _set(project, "dev-infra", {"kubeflow-vsphere:environment": {"tier": "moon"}})
    run = kfvs("secrets", "dev")
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert run.stderr.startswith("configuration has ")
    assert "stacks/Pulumi.dev-infra.yaml: kubeflow-vsphere:environment.tier" in run.stderr
