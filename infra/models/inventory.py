"""The stack's environment and the existing vSphere inventory it builds on (looked up, not created)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, HttpUrl

from infra.models.base import DnsName, Model, Name
from infra.models.compute import GpuPoolSettings, NamespaceSettings, VmClassSettings, VmSettings

Tier = Literal["dev", "staging", "prod"]


class EnvironmentSettings(Model):
    """Which environment this stack is; `prod` turns on protection of stateful resources."""

    tier: Tier
    domain: DnsName = Field(description="DNS suffix of the platform, e.g. dev.kubeflow.example.internal")


class NetworkSettings(Model):
    """Port groups by role: management for VM NICs, workload for the Supervisor's workload network."""

    management: Name
    workload: Name | None = None


class ContentLibrarySettings(Model):
    """A library subscribed to a published one: TKR images or deep-learning VM images."""

    name: Name
    purpose: Literal["tkr", "vm-images"]
    subscription_url: HttpUrl
    on_demand: bool = True
    automatic_sync: bool = True


class SupervisorRef(Model):
    """An existing Supervisor: enabling one is a one-time manual step, so it is referenced by id."""

    id: Name = Field(description="the Supervisor's identifier as vCenter shows it")


class VsphereInventory(Model):
    """Names of things that already exist in vCenter; the program looks each one up."""

    datacenter: Name
    compute_cluster: Name
    datastore: Name
    storage_policies: list[Name] = Field(min_length=1)
    networks: NetworkSettings
    folder: Name
    resource_pool: Name | None = None
    content_libraries: list[ContentLibrarySettings] = Field(default_factory=list[ContentLibrarySettings])
    supervisor: SupervisorRef


class VsphereSettings(VsphereInventory):
    """The inventory plus what the vSphere layer creates in it."""

    vm_classes: list[VmClassSettings] = Field(default_factory=list[VmClassSettings])
    namespaces: list[NamespaceSettings] = Field(default_factory=list[NamespaceSettings])
    vms: list[VmSettings] = Field(default_factory=list[VmSettings])
    gpu_pools: list[GpuPoolSettings] = Field(default_factory=list[GpuPoolSettings])
