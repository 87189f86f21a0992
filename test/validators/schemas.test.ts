/**
 * Every Kubernetes and Istio object kvmesh declares, against the published schemas made
 * strict (see test/support/schemas.ts): Kubernetes 1.29's OpenAPI spec and Istio 1.21.6's CRDs.
 */
import { describe, expect, it } from "vitest";
import { devValues, haValues } from "../fixtures/configs";
import { Recorder } from "../support/mocks";
import { runProgram } from "../support/program";
import { istioValidator, kubernetesValidator, plain } from "../support/schemas";

const isIstio = (apiVersion: string) => apiVersion.includes("istio.io");
/** Typed Kubernetes objects (not Helm releases, not Istio custom resources). */
function kubernetesObjects(r: Recorder) {
    return r.resources.filter(
        (x) => x.custom && x.type.startsWith("kubernetes:") && x.inputs.apiVersion && !isIstio(x.inputs.apiVersion),
    );
}

describe("Istio objects against the Istio 1.21.6 CRD schemas (strict)", () => {
    const { validate, kinds } = istioValidator();

    it("knows the three kinds kvmesh declares, at the API versions Istio 1.21 serves", () => {
        expect(kinds).toEqual(
            expect.arrayContaining([
                "security.istio.io/v1beta1/PeerAuthentication",
                "networking.istio.io/v1beta1/DestinationRule",
                "networking.istio.io/v1beta1/VirtualService",
            ]),
        );
    });

    it.each([
        ["dev", devValues],
        ["ha", haValues],
    ])("accepts every Istio object of the %s layout", async (_layout, values) => {
        const { recorder } = await runProgram(values());
        const objects = recorder.resources.filter((r) => isIstio(String(r.inputs.apiVersion ?? "")));
        expect(objects.length).toBeGreaterThanOrEqual(5);
        for (const obj of objects) expect(validate(plain(obj.inputs)), obj.name).toEqual([]);
    });

    it("fails a misspelled field, a wrong type and a bad enum (the check can fail)", async () => {
        const { recorder } = await runProgram(devValues());
        const find = (kind: string) =>
            structuredClone(plain(recorder.resources.find((r) => r.inputs.kind === kind)!.inputs));
        const typo = find("DestinationRule");
        typo.spec.trafficPolicy.outlierDetection.consecutive5xxErrorz = 3;
        expect(validate(typo).join("\n")).toMatch(/additionalProperty.*consecutive5xxErrorz/);
        const wrongType = find("VirtualService");
        wrongType.spec.http[0].route[0].weight = "90";
        expect(validate(wrongType).join("\n")).toMatch(/weight must be integer/);
        const badMode = find("PeerAuthentication");
        badMode.spec.mtls.mode = "STRICTER";
        expect(validate(badMode).join("\n")).toMatch(/must be equal to one of the allowed values/);
    });
});

describe("Kubernetes objects against the Kubernetes 1.29 OpenAPI spec (strict)", () => {
    const validate = kubernetesValidator();

    it.each([
        ["dev", devValues],
        ["ha", haValues],
    ])("accepts every typed Kubernetes object of the %s layout", async (_layout, values) => {
        const { recorder } = await runProgram(values());
        const objects = kubernetesObjects(recorder);
        const kinds = new Set(objects.map((o) => o.inputs.kind));
        for (const kind of [
            "Namespace",
            "StatefulSet",
            "Deployment",
            "Service",
            "ConfigMap",
            "Secret",
            "ClusterRole",
            "Role",
            "ServiceAccount",
        ]) {
            expect(kinds, kind).toContain(kind);
        }
        for (const obj of objects) expect(validate(plain(obj.inputs)), `${obj.type} ${obj.name}`).toEqual([]);
    });

    it("fails a misspelled field and a wrong type (the check can fail)", async () => {
        const { recorder } = await runProgram(devValues());
        const sts = structuredClone(plain(recorder.ofType("kubernetes:apps/v1:StatefulSet")[0].inputs));
        sts.spec.template.spec.containers[0].imagePulPolicy = "Always";
        expect(validate(sts).join("\n")).toMatch(/additionalProperty.*imagePulPolicy/);
        const svc = structuredClone(
            plain(recorder.named("observability-prometheus", "kubernetes:core/v1:Service").inputs),
        );
        svc.spec.ports[0].port = "9090";
        expect(validate(svc).join("\n")).toMatch(/port must be integer/);
    });
});
