"""What the README says about vSphere where no offline check is possible: stated plainly, and the wrong claims of
earlier versions (a host lookup that "validates" GPUs, a TKR library bound per namespace) do not come back."""

from __future__ import annotations

import ast
import re

import pytest

from infra import paths

DOCS = ("README.md", "docs/ARCHITECTURE.md", "docs/LAYERS.md", "CONTRIBUTING.md")


def _text(name: str) -> str:
    return re.sub(r"\s+", " ", (paths.PROJECT_ROOT / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "statement",
    [
        # get_host_pci_device returns one device or nothing and reports no passthrough state.
        "whether the listed PCI addresses are NVIDIA GPUs set to passthrough is not checked",
        # A GPU in passthrough mode cannot back vGPU profiles: not checkable from config, so said.
        "a device set to passthrough cannot back vGPU profiles at the same time",
        # The Supervisor reads TKRs from its own library, not from a namespace's.
        "the Supervisor reads TKRs from the one library set on the Supervisor itself",
    ],
)
def test_the_readme_states_what_config_cannot_check(statement: str) -> None:
    assert statement in _text("README.md")


@pytest.mark.parametrize(
    "claim",
    [
        r"asks (it|each host) for an NVIDIA",
        r"wrong host fails the preview because",
        r"get_host_pci_device\S* (validates|checks) ",
        r"\.get\S* (waits|will wait) for (its )?depends_on",
        r"builtin-generic-v3\.[2-9]\S* (also )?(takes|uses|defines) the legacy variables",
    ],
)
def test_no_document_repeats_a_wrong_claim(claim: str) -> None:
    for name in DOCS:
        assert not re.search(claim, _text(name), re.IGNORECASE), f"{name} claims /{claim}/"


CONTRIBUTING = "CONTRIBUTING.md"
_EXAMPLE = re.compile(r"<!-- code of (?P<path>\S+) -->\n\s*```python\n(?P<code>.*?)\n\s*```", re.DOTALL)
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_ROOTS = ("components/", "infra/", "policies/", "tests/", "stacks/", "docs/", "bench/", ".github/")


def _raw(name: str) -> str:
    return (paths.PROJECT_ROOT / name).read_text(encoding="utf-8")


def _line(text: str) -> str:
    """A line as compared: without indentation or a trailing `  # comment`."""
    return re.sub(r"\s{2}# .*$", "", text).strip()


def _examples() -> list[tuple[str, list[str]]]:
    return [(m["path"], m["code"].splitlines()) for m in _EXAMPLE.finditer(_raw(CONTRIBUTING))]


def _sections() -> dict[str, str]:
    parts = re.split(r"^## ", _raw(CONTRIBUTING), flags=re.MULTILINE)
    return {part.split("\n", 1)[0]: part for part in parts[1:]}


def test_each_recipe_has_worked_examples() -> None:
    sections = _sections()
    for recipe in ("Adding a component", "Adding a vSphere resource", "Adding a policy"):
        assert recipe in sections, f"{CONTRIBUTING} has no section '{recipe}'"
        assert _EXAMPLE.search(sections[recipe]), f"'{recipe}' has no worked example (<!-- code of <file> -->)"


@pytest.mark.parametrize(("path", "code"), _examples(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_line_of_a_worked_example_is_a_line_of_the_file_it_cites(path: str, code: list[str]) -> None:
    """A worked example is the code as it is (lines left out are `...`), so renaming what it shows fails here."""
    source = {_line(line) for line in _raw(path).splitlines()}
    shown = [_line(line) for line in code if _line(line) not in ("", "...")]
    assert shown
    assert [line for line in shown if line not in source] == [], f"{CONTRIBUTING} shows lines {path} lacks"


def _spans() -> list[str]:
    return [s.rstrip(".,:;") for s in _CODE_SPAN.findall(_raw(CONTRIBUTING))]


def test_every_file_the_contributing_guide_names_exists() -> None:
    cited = sorted({s.split()[0] for s in _spans() if s.startswith(_ROOTS)})
    assert len(cited) > 20
    missing = [c for c in cited if not list(paths.PROJECT_ROOT.glob(re.sub(r"<[^>]+>", "*", c)))]
    assert missing == []


def _identifiers() -> set[str]:
    """Every name the project's Python code defines or uses: classes, functions, variables, attributes,
    keyword arguments and imports."""
    names: set[str] = set()
    for root in ("components", "infra", "policies", "tests", "bench"):
        for file in (paths.PROJECT_ROOT / root).rglob("*.py"):
            for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                    names.add(node.name)
                elif isinstance(node, ast.Name):
                    names.add(node.id)
                elif isinstance(node, ast.Attribute):
                    names.add(node.attr)
                elif isinstance(node, ast.keyword | ast.arg) and (node.arg is not None):
                    names.add(node.arg)
                elif isinstance(node, ast.alias):
                    names |= {node.name.split(".")[0], node.asname or node.name}
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names.add(node.module.split(".")[0])
    return names


_SYMBOL = re.compile(r"^(?P<dotted>[A-Za-z_][\w.]*)(\(.*\))?$")


def test_every_symbol_the_contributing_guide_names_is_in_the_code() -> None:
    """Names written as code (`Tags.tags_for(team)`, `helm_chart`, `MESSAGES`): each part is a name the code has."""
    known = _identifiers()
    cited = set()
    for span in _spans():
        found = _SYMBOL.match(span)
        if found and "/" not in span and (re.search(r"[A-Z_]", span) or span.endswith(")")):
            cited |= {part for part in found["dotted"].split(".") if part}
    assert {"helm_chart", "GpuWorkerPool", "KubeflowComponent", "BASELINE", "tags_for", "_STATEFUL"} <= cited
    assert sorted(cited - known) == []
