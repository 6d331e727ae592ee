"""Credentials where they do not belong, and a stack that contradicts its own environment.

Everything not stored as a secret is printed by `kfvs plan`, the diff and the pull-request comment, so a
credential in plain config leaks the moment it is reviewed. These checks walk every value of the stack's
config and of each team file; their messages name the key and never repeat the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from infra import paths
from infra.errors import ConfigError, Problem
from infra.loading import load_json
from infra.validation import key_path

TIERS = ("dev", "staging", "prod")
# Anchored on `://` (each attempt ends at the next `/`): a scheme pattern before it would be quadratic on a
# few MB of `a.a.a.`.
_URL_CREDENTIALS = re.compile(r"://[^/\s@?#]*@")
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----")
DEFAULT_PASSWORDS = ("12341234",)
"""Upstream Kubeflow's example password (the static user `user@example.com`)."""
DEFAULT_PASSWORD_HASHES = ("$2y$12$4K/VkmDd1q1Orb3xAt82zu8gk7Ad6ReFR4LCP9UeYE90NLiN9Df72",)
"""Its published bcrypt hash, as upstream's Dex config carries it."""
_DEFAULT_PASSWORD = re.compile(
    "|".join(
        [*(rf"(?<![A-Za-z0-9]){re.escape(p)}(?![A-Za-z0-9])" for p in DEFAULT_PASSWORDS)]
        + [re.escape(h) for h in DEFAULT_PASSWORD_HASHES]
    )
)
_SCHEMELESS_HOSTS = ("registryMirror.host",)
"""Keys holding a host without a scheme, where any `user@` is a credential."""
_TRUE = ("true", "1", "yes", "on")


def strings(value: Any, loc: tuple[int | str, ...] = ()) -> Iterator[tuple[tuple[int | str, ...], str]]:
    """Every string in a document, with its location."""
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from strings(v, (*loc, str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from strings(v, (*loc, i))


def credential_problem(key: str, text: str) -> str | None:
    """What is wrong with a plain-text value, or None; the message never includes the value."""
    if _PRIVATE_KEY.search(text):
        return (
            "holds a private key in plain text: it would be printed in plans and reviews; remove it "
            "(a trusted CA takes only the CA's certificate), and rotate the key"
        )
    if _URL_CREDENTIALS.search(text) or (key.endswith(_SCHEMELESS_HOSTS) and "@" in text):
        return (
            "holds credentials in a URL (user:password@): they would be printed in plans, diffs and "
            "pull-request comments; drop them and give the credentials as a secret (pulumi config set --secret)"
        )
    if _DEFAULT_PASSWORD.search(text):
        return (
            "holds Kubeflow's well-known default password: anyone can guess it; let the platform generate "
            "one (auth.mode staticUser) or use an identity provider"
        )
    return None


def check_plain_values(config: Mapping[str, str], secret_keys: frozenset[str], file: str) -> list[Problem]:
    """Every non-secret value of the stack's config: no key, URL credential or default password in it."""
    problems: list[Problem] = []
    for key, text in sorted(config.items()):
        if key in secret_keys:
            continue
        for loc, value in strings(_structured(text)):
            where = key_path(loc, key)
            problem = credential_problem(where, value)
            if problem is not None:
                problems.append(Problem(file, where, problem))
    return problems


def check_document_values(document: Any, file: str) -> list[Problem]:
    """The same checks over a parsed document (a team file)."""
    problems = []
    for loc, value in strings(document):
        where = key_path(loc)
        problem = credential_problem(where, value)
        if problem is not None:
            problems.append(Problem(file, where, problem))
    return problems


def _structured(text: str) -> Any:
    if text[:1] in ("{", "["):
        try:
            return load_json(text, "")  # depth-bounded: the walk below recurses
        except ConfigError:
            return text
    return text


def check_environment(stack: str, tier: str, config: Mapping[str, str], file: str) -> list[Problem]:
    """A stack named for a tier has that tier, and prod never skips vCenter's certificate check."""
    problems: list[Problem] = []
    named = [t for t in stack.split("-") if t in TIERS]
    if named and tier not in named:
        problems.append(
            Problem(
                file,
                f"{paths.PROJECT_NAME}:environment.tier",
                f"is '{tier}' but the stack is '{stack}': protection and policies follow the tier, so a stack "
                f"named for a tier must have it; set tier: {named[0]} (or rename the stack)",
            )
        )
    if tier == "prod" and config.get("vsphere:allowUnverifiedSsl", "").strip().lower() in _TRUE:
        problems.append(
            Problem(
                file,
                "vsphere:allowUnverifiedSsl",
                "must not be true in prod: it accepts any certificate for vCenter (and sends the password to it); "
                "trust vCenter's CA instead and remove the key",
            )
        )
    return problems
