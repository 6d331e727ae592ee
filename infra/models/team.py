"""A team file: who the team is. Later sections say what it asks for per environment."""

from __future__ import annotations

from pydantic import Field

from infra.models.base import DnsLabel, Email, Model, Name


class Members(Model):
    """People and directory groups who work in the team's namespace."""

    users: list[Email] = Field(default_factory=list[str])
    groups: list[Name] = Field(default_factory=list[str])


class Team(Model):
    """One team, one file; the name becomes its Kubeflow profile and namespace."""

    name: DnsLabel
    display_name: Name | None = None
    owners: list[Email] = Field(min_length=1)
    members: Members = Field(default_factory=Members)
