"""The composition root: builds the layers in order from Settings and wires their outputs."""

from __future__ import annotations

import base64
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.kubeflow.platform import KubeflowArgs, KubeflowPlatform
from components.kubeflow.settings import IdentitySettings, IngressSettings
from components.kubeflow.stores import TeamArtifacts, TeamArtifactsArgs
from components.labels import ENVIRONMENT_LABEL, TEAM_LABEL
from components.services.gpu_operator import GpuOperator, GpuOperatorArgs, guest_driver_image
from components.services.observability import (
    ExistingPrometheusArgs,
    GrafanaArgs,
    Observability,
    ObservabilityArgs,
    dcgm_service_monitor,
    selector_labels,
)
from components.tanzu.cluster import WorkloadCluster, WorkloadClusterArgs
from components.tenancy import TeamTenancy
from components.vsphere.allocation import HostDevices
from components.vsphere.catalog import (
    ContentLibraries,
    SubscribedLibrary,
    SupervisorNamespace,
    SupervisorNamespaceArgs,
    VmClass,
    VmClassCatalog,
)
from components.vsphere.gpu_pool import (
    GpuWorkerPool,
    PassthroughGpuPool,
    PassthroughPoolArgs,
    VgpuGpuPool,
    VgpuPoolArgs,
)
from components.vsphere.guest_driver import GuestDriverSpec
from components.vsphere.inventory import Inventory, InventoryArgs, lookup_inventory
from components.vsphere.tags import Tags, TagsArgs
from components.vsphere.virtual_machine import Placement, Template, VirtualMachine, VirtualMachineArgs
from infra.cluster_specs import cluster_spec
from infra.layers import InfraReference, workload_cluster_urn
from infra.models.cluster import ClusterSettings
from infra.models.compute import NamespaceSettings, PassthroughPool, TemplateRef, VgpuPool, VmSettings
from infra.models.kubeflow import LdapSettings
from infra.models.stores import store_settings
from infra.notebook_specs import spawner_settings
from infra.protection import TEAM_STATEFUL_TYPES, protect_types
from infra.settings import Settings
from infra.team_specs import tenancy_args


class Platform(pulumi.ComponentResource):
    """The environment, or one layer of it (`settings.layer`, docs/LAYERS.md); every component is its child.

    The same root in both layers keeps every URN's parent chain: a resource moved between the stacks keeps
    its URN apart from the stack name."""

    inventory: Inventory
    tags: Tags

    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubeflow-vsphere:index:Platform", name, None, opts)
        self.settings = settings
        self.child = pulumi.ResourceOptions(parent=self)
        # In prod exactly the stateful resources are protected (infra/protection.py): never a whole component,
        # whose protection every child would inherit.
        self.protect = settings.environment.tier == "prod"
        self.infra_ref: InfraReference | None = None
        self.clusters: dict[str, WorkloadCluster] = {}
        self.kubeflow: KubeflowPlatform | None = None
        if settings.layer == "platform":
            assert settings.infra_stack is not None, "settings default the infra stack for the platform layer"
            self.infra_ref = InfraReference(f"{name}-infra", settings.infra_stack, self)
            self.providers = {c.name: self.infra_ref.provider(c.name, self) for c in settings.clusters}
            self._platform_layer()
            self.register_outputs({})
            return
        self._infra_layer(name)
        self.providers = {n: c.provider for n, c in self.clusters.items()}
        if settings.layer is None:
            self._platform_layer()
        self.register_outputs({"datacenterId": self.inventory.datacenter_id})

    def _infra_layer(self, name: str) -> None:
        """The vSphere administrators' layer: everything on vCenter and the Supervisor, up to the clusters."""
        settings = self.settings
        vs = settings.vsphere
        self.inventory = lookup_inventory(_inventory_args(settings), parent=self)
        self.tags = Tags(
            f"{name}-tags",
            TagsArgs(environment=settings.stack, teams=[t.name for t in settings.teams]),
            opts=self.child,
        )
        self.libraries = ContentLibraries(
            f"{name}-libraries",
            [
                SubscribedLibrary(
                    name=lib.name,
                    subscription_url=str(lib.subscription_url),
                    on_demand=lib.on_demand,
                    automatic_sync=lib.automatic_sync,
                )
                for lib in vs.content_libraries
            ],
            datastore_id=self.inventory.datastore_id,
            opts=self.child,
            protect=self.protect,
        )
        self.vm_classes = VmClassCatalog(
            f"{name}-vm-classes",
            [
                VmClass(
                    name=c.name,
                    cpus=c.cpus,
                    memory_mib=c.memory_mib,
                    cpu_reservation=c.cpu_reservation,
                    memory_reservation=c.reserved_memory_percent,
                    vgpu_devices=c.vgpu_devices,
                )
                for c in vs.vm_classes
            ],
            opts=self.child,
        )
        self.namespaces = {ns.name: self._namespace(name, ns) for ns in vs.namespaces}
        self.supervisor = self._supervisor_provider(name)
        self.vms = [self._vm(vm) for vm in vs.vms]
        self.gpu_pools = [self._gpu_pool(pool) for pool in vs.gpu_pools]
        self.clusters = {c.name: self._cluster(c) for c in settings.clusters}

    def _platform_layer(self) -> None:
        """The platform team's layer: what runs in the clusters, on `self.providers`."""
        for cluster in self.settings.clusters:
            self._gpu_operator(cluster)
        self.kubeflow = self._kubeflow() if self.settings.kubeflow else None
        if self.kubeflow is not None:
            self._teams(self.kubeflow)
        observability = self.settings.observability
        if observability is not None and observability.enabled:
            for cluster in self.settings.clusters:
                self._observability(cluster)

    def _namespace(self, name: str, ns: NamespaceSettings) -> SupervisorNamespace:
        vs = self.settings.vsphere
        return SupervisorNamespace(
            f"{name}-ns-{ns.name}",
            SupervisorNamespaceArgs(
                supervisor_id=vs.supervisor.id,
                namespace=ns.name,
                storage_policy_ids=[self.inventory.storage_policy_ids[p] for p in ns.storage_policies],
                vm_class_ids=[self.vm_classes.class_ids[c] for c in ns.vm_classes],
                content_library_ids=[self.libraries.library_ids[lib] for lib in ns.content_libraries],
                protect=self.protect,
            ),
            opts=self.child,
        )

    def _supervisor_provider(self, name: str) -> k8s.Provider | None:
        kubeconfig = self.settings.secrets.supervisor_kubeconfig
        if kubeconfig is None:
            return None
        return k8s.Provider(
            f"{name}-supervisor", kubeconfig=pulumi.Output.secret(kubeconfig.get_secret_value()), opts=self.child
        )

    def _cluster(self, cluster: ClusterSettings) -> WorkloadCluster:
        assert self.supervisor is not None, "settings require the Supervisor kubeconfig for clusters"
        spec = cluster_spec(cluster, self.settings.stack)
        return WorkloadCluster(
            cluster.name,
            WorkloadClusterArgs(
                spec=spec,
                supervisor=self.supervisor,
                api=cluster.api,
                depends_on=[self.namespaces[cluster.namespace].namespace],
                protect=self.protect,
            ),
            opts=self.child,
        )

    def _gpu_operator(self, cluster: ClusterSettings) -> None:
        operator = cluster.gpu_operator
        if operator is not None and operator.enabled:
            spec = cluster_spec(cluster, self.settings.stack)
            workload = self.clusters.get(cluster.name)
            secrets = self.settings.secrets
            assert secrets.ngc_api_key is not None, "settings require ngcApiKey for the GPU Operator"
            assert secrets.nls_client_token is not None, "settings require nlsClientToken for the GPU Operator"
            GpuOperator(
                f"{cluster.name}-gpu-operator",
                GpuOperatorArgs(
                    provider=self.providers[cluster.name],
                    driver_registry=operator.driver.registry_host,
                    driver_repository=operator.driver.repository,
                    driver_image=guest_driver_image(operator.nvaie_major),
                    driver_version=operator.driver.version,
                    ngc_api_key=pulumi.Output.secret(secrets.ngc_api_key.get_secret_value()),
                    nls_client_token=pulumi.Output.secret(secrets.nls_client_token.get_secret_value()),
                    license_feature_type=operator.license_feature_type,
                    mig_strategy=operator.mig_strategy,
                    time_slicing_replicas=operator.time_slicing.replicas if operator.time_slicing else None,
                    gpu_taints=spec.gpu_taints,
                    labels={ENVIRONMENT_LABEL: self.settings.stack},
                    dcgm_service_monitor=dcgm_service_monitor(selector_labels(self._existing_prometheus()))
                    if self.settings.observability is not None and self.settings.observability.enabled
                    else None,
                ),
                # In the platform layer the WorkloadCluster is the infra stack's: the old parent becomes an alias.
                opts=pulumi.ResourceOptions(parent=workload)
                if workload is not None
                else pulumi.ResourceOptions(
                    parent=self, aliases=[pulumi.Alias(parent=workload_cluster_urn(cluster.name))]
                ),
            )

    def _existing_prometheus(self) -> ExistingPrometheusArgs | None:
        observability = self.settings.observability
        existing = observability.existing if observability is not None else None
        if existing is None:
            return None
        return ExistingPrometheusArgs(
            namespace=existing.namespace,
            selector_labels=existing.selector_labels,
            dashboard_label=(existing.dashboard_label, existing.dashboard_label_value),
        )

    def _observability(self, cluster: ClusterSettings) -> None:
        """Metrics and alerts in each cluster running the GPU Operator or Kubeflow; Grafana behind Kubeflow's login."""
        observability = self.settings.observability
        assert observability is not None
        kf = self.settings.kubeflow
        gpu = cluster.gpu_operator is not None and cluster.gpu_operator.enabled
        kubeflow = self.kubeflow if kf is not None and kf.cluster == cluster.name else None
        if not gpu and kubeflow is None:
            return
        existing = self._existing_prometheus()
        grafana = None
        if kubeflow is not None and kf is not None and existing is None:
            gateway = [kubeflow.components[c] for c in ("istio", "oauth2Proxy") if c in kubeflow.components]
            grafana = GrafanaArgs(
                hostname=kf.hostname or self.settings.environment.domain,
                path=observability.grafana.path,
                default_role=observability.grafana.default_role,
                depends_on=gateway,
            )
        Observability(
            f"{cluster.name}-observability",
            ObservabilityArgs(
                provider=self.providers[cluster.name],
                gpu_operator=gpu,
                kubeflow_components=sorted(kubeflow.components) if kubeflow is not None else None,
                kubeflow_metrics=observability.kubeflow_metrics,
                existing=existing,
                retention=observability.stack.retention,
                storage_gib=observability.stack.storage_gib,
                storage_class=cluster.storage_class,
                grafana=grafana,
                labels={ENVIRONMENT_LABEL: self.settings.stack},
            ),
            opts=self.child,
        )

    def _teams(self, kubeflow: KubeflowPlatform) -> None:
        """Per team: its profile and access in the Kubeflow cluster (its pools and VMs are built with the rest)."""
        kf = self.settings.kubeflow
        assert kf is not None
        cluster = next(c for c in self.settings.clusters if c.name == kf.cluster)
        tenancy = pulumi.ResourceOptions(
            parent=self, transformations=[protect_types(TEAM_STATEFUL_TYPES)] if self.protect else None
        )
        ready = [kubeflow.components[c] for c in ("profiles", "admissionWebhook") if c in kubeflow.components]
        stores = store_settings(kf.stores, self.settings.secrets.store_credentials)
        artifacts = stores.pipelines.object_store if stores is not None and stores.pipelines is not None else None
        for team in self.settings.teams:
            args = tenancy_args(
                team,
                self.settings.stack,
                cluster,
                self.providers[kf.cluster],
                ready,
                vm_classes=self.settings.vsphere.vm_classes,
            )
            if args is None:
                continue
            tenant = TeamTenancy(f"{self.settings.stack}-{team.name}", args, opts=tenancy)
            if artifacts is not None:
                # With an external object store upstream's pipelines profile controller is off: what it would
                # make in the team's namespace (its pipeline root under the team's prefix) is made here.
                TeamArtifacts(
                    f"{self.settings.stack}-{team.name}-artifacts",
                    TeamArtifactsArgs(
                        team=team.name,
                        namespace=team.name,
                        store=artifacts,
                        provider=self.providers[kf.cluster],
                        credentials={k: pulumi.Output.secret(v) for k, v in artifacts.credentials.values.items()},
                        labels={TEAM_LABEL: team.name, ENVIRONMENT_LABEL: self.settings.stack},
                        depends_on=[tenant],
                    ),
                    opts=pulumi.ResourceOptions(parent=self),
                )

    def _nls_token(self) -> pulumi.Output[str]:
        token = self.settings.secrets.nls_client_token
        assert token is not None, "settings require nlsClientToken for licensed vGPU guests"
        return pulumi.Output.secret(token.get_secret_value())

    def _kubeflow(self) -> KubeflowPlatform:
        kf = self.settings.kubeflow
        assert kf is not None
        hostname = kf.hostname or self.settings.environment.domain
        secrets = self.settings.secrets
        auth = kf.auth
        connector: dict[str, Any] = {}
        secret: pulumi.Output[str] | None = None
        if auth.oidc is not None and auth.mode == "oidc":
            connector = {
                "issuer": str(auth.oidc.issuer).rstrip("/"),
                "clientID": auth.oidc.client_id,
                "name": auth.oidc.name,
            }
            if auth.oidc.ca_bundle:
                connector["rootCAs"] = [auth.oidc.ca_bundle]
            assert secrets.oidc_client_secret is not None, "settings require oidcClientSecret for oidc"
            secret = pulumi.Output.secret(secrets.oidc_client_secret.get_secret_value())
        elif auth.ldap is not None and auth.mode == "ldap":
            connector = _ldap_connector(auth.ldap)
            assert secrets.ldap_bind_password is not None, "settings require ldapBindPassword for ldap"
            secret = pulumi.Output.secret(secrets.ldap_bind_password.get_secret_value())
        tls = kf.tls
        return KubeflowPlatform(
            f"{kf.cluster}-kubeflow",
            KubeflowArgs(
                provider=self.providers[kf.cluster],
                enabled=kf.components.enabled(),
                ingress=IngressSettings(
                    hostname=hostname,
                    tls=tls.issuer,
                    acme_server=str(tls.acme.server) if tls.acme else None,
                    acme_email=tls.acme.email if tls.acme else None,
                    existing_secret=tls.secret_name,
                    load_balancer_ip=str(kf.gateway.load_balancer_ip) if kf.gateway.load_balancer_ip else None,
                    service_annotations=kf.gateway.annotations,
                ),
                identity=IdentitySettings(
                    hostname=hostname,
                    mode=auth.mode,
                    connector=connector,
                    connector_secret=secret,
                    static_email=auth.static_user.email if auth.static_user else None,
                ),
                labels={ENVIRONMENT_LABEL: self.settings.stack},
                raw_serving=kf.serving.raw_deployment,
                notebooks=spawner_settings(self.settings),
                stores=store_settings(kf.stores, secrets.store_credentials),
            ),
            opts=self.child,
        )

    def _template(self, ref: TemplateRef) -> Template:
        """The clone source; a library this stack subscribes is passed by ID, never looked up by name."""
        library_id = self.libraries.library_ids.get(ref.content_library) if ref.content_library else None
        return Template(
            name=ref.name,
            content_library=ref.content_library,
            item_type=ref.item_type,
            firmware=ref.firmware,
            library_id=library_id,
        )

    def _placement(self, network: str) -> Placement:
        inv = self.inventory
        return Placement(
            datacenter_id=inv.datacenter_id,
            resource_pool_id=inv.resource_pool_id,
            datastore_id=inv.datastore_id,
            folder=self.settings.vsphere.folder,
            network_ids=[inv.network_ids[network]],
        )

    def _vm(self, vm: VmSettings) -> VirtualMachine:
        return VirtualMachine(
            vm.name,
            VirtualMachineArgs(
                cpus=vm.cpus,
                memory_mib=vm.memory_mib,
                disk_gib=[d.size_gib for d in vm.disks],
                template=self._template(vm.template),
                placement=self._placement(vm.network),
                tag_ids=self.tags.tags_for(vm.team),
                user_data=vm.cloud_init.user_data if vm.cloud_init else None,
                thin_disks=all(d.thin for d in vm.disks),
                team=vm.team,
                protect=self.protect,
            ),
            opts=self.child,
        )

    def _gpu_pool(self, pool: PassthroughPool | VgpuPool) -> GpuWorkerPool:
        user_data = pool.cloud_init.user_data if pool.cloud_init else None
        if isinstance(pool, VgpuPool):
            assert self.supervisor is not None, "settings require the Supervisor kubeconfig for vGPU pools"
            labels = {ENVIRONMENT_LABEL: self.settings.stack, **({TEAM_LABEL: pool.team} if pool.team else {})}
            namespace = self.namespaces[pool.namespace].namespace
            return VgpuGpuPool(
                pool.name,
                VgpuPoolArgs(
                    replicas=pool.replicas,
                    namespace=namespace.name,
                    vm_class=pool.vm_class,
                    image=pool.image,
                    storage_class=pool.storage_class,
                    provider=self.supervisor,
                    labels=labels,
                    user_data=user_data,
                    protect=self.protect,
                    guest_driver=GuestDriverSpec(
                        url=pool.guest_driver.url, feature_type=pool.guest_driver.license_feature_type
                    )
                    if pool.guest_driver
                    else None,
                    licence_token=self._nls_token() if pool.guest_driver else None,
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
            )
        return PassthroughGpuPool(
            pool.name,
            PassthroughPoolArgs(
                hosts=[HostDevices(host=h.name, devices=tuple(h.devices)) for h in pool.hosts],
                replicas=pool.replicas,
                gpus_per_vm=pool.gpus_per_vm,
                gpu_memory_gib=pool.gpu_memory_gib,
                cpus=pool.cpus,
                memory_mib=pool.memory_mib,
                disk_gib=pool.disk_gib,
                template=self._template(pool.template),
                placement=self._placement("management"),
                tag_ids=self.tags.tags_for(pool.team),
                user_data=user_data,
                team=pool.team,
                protect=self.protect,
            ),
            opts=self.child,
        )


def _ldap_connector(ldap: LdapSettings) -> dict[str, Any]:
    search = ldap.user_search
    connector: dict[str, Any] = {
        "name": ldap.name,
        "host": ldap.host,
        "bindDN": ldap.bind_dn,
        "userSearch": {
            "baseDN": search.base_dn,
            "filter": search.filter,
            "username": search.username,
            "idAttr": search.id_attr,
            "emailAttr": search.email_attr,
            "nameAttr": search.name_attr,
        },
    }
    if ldap.ca_bundle:
        # Dex reads `rootCAData` as bytes, which JSON (and so its YAML) carries as base64.
        connector["rootCAData"] = base64.b64encode(ldap.ca_bundle.encode()).decode()
    return connector


def _inventory_args(settings: Settings) -> InventoryArgs:
    vs = settings.vsphere
    networks = {"management": vs.networks.management}
    if vs.networks.workload:
        networks["workload"] = vs.networks.workload
    return InventoryArgs(
        datacenter=vs.datacenter,
        compute_cluster=vs.compute_cluster,
        datastore=vs.datastore,
        networks=networks,
        storage_policies=list(vs.storage_policies),
        resource_pool=vs.resource_pool,
    )


def build_platform(settings: Settings) -> Platform:
    """One Platform per stack, named for the environment."""
    return Platform(f"kubeflow-{settings.stack}", settings)
