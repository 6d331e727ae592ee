"""The suite's build memo: cache entries parsed once per content, the shared cache's failures met once."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from infra.kfvs import kustomize
from infra.kfvs.kustomize import Build, KustomizeError, Kustomizer
from tests.builds import BuildMemo

URL = "https://github.com/kubeflow/manifests/applications/trainer/overlays?ref=26.03"


def _entry(folder: Path, objects: list[dict[str, Any]]) -> Path:
    entry = folder / "entry.json"
    entry.write_text(json.dumps({"directory": URL, "objects": objects}))
    return entry


def test_an_entry_is_parsed_once_until_its_file_changes(tmp_path: Path) -> None:
    reads: list[Path] = []

    def read(entry: Path, directory: str) -> Any:
        reads.append(entry)
        return tuple(json.loads(entry.read_text())["objects"]) if entry.exists() else None

    memo = BuildMemo(tmp_path)
    cached = memo._read(read)
    entry = _entry(tmp_path, [{"kind": "A"}])
    assert cached(entry, URL) == cached(entry, URL) == ({"kind": "A"},)
    assert len(reads) == 1
    _entry(tmp_path, [{"kind": "B"}, {"kind": "C"}])
    os.utime(entry, ns=(1, 1))
    assert cached(entry, URL) == ({"kind": "B"}, {"kind": "C"})
    assert len(reads) == 2
    assert cached(tmp_path / "gone.json", URL) is None  # no entry: the function's own answer, asked each time
    assert len(reads) == 3


def test_a_failure_on_the_shared_cache_is_answered_without_building_again(tmp_path: Path) -> None:
    shared, other = tmp_path / "run-cache", tmp_path / "other"
    memo = BuildMemo(shared)
    builds: list[str] = []

    def build(kustomizer: Kustomizer, directory: str) -> Build | KustomizeError:
        builds.append(directory)
        return KustomizeError(directory, "cannot fetch the release asset")

    def cached(kustomizer: Kustomizer, directory: str) -> Build | None:
        return None

    try_build, lookup = memo._keeping_failures(build), memo._lookup(cached)
    on_shared, elsewhere = Kustomizer(cache_dir=shared), Kustomizer(cache_dir=other)
    failed = try_build(on_shared, URL)
    assert lookup(on_shared, URL) is failed
    assert lookup(elsewhere, URL) is None  # another cache: built again, as its tests expect
    assert lookup(Kustomizer(cache_dir=shared, refresh=True), URL) is None
    try_build(elsewhere, URL)
    assert memo.failures == {URL: failed}
    assert builds == [URL, URL]


def test_a_build_that_succeeds_or_a_local_folder_is_never_kept_as_failed(tmp_path: Path) -> None:
    memo = BuildMemo(tmp_path)
    on_shared = Kustomizer(cache_dir=tmp_path)
    memo._keeping_failures(lambda k, d: Build(d, (), cached=False))(on_shared, URL)
    memo._keeping_failures(lambda k, d: KustomizeError(d, "broken"))(on_shared, "overlays/local")
    assert memo.failures == {}


def test_the_suites_kustomizers_go_through_the_memo(build_memo: BuildMemo, kustomize_cache: Path) -> None:
    assert build_memo.shared == kustomize_cache
    assert kustomize._read_cache.__qualname__ == "BuildMemo._read.<locals>.memo"
    assert Kustomizer._cached.__qualname__ == "BuildMemo._lookup.<locals>.lookup"
