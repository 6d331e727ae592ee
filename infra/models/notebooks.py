"""`kubeflow.notebooks`: what the Jupyter spawner offers besides the pinned images, and how idle notebooks are culled.

The shape follows deployKF's `kubeflow_tools.notebooks` (`spawnerFormDefaults`, `notebookCulling`); the GPU pools
the form offers are not settings: they come from the cluster's node pools and the team files.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from components import catalog
from infra.models.base import Model, matching

ImageRef = Annotated[
    str,
    matching(
        r"^([a-z0-9]([a-z0-9\-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9\-]*[a-z0-9])?)+|localhost)(:\d+)?"
        r"(/[a-z0-9]([a-z0-9._\-]*[a-z0-9])?)+"
        r"(:(?!latest$)[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}|@sha256:[0-9a-f]{64})$",
        "an image reference with its registry and a pinned tag or digest, such as "
        "'harbor.example.internal/ml/jupyter-rapids:24.10' (not ':latest', nothing floats)",
    ),
]

PINNED_JUPYTER_IMAGES = tuple(i.ref for i in catalog.NOTEBOOK_IMAGES if i.group == "image")
"""The pinned Jupyter-group images (components/catalog.py), in order: the first is the default."""


class NotebookImages(Model):
    """The Jupyter images offered: the pinned list (components/catalog.py), extended or replaced."""

    extra: list[ImageRef] = Field(default_factory=list[str], description="offered after the pinned images")
    override: list[ImageRef] | None = Field(
        default=None, min_length=1, description="offered instead of the pinned images"
    )
    default: ImageRef | None = Field(default=None, description="preselected; one of the images offered")

    @model_validator(mode="after")
    def _default_is_offered(self) -> NotebookImages:
        if self.default is not None and self.default not in self.offered():
            raise ValueError(
                f"default '{self.default}' is not one of the images offered: add it to extra (or override), "
                "or pick one of those"
            )
        return self

    def offered(self) -> list[str]:
        """The Jupyter images offered, the default first."""
        base = list(self.override) if self.override is not None else list(PINNED_JUPYTER_IMAGES)
        offered = [*base, *(i for i in self.extra if i not in base)]
        if self.default is not None and self.default in offered:
            offered = [self.default, *(i for i in offered if i != self.default)]
        return offered


class NotebookCulling(Model):
    """Idle notebooks are stopped (scaled to zero, their volumes kept): on unless switched off."""

    enabled: bool = True
    idle_minutes: int = Field(default=1440, ge=10, le=43_200, description="idle this long, a notebook is culled")
    check_period_minutes: int = Field(default=1, ge=1, le=1440, description="how often activity is checked")

    @model_validator(mode="after")
    def _check_within_idle_time(self) -> NotebookCulling:
        if self.check_period_minutes > self.idle_minutes:
            raise ValueError(
                f"checkPeriodMinutes ({self.check_period_minutes}) is longer than idleMinutes ({self.idle_minutes}): "
                "a notebook would idle past its limit before anyone looked; make it at most idleMinutes"
            )
        return self


class NotebookSettings(Model):
    """The Jupyter web app's spawner form and the notebook controller's culling."""

    images: NotebookImages = Field(default_factory=NotebookImages)
    culling: NotebookCulling = Field(default_factory=NotebookCulling)
