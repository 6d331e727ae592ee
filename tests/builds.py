"""Upstream builds for the suite's renders: each cache entry parsed once per worker, each failure met once.

Every render of an example stack reads some thirty entries of the run's shared kustomize cache back from JSON,
and tries again the directories that did not build: offline, Kubeflow Trainer's (its release downloads are not
in the mirror), whose failure also makes each render clone kubeflow/manifests once more, since a checkout is
made for whatever its repository still lacks. Measured over a run: ten tries of it, each a clone and a build.

`BuildMemo` wraps two functions of `infra.kfvs.kustomize`. `_read_cache`, for any cache folder: an entry's objects
are parsed once per content (path, size and modification time) and handed out shared, as the cache's builds are
within one render (`rendering._fresh_copies` copies what the stack transforms may change). And, for the run's
shared cache folder only, a Kustomizer's cache lookup answers a directory whose build failed with that failure:
offline, the same directory from the same mirror with the same kubectl fails the same way. Tests about failed
builds and the cache's own behaviour use caches of their own, which this never answers for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from infra.kfvs import kustomize
from infra.kfvs.kustomize import Build, KustomizeError, Kustomizer

Objects = tuple[dict[str, Any], ...]
Key = tuple[str, int, int, str]


class BuildMemo:
    """Parsed cache entries by content; failed builds by directory, for Kustomizers on `shared`."""

    def __init__(self, shared: Path) -> None:
        self.shared = shared
        self.entries: dict[Key, Objects | None] = {}
        self.failures: dict[str, KustomizeError] = {}
        self.hits = 0

    @contextmanager
    def installed(self) -> Iterator[BuildMemo]:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(kustomize, "_read_cache", self._read(kustomize._read_cache))
            patch.setattr(Kustomizer, "_cached", self._lookup(Kustomizer._cached))
            patch.setattr(Kustomizer, "_try_build", self._keeping_failures(Kustomizer._try_build))
            patch.setattr(Kustomizer, "_try_build_from", self._keeping_failures(Kustomizer._try_build_from))
            yield self

    def _read(self, read: Callable[[Path, str], Objects | None]) -> Callable[[Path, str], Objects | None]:
        def memo(entry: Path, directory: str) -> Objects | None:
            try:
                stat = entry.stat()
            except OSError:
                return read(entry, directory)
            key = (str(entry), stat.st_size, stat.st_mtime_ns, directory)
            if key in self.entries:
                self.hits += 1
            else:
                self.entries[key] = read(entry, directory)
            return self.entries[key]

        return memo

    def _on_shared(self, kustomizer: Kustomizer) -> bool:
        return kustomizer.cache_dir == self.shared and not kustomizer.refresh

    def _lookup(self, cached: Callable[[Kustomizer, str], Build | None]) -> Callable[[Kustomizer, str], Any]:
        def lookup(kustomizer: Kustomizer, directory: str) -> Build | KustomizeError | None:
            if self._on_shared(kustomizer) and directory in self.failures:
                self.hits += 1
                return self.failures[directory]
            return cached(kustomizer, directory)

        return lookup

    def _keeping_failures(self, build: Callable[..., Build | KustomizeError]) -> Callable[..., Build | KustomizeError]:
        def keeping(kustomizer: Kustomizer, directory: str, *rest: Any) -> Build | KustomizeError:
            result = build(kustomizer, directory, *rest)
            if isinstance(result, KustomizeError) and self._on_shared(kustomizer) and kustomize.is_remote(directory):
                self.failures[directory] = result
            return result

        return keeping
