/**
 * Published schemas for what kvmesh declares, made strict: the Kubernetes 1.29 OpenAPI spec
 * (from the k8s.io/kubernetes Go module at the version k3s ships) and Istio 1.21.6's CRDs
 * (istio.io/api v1.21.6). An API server prunes unknown fields silently; these checks refuse them.
 */
import Ajv, { ValidateFunction } from "ajv";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseAllDocuments } from "yaml";
import * as versions from "../../components/versions";
import { ROOT } from "../fixtures/configs";
import { unwrapSecret } from "./mocks";

type Schema = Record<string, any>;

/** Disallow properties a schema does not list, unless it keeps unknown fields on purpose. */
export function strict(schema: Schema): Schema {
    if (Array.isArray(schema)) return schema.map(strict);
    if (typeof schema !== "object" || schema === null) return schema;
    const out: Schema = {};
    for (const [k, v] of Object.entries(schema)) {
        if (k.startsWith("x-kubernetes-")) continue;
        out[k] = typeof v === "object" ? strict(v) : v;
    }
    if (
        schema.properties &&
        schema.additionalProperties === undefined &&
        !schema["x-kubernetes-preserve-unknown-fields"]
    ) {
        out.additionalProperties = false;
    }
    return out;
}

/** Recorded inputs with Pulumi's secret wrappers removed. */
export function plain(value: unknown): any {
    const v = unwrapSecret(value);
    if (Array.isArray(v)) return v.map(plain);
    if (typeof v === "object" && v !== null)
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
    return v;
}

function newAjv(): Ajv {
    const ajv = new Ajv({ strict: false, allErrors: true });
    for (const f of ["int32", "int64", "double", "byte", "date-time", "int-or-string"]) ajv.addFormat(f, true);
    return ajv;
}

export type Validator = (obj: Schema) => string[];

function explain(check: ValidateFunction): string[] {
    return (check.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`);
}

function goModuleDir(module: string): string {
    const out = execFileSync("go", ["mod", "download", "-json", module], {
        cwd: "/",
        encoding: "utf8",
        env: { ...process.env, GOWORK: "off", GOFLAGS: "-mod=mod" },
    });
    return JSON.parse(out).Dir;
}

/** Kubernetes objects against the OpenAPI spec of the Kubernetes release k3s ships. */
export function kubernetesValidator(): Validator {
    const k8sVersion = versions.k3s.version.replace(/\+.*$/, "");
    const spec = JSON.parse(
        fs.readFileSync(
            path.join(goModuleDir(`k8s.io/kubernetes@${k8sVersion}`), "api", "openapi-spec", "swagger.json"),
            "utf8",
        ),
    );
    const definitions: Schema = {};
    const byKind = new Map<string, string>();
    for (const [name, def] of Object.entries<Schema>(spec.definitions)) {
        // IntOrString is declared as a string with a format; JSON has both forms.
        definitions[name] =
            def.format === "int-or-string" ? { anyOf: [{ type: "string" }, { type: "integer" }] } : strict(def);
        for (const gvk of def["x-kubernetes-group-version-kind"] ?? []) {
            byKind.set(`${gvk.group ? `${gvk.group}/` : ""}${gvk.version}/${gvk.kind}`, name);
        }
    }
    const ajv = newAjv();
    ajv.addSchema({ $id: "k8s", definitions });
    const cache = new Map<string, ValidateFunction>();
    return (obj) => {
        const name = byKind.get(`${obj.apiVersion}/${obj.kind}`);
        if (!name) return [`no Kubernetes ${k8sVersion} schema for ${obj.apiVersion}/${obj.kind}`];
        let check = cache.get(name);
        if (!check) {
            check = ajv.compile({ $ref: `k8s#/definitions/${name}` });
            cache.set(name, check);
        }
        return check(obj) ? [] : explain(check);
    };
}

/** Istio objects against the CRDs Istio 1.21.6 installs. */
export function istioValidator(): { validate: Validator; kinds: string[] } {
    const file = execFileSync("bash", [path.join(ROOT, "tools", "istio", "crds-file.sh")], { encoding: "utf8" }).trim();
    const ajv = newAjv();
    const checks = new Map<string, ValidateFunction>();
    for (const doc of parseAllDocuments(fs.readFileSync(file, "utf8"))) {
        const crd = doc.toJS();
        if (crd?.kind !== "CustomResourceDefinition") continue;
        for (const version of crd.spec.versions) {
            const schema = strict(version.schema.openAPIV3Schema);
            // The object's envelope; metadata is the API server's business.
            schema.properties = {
                ...schema.properties,
                apiVersion: { type: "string" },
                kind: { type: "string" },
                metadata: { type: "object" },
            };
            checks.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, ajv.compile(schema));
        }
    }
    return {
        kinds: [...checks.keys()],
        validate: (obj) => {
            const check = checks.get(`${obj.apiVersion}/${obj.kind}`);
            if (!check) return [`no Istio 1.21.6 CRD for ${obj.apiVersion}/${obj.kind}`];
            return check(obj) ? [] : explain(check);
        },
    };
}
