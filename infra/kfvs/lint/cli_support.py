"""What the `kfvs lint` command needs besides the rules: reading manifests, and printing findings."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from infra import paths
from infra.errors import ConfigError, Problem
from infra.kfvs.lint import unverified
from infra.kfvs.lint.finding import Finding
from infra.kfvs.rendered import Rendering
from infra.loading import yaml_reason

CHART = "kubernetes:helm.sh/v4:Chart"


def read_manifests(files: list[Path]) -> list[dict[str, Any]]:
    """Every object of the given YAML files (multi-document; `List` kinds unpacked); one line per bad file."""
    objects: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for path in files:
        try:
            documents = list(yaml.safe_load_all(path.read_text()))
        except OSError as error:
            problems.append(
                Problem(paths.relative(path), "", f"cannot read it ({error.strerror}): give a manifest file")
            )
            continue
        except yaml.YAMLError as error:
            problems.append(
                Problem(paths.relative(path), "", f"is not YAML ({yaml_reason(error)}): give a manifest file")
            )
            continue
        for i, document in enumerate(documents):
            if document is None:
                continue
            if not isinstance(document, dict) or "kind" not in document:
                message = f"document {i + 1} is not a Kubernetes object: give apiVersion, kind and metadata"
                problems.append(Problem(paths.relative(path), "", message))
            elif document.get("kind") == "List":
                objects += [item for item in document.get("items") or [] if isinstance(item, dict)]
            else:
                objects.append(document)
    if problems:
        raise ConfigError(problems)
    return objects


def blocking(findings: list[Finding], *, strict: bool = False) -> list[Finding]:
    """The findings that fail the run: all of them with `strict`, else all but `unverified` ones, which say what
    lint could not see (a chart it cannot render), not that something is wrong."""
    return [f for f in findings if strict or f.rule != unverified.RULE]


def text(findings: list[Finding]) -> str:
    return "".join(f"{f.line()}\n" for f in findings)


def as_json(stack: str, findings: list[Finding]) -> str:
    return json.dumps({"stack": stack, "findings": [f.to_dict() for f in findings]}, indent=2, sort_keys=True) + "\n"


def summary(stack: str, rendering: Rendering, findings: list[Finding]) -> str:
    """One line for stderr: how many findings per rule, and how much was not seen."""
    counts = Counter(f.rule for f in findings)
    per_rule = ", ".join(f"{rule} {n}" for rule, n in sorted(counts.items())) or "none"
    unseen = f"; {len(rendering.not_rendered)} sources not rendered" if rendering.not_rendered else ""
    return f"{stack}: {len(findings)} findings ({per_rule}) in {len(rendering.objects)} objects{unseen}\n"


def write(text_: str) -> None:
    sys.stdout.write(text_)
