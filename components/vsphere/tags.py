"""vSphere tags that mark who owns a VM and which environment it belongs to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_vsphere as vsphere

from components.labels import environment_tag_category, team_tag_category

_TAGGABLE = ["VirtualMachine", "Folder", "ResourcePool", "com.vmware.content.Library"]


@dataclass(frozen=True, kw_only=True)
class TagsArgs:
    """The environment's name and every team that may own something in it."""

    environment: str
    teams: Sequence[str]


class Tags(pulumi.ComponentResource):
    """The team and environment categories and their tags, made once per environment."""

    team_tag_ids: dict[str, pulumi.Output[str]]
    environment_tag_id: pulumi.Output[str]

    def __init__(self, name: str, args: TagsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubeflow-vsphere:vsphere:Tags", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        team_category = vsphere.TagCategory(
            f"{name}-team",
            name=team_tag_category(args.environment),
            description=f"Team that owns the object ({args.environment})",
            cardinality="SINGLE",
            associable_types=_TAGGABLE,
            opts=child,
        )
        env_category = vsphere.TagCategory(
            f"{name}-environment",
            name=environment_tag_category(args.environment),
            description="Kubeflow platform environment",
            cardinality="SINGLE",
            associable_types=_TAGGABLE,
            opts=child,
        )
        self.team_tag_ids = {
            team: vsphere.Tag(
                f"{name}-team-{team}", name=team, category_id=team_category.id, description=f"team {team}", opts=child
            ).id
            for team in sorted(args.teams)
        }
        self.environment_tag_id = vsphere.Tag(
            f"{name}-environment-{args.environment}",
            name=args.environment,
            category_id=env_category.id,
            opts=child,
        ).id
        self.register_outputs({"teamTagIds": self.team_tag_ids, "environmentTagId": self.environment_tag_id})

    def tags_for(self, team: str | None) -> list[pulumi.Output[str]]:
        """The tag IDs a resource carries: the environment's, and its team's when a team owns it."""
        owned = [self.team_tag_ids[team]] if team is not None else []
        return [self.environment_tag_id, *owned]
