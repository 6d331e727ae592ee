"""`no-literal-credentials`: credentials reach resources only through Secrets; no well-known default anywhere."""

from __future__ import annotations

import pytest

from tests.policies.cases import Case, changed, config_map, messages, secret
from tests.policies.conftest import Judge

POLICY = "no-literal-credentials"
UPSTREAM_HASH = "$2y$12$4K/VkmDd1q1Orb3xAt82zu8gk7Ad6ReFR4LCP9UeYE90NLiN9Df72"

CASES = [
    Case(
        "a client secret in a ConfigMap",
        changed(config_map("recsys", {"clientSecret": "hunter2"})),
        ["data.clientSecret is a credential written in plain text; put it in a Secret and reference it"],
    ),
    Case(
        "an API key, however spelt",
        changed(config_map("recsys", {"OPENAI_API_KEY": "sk-123"})),
        ["data.OPENAI_API_KEY is a credential written in plain text; put it in a Secret and reference it"],
    ),
    Case("an empty credential is not one", changed(config_map("recsys", {"token": ""}))),
    Case("a key that only contains the word", changed(config_map("recsys", {"tokenEndpoint": "https://idp"}))),
    # Helm's `existingSecret` names the Secret that holds the credential (Grafana's admin password, for one).
    Case("the name of an existing Secret", changed(config_map("recsys", {"existingSecret": "grafana-admin"}))),
    Case(
        "upstream's example password, even in a Secret",
        changed(secret("recsys", {"password": "12341234"})),
        ["stringData.password holds a well-known default credential; generate one or use an identity provider"],
    ),
    Case(
        "upstream's published hash under any key",
        changed(config_map("recsys", {"staticPasswords": UPSTREAM_HASH})),
        ["data.staticPasswords holds a well-known default credential; generate one or use an identity provider"],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case(case: Case, judge: Judge) -> None:
    assert messages(judge(case.recording), POLICY) == case.messages
