/** The kvmesh policy pack: `pulumi preview --policy-pack policy`. */
import { PolicyPack } from "@pulumi/policy";
import { kvmeshPolicies } from "./policies";
import { recordSecretPaths, recordStackConfig } from "./secrets";

recordSecretPaths();
recordStackConfig();

new PolicyPack("kvmesh", {
    description: "kvmesh's service-mesh safety rules",
    policies: kvmeshPolicies(),
});
