/** A cluster that already runs: kvmesh only needs its kubeconfig. */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";

export interface ExistingClusterArgs {
    kubeconfig: pulumi.Input<string>;
}

export class ExistingCluster extends pulumi.ComponentResource {
    public readonly kubeconfig: pulumi.Output<string>;
    public readonly provider: k8s.Provider;
    /** kvmesh does not own this cluster, so every in-cluster object is deleted one by one. */
    public readonly deletionAnchor = undefined;

    constructor(name: string, args: ExistingClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kvmesh:cluster:ExistingCluster", name, {}, opts);
        this.kubeconfig = pulumi.secret(args.kubeconfig);
        this.provider = new k8s.Provider(
            `${name}-k8s`,
            { kubeconfig: this.kubeconfig, enableServerSideApply: true },
            { parent: this },
        );
        this.registerOutputs({});
    }
}
