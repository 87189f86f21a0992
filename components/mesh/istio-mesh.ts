/**
 * Istio 1.21 (default profile: base, istiod, ingress gateway) as Helm releases, injection
 * labels on the application namespaces, and the mesh's traffic and security policies.
 */
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { MeshConfig } from "../config";
import { IngressGateway } from "./gateway";
import {
    BUILTIN_NAMESPACES,
    INJECTION_LABEL,
    ISTIO_NAMESPACE,
    IstioChart,
    IstioObject,
    baseValues,
    chartRef,
    destinationRule,
    istiodValues,
    peerAuthentication,
    virtualService,
} from "./render";

export interface IstioMeshArgs {
    config: MeshConfig;
    /** When the cluster itself is deleted with the stack, skip deleting objects one by one. */
    deletedWith?: pulumi.Resource;
}

export class IstioMesh extends pulumi.ComponentResource {
    public readonly base: k8s.helm.v3.Release;
    public readonly istiod: k8s.helm.v3.Release;
    public readonly gateway?: IngressGateway;
    /** Namespace name -> the resource that labels it (created or patched). */
    public readonly namespaces: Record<string, k8s.core.v1.Namespace | k8s.core.v1.NamespacePatch> = {};
    public readonly peerAuthentications: k8s.apiextensions.CustomResource[] = [];
    public readonly destinationRules: k8s.apiextensions.CustomResource[] = [];
    public readonly virtualServices: k8s.apiextensions.CustomResource[] = [];

    constructor(name: string, args: IstioMeshArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kvmesh:mesh:IstioMesh", name, {}, opts);
        const mesh = args.config;
        const child = (extra: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions => ({
            parent: this,
            deletedWith: args.deletedWith,
            ...extra,
        });

        const istioNs = new k8s.core.v1.Namespace(
            `${name}-istio-system`,
            { metadata: { name: ISTIO_NAMESPACE } },
            child(),
        );
        const release = (
            chart: IstioChart,
            releaseName: string,
            namespace: pulumi.Input<string>,
            values: object,
            deps: pulumi.Resource[],
            extra: Partial<k8s.helm.v3.ReleaseArgs> = {},
        ) =>
            new k8s.helm.v3.Release(
                `${name}-${chart}`,
                {
                    name: releaseName,
                    namespace,
                    ...chartRef(mesh.chartSource, chart, fs.existsSync),
                    values,
                    timeout: 600,
                    atomic: false,
                    cleanupOnFail: true,
                    ...extra,
                },
                child({ dependsOn: deps }),
            );

        // CRDs come from the chart's templates (base.enableCRDTemplates), not its crds/ directory.
        this.base = release("base", "istio-base", istioNs.metadata.name, baseValues(), [], { skipCrds: true });
        this.istiod = release("istiod", "istiod", istioNs.metadata.name, istiodValues(mesh), [this.base]);
        if (mesh.gateway.enabled) {
            const gatewayNs = new k8s.core.v1.Namespace(
                `${name}-${mesh.gateway.namespace}`,
                { metadata: { name: mesh.gateway.namespace } },
                child(),
            );
            this.gateway = new IngressGateway(
                `${name}-gateway`,
                {
                    config: mesh.gateway,
                    namespace: gatewayNs.metadata.name,
                    deletedWith: args.deletedWith,
                    dependsOn: [this.istiod],
                },
                { parent: this },
            );
        }

        for (const ns of mesh.namespaces) {
            const metadata = { name: ns, labels: { ...INJECTION_LABEL } };
            this.namespaces[ns] = BUILTIN_NAMESPACES.includes(ns)
                ? // Server-side apply patch: on destroy kvmesh gives up the label, the namespace stays.
                  new k8s.core.v1.NamespacePatch(
                      `${name}-ns-${ns}`,
                      { metadata: { ...metadata, annotations: { "pulumi.com/patchForce": "true" } } },
                      child(),
                  )
                : new k8s.core.v1.Namespace(`${name}-ns-${ns}`, { metadata }, child());
        }

        // Istio objects need the CRDs (base) and are checked by istiod's validating webhook.
        const istioObject = (resourceName: string, obj: IstioObject, deps: pulumi.Resource[]) =>
            new k8s.apiextensions.CustomResource(resourceName, obj, child({ dependsOn: [this.istiod, ...deps] }));

        this.peerAuthentications.push(
            istioObject(`${name}-mtls-mesh`, peerAuthentication(ISTIO_NAMESPACE, mesh.mtls), [istioNs]),
        );
        for (const ns of mesh.namespaces) {
            this.peerAuthentications.push(
                istioObject(`${name}-mtls-${ns}`, peerAuthentication(ns, mesh.mtls), [this.namespaces[ns]]),
            );
        }

        for (const svc of mesh.services) {
            const nsDep = this.namespaces[svc.namespace];
            const dr = istioObject(
                `${name}-dr-${svc.namespace}-${svc.name}`,
                destinationRule(svc, mesh.defaultCircuitBreaker),
                nsDep ? [nsDep] : [],
            );
            this.destinationRules.push(dr);
            const vs = virtualService(svc);
            if (vs) {
                // Make before break: the subsets exist before any route points at them.
                this.virtualServices.push(istioObject(`${name}-vs-${svc.namespace}-${vs.metadata.name}`, vs, [dr]));
            }
        }

        this.registerOutputs({});
    }
}
