/**
 * The scrape config through `promtool check config`, every dashboard query through
 * `promtool check rules`, with the promtool of the Prometheus version kvmesh deploys.
 */
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { dashboards, renderPrometheusConfig } from "../../components/observability";
import * as versions from "../../components/versions";
import { devValues } from "../fixtures/configs";
import { runProgram } from "../support/program";
import { run, tempDir, toolBinary } from "../support/tools";

/** Grafana variables become regexes that match anything, as "All" does in the UI. */
const concrete = (expr: string) => expr.replace(/\$[a-z_]+/g, ".*");

describe("promtool", () => {
    // Built from the Prometheus release the pinned image runs (Debian's lacks Kubernetes discovery).
    const promtool = toolBinary("promtool", "promtool");
    const dir = tempDir("promtool");
    const checkRules = (exprs: string[], name: string) => {
        const file = path.join(dir, `${name}.rules.yml`);
        const rules = exprs.map((expr, i) => ({ record: `kvmesh:check_${i}`, expr }));
        fs.writeFileSync(file, stringify({ groups: [{ name, rules }] }));
        return run(promtool, ["check", "rules", file]);
    };

    it("is the promtool of the Prometheus release kvmesh deploys", () => {
        const tag = versions.images.prometheus.split(":v")[1];
        expect(run(promtool, ["--version"]).stdout).toContain(`promtool, version ${tag}`);
    });

    it("accepts the scrape config the dev stack deploys", async () => {
        const { recorder } = await runProgram(devValues());
        const map = recorder
            .ofType("kubernetes:core/v1:ConfigMap")
            .find((m) => m.inputs.metadata.name === "prometheus-config")!;
        const file = path.join(dir, "prometheus.yml");
        fs.writeFileSync(file, map.inputs.data["prometheus.yml"]);
        const r = run(promtool, ["check", "config", "--syntax-only", file]);
        expect(r.stdout + r.stderr).toMatch(/SUCCESS/);
        expect(r.status).toBe(0);
    });

    it("scrapes istiod, and every sidecar and gateway through their :15020 annotations", () => {
        const text = renderPrometheusConfig({ scrapeInterval: "15s", istioNamespace: "istio-system" });
        expect(text).toContain("regex: istiod;http-monitoring");
        expect(text).toContain("__meta_kubernetes_pod_annotation_prometheus_io_scrape");
        expect(text).toContain("__meta_kubernetes_pod_annotation_prometheus_io_port");
    });

    it("rejects a broken config and a broken query (the checks really run)", () => {
        const file = path.join(dir, "bad.yml");
        fs.writeFileSync(file, "scrape_configs:\n  - job_name: x\n    scrape_interval: soon\n");
        expect(run(promtool, ["check", "config", "--syntax-only", file]).status).not.toBe(0);
        expect(checkRules(["sum(rate(istio_requests_total[5m])"], "broken").status).not.toBe(0);
    });

    it("accepts every PromQL expression in kvmesh's dashboards", () => {
        const all = dashboards();
        expect(all.map((d) => d.uid)).toEqual(["kvmesh-mesh", "kvmesh-service", "kvmesh-workload", "kvmesh-hops"]);
        for (const d of all) {
            const exprs = [
                ...d.panels.map((p) => p.expr),
                ...d.variables.map((v) => v.query.replace(/^label_values\((.*), [a-z_]+\)$/, "$1")),
            ];
            const r = checkRules(exprs.map(concrete), d.uid);
            expect(r.stdout + r.stderr, d.uid).toMatch(/SUCCESS: \d+ rules found/);
            expect(r.status, d.uid).toBe(0);
        }
    });

    it("covers request rate, error rate and P50/P95/P99 per service, workload and hop", () => {
        const titles = dashboards().flatMap((d) => d.panels.map((p) => `${d.uid}: ${p.title}`));
        for (const q of ["P50", "P95", "P99"]) {
            expect(titles).toContain(`kvmesh-mesh: ${q} latency by service`);
            expect(titles).toContain(`kvmesh-hops: ${q} latency per hop`);
            expect(titles).toContain(`kvmesh-workload: ${q} latency inbound`);
        }
        expect(titles).toContain("kvmesh-service: Error rate (5xx) by client workload");
    });
});
