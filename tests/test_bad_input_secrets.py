"""Class 4, secrets: every secret key refused in plain text (each named), no rejected value echoed, no
credentials in URLs, no private key in a trusted-CA field, no well-known default password anywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.bad_input import (
    POLICY,
    STACK,
    TEAM,
    Case,
    assert_cli_refused,
    cases,
    check_case,
    kfvs,
    replace,
    stack_config,
    team_doc,
    write,
)

SECRET = "s3cr3t-Value-7Qx"
PRIVATE_KEY = f"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC{SECRET}\n-----END PRIVATE KEY-----\n"
CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUexample\n-----END CERTIFICATE-----\n"


def _plain(key: str, stack: str = "dev") -> Any:
    """The secret key written in plain text."""
    return stack_config(lambda c: c.update({key: SECRET}), stack)


def _set(path: list[Any], value: Any, stack: str = "dev") -> Any:
    def change(config: dict[str, Any]) -> None:
        node = config
        for part in path[:-1]:
            node = node.setdefault(part, {}) if isinstance(node, dict) else node[part]
        node[path[-1]] = value

    return stack_config(change, stack)


_VS = "kubeflow-vsphere:vsphere"
_CLUSTER = ["kubeflow-vsphere:clusters", 0]
_SECRET_KEYS = [
    ("vsphere:password", "dev"),
    ("kubeflow-vsphere:supervisorKubeconfig", "dev"),
    ("kubeflow-vsphere:ngcApiKey", "dev"),
    ("kubeflow-vsphere:nlsClientToken", "dev"),
    ("kubeflow-vsphere:oidcClientSecret", "prod"),
    ("kubeflow-vsphere:ldapBindPassword", "staging"),
]


@cases(
    *(
        Case(f"plain-{key}", f"stacks/Pulumi.{stack}.yaml", _plain(key, stack), key, "plain text", SECRET, stack=stack)
        for key, stack in _SECRET_KEYS
    ),
    Case(
        "secret-of-the-wrong-shape",
        STACK,
        _set(["kubeflow-vsphere:ngcApiKey"], {"token": SECRET}),
        "kubeflow-vsphere:ngcApiKey",
        secret=SECRET,
    ),
    Case(
        "mirror-url-with-password",
        STACK,
        _set(
            ["kubeflow-vsphere:registryMirror"],
            {"host": "harbor.example.internal/proxy", "manifests": f"https://bob:{SECRET}@git.example.internal/m"},
        ),
        "kubeflow-vsphere:registryMirror.manifests",
        "credentials in a URL",
        SECRET,
    ),
    Case(
        "mirror-host-with-password",
        STACK,
        _set(
            ["kubeflow-vsphere:registryMirror"],
            {"host": f"bob:{SECRET}@harbor.example.internal/proxy", "manifests": "https://git.example.internal/m"},
        ),
        "kubeflow-vsphere:registryMirror.host",
        "credentials in a URL",
        SECRET,
    ),
    Case(
        "proxy-url-with-password",
        STACK,
        _set(
            [*_CLUSTER, "proxy"],
            {"httpProxy": f"http://bob:{SECRET}@proxy.example.internal:3128", "httpsProxy": "http://proxy:3128"},
        ),
        "kubeflow-vsphere:clusters[0].proxy.httpProxy",
        "credentials in a URL",
        SECRET,
    ),
    Case(
        "library-url-with-token",
        STACK,
        replace(STACK, "https://packages.vmware.com/dl-vm/lib.json", f"https://{SECRET}@packages.vmware.com/lib.json"),
        f"{_VS}.contentLibraries[1].subscriptionUrl",
        "credentials in a URL",
        SECRET,
    ),
    Case(
        "vcenter-url-with-password",
        STACK,
        _set(["vsphere:vsphereServer"], f"https://administrator:{SECRET}@vcenter.dev.example.internal"),
        "vsphere:vsphereServer",
        "credentials in a URL",
        SECRET,
    ),
    Case(
        "private-key-beside-the-ca",
        STACK,
        _set([*_CLUSTER, "trustedCAs", 0, "pem"], CERTIFICATE + PRIVATE_KEY),
        "kubeflow-vsphere:clusters[0].trustedCAs[0].pem",
        "private key",
        SECRET,
    ),
    Case(
        "private-key-instead-of-the-ca",
        STACK,
        _set([*_CLUSTER, "trustedCAs", 0, "pem"], PRIVATE_KEY),
        "kubeflow-vsphere:clusters[0].trustedCAs[0].pem",
        secret=SECRET,
    ),
    Case(
        "default-password-in-cloud-init",
        STACK,
        _set([_VS, "vms", 0, "cloudInit", "userData"], "#cloud-config\nchpasswd: {list: 'ubuntu:12341234'}\n"),
        f"{_VS}.vms[0].cloudInit.userData",
        "well-known default password",
    ),
    Case(
        "team-display-name-with-url-credentials",
        TEAM,
        team_doc(lambda d: d.update({"displayName": f"wiki: https://ana:{SECRET}@wiki.example.internal"})),
        "displayName",
        "credentials in a URL",
        SECRET,
    ),
    Case(
        "team-private-key",
        TEAM,
        team_doc(lambda d: d.update({"displayName": PRIVATE_KEY})),
        "displayName",
        "private key",
        SECRET,
    ),
    Case(
        "team-default-password",
        TEAM,
        team_doc(lambda d: d.update({"displayName": "login 12341234"})),
        "displayName",
        "default password",
    ),
    Case(
        "policy-config-with-url-credentials",
        "policies/guardrails/config/dev.json",
        write(
            "policies/guardrails/config/dev.json",
            '{"stateful-resources-protected": {"types": ["https://bob:' + SECRET + '@x.example.internal"]}}',
        ),
        "stateful-resources-protected.types[0]",
        "credentials in a URL",
        SECRET,
    ),
)
def test_each_secret_out_of_place_is_refused_without_echo(project: Path, case: Case) -> None:
    check_case(project, case)


@pytest.mark.parametrize(("key", "stack"), _SECRET_KEYS)
def test_the_cli_names_each_plain_secret_and_never_prints_it(project: Path, key: str, stack: str) -> None:
    file = f"stacks/Pulumi.{stack}.yaml"
    _plain(key, stack)(project)
    assert_cli_refused(kfvs(project, "validate", stack), Case(key, file, _plain(key), key, secret=SECRET))


@pytest.mark.parametrize(
    ("stack", "key"),
    [("prod", "kubeflow-vsphere:oidcClientSecret"), ("staging", "kubeflow-vsphere:ldapBindPassword")],
)
def test_a_missing_identity_provider_secret_is_named_not_a_crash(project: Path, stack: str, key: str) -> None:
    stack_config(lambda c: c.pop(key), stack)(project)
    case = Case("missing", f"stacks/Pulumi.{stack}.yaml", lambda p: None, key, "(kubeflow.auth.mode: ", stack=stack)
    check_case(project, case)
    for command in ("validate", "plan"):
        assert_cli_refused(kfvs(project, command, stack), case)


def test_the_policy_file_with_a_credential_is_refused_through_the_cli(project: Path) -> None:
    write(POLICY, '{"team-quotas": {"enforcementLevel": "mandatory", "note": "https://a:' + SECRET + '@x"}}')(project)
    run = kfvs(project, "validate", "dev")
    assert run.returncode == 1
    assert SECRET not in run.stdout + run.stderr
    assert "Traceback" not in run.stderr
