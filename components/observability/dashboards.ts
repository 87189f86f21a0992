/**
 * kvmesh's Grafana dashboards, built from Istio's standard metrics: request rate, error rate
 * and P50/P95/P99 latency for the mesh, per service, per workload and per hop
 * (source workload -> destination workload). Pure functions; every expression is checked by
 * promtool in the tests.
 */

export interface Panel {
    title: string;
    unit: "reqps" | "percentunit" | "ms";
    /** Legend per series, e.g. "{{source_workload}} -> {{destination_workload}}". */
    legend: string;
    expr: string;
}

export interface DashboardSpec {
    uid: string;
    title: string;
    /** Template variables (label values queried from Prometheus). */
    variables: { name: string; label: string; query: string }[];
    panels: Panel[];
}

const WINDOW = "5m";
const QUANTILES = [
    ["P50", "0.50"],
    ["P95", "0.95"],
    ["P99", "0.99"],
] as const;

/** Latency quantiles from istio_request_duration_milliseconds, grouped `by`. */
function latencyPanels(scope: string, selector: string, by: string[], legend: string): Panel[] {
    return QUANTILES.map(([name, q]) => ({
        title: `${name} latency ${scope}`,
        unit: "ms" as const,
        legend,
        expr: `histogram_quantile(${q}, sum by (le, ${by.join(", ")}) (rate(istio_request_duration_milliseconds_bucket{${selector}}[${WINDOW}])))`,
    }));
}

function ratePanels(scope: string, selector: string, by: string[], legend: string): Panel[] {
    const group = `sum by (${by.join(", ")})`;
    return [
        {
            title: `Request rate ${scope}`,
            unit: "reqps",
            legend,
            expr: `${group} (rate(istio_requests_total{${selector}}[${WINDOW}]))`,
        },
        {
            title: `Error rate (5xx) ${scope}`,
            unit: "percentunit",
            legend,
            expr: `${group} (rate(istio_requests_total{${selector}, response_code=~"5.."}[${WINDOW}])) / ${group} (rate(istio_requests_total{${selector}}[${WINDOW}]))`,
        },
    ];
}

const HOP = ["source_workload", "source_workload_namespace", "destination_workload", "destination_workload_namespace"];
const HOP_LEGEND =
    "{{source_workload}}.{{source_workload_namespace}} -> {{destination_workload}}.{{destination_workload_namespace}}";

export function dashboards(): DashboardSpec[] {
    // Measured where the request arrives (reporter="destination"), except per hop, where the
    // client side (reporter="source") also sees time spent on the wire and in the server's proxy.
    const dst = `reporter="destination"`;
    return [
        {
            uid: "kvmesh-mesh",
            title: "kvmesh / Mesh overview",
            variables: [],
            panels: [
                ...ratePanels("by service", dst, ["destination_service"], "{{destination_service}}"),
                ...latencyPanels("by service", dst, ["destination_service"], "{{destination_service}}"),
            ],
        },
        {
            uid: "kvmesh-service",
            title: "kvmesh / Service",
            variables: [
                {
                    name: "service",
                    label: "destination_service",
                    query: "label_values(istio_requests_total, destination_service)",
                },
            ],
            panels: [
                ...ratePanels(
                    "by client workload",
                    `${dst}, destination_service=~"$service"`,
                    ["source_workload", "source_workload_namespace"],
                    "{{source_workload}}.{{source_workload_namespace}}",
                ),
                ...latencyPanels(
                    "by client workload",
                    `${dst}, destination_service=~"$service"`,
                    ["source_workload", "source_workload_namespace"],
                    "{{source_workload}}.{{source_workload_namespace}}",
                ),
            ],
        },
        {
            uid: "kvmesh-workload",
            title: "kvmesh / Workload",
            variables: [
                {
                    name: "namespace",
                    label: "destination_workload_namespace",
                    query: "label_values(istio_requests_total, destination_workload_namespace)",
                },
                {
                    name: "workload",
                    label: "destination_workload",
                    query: `label_values(istio_requests_total{destination_workload_namespace=~"$namespace"}, destination_workload)`,
                },
            ],
            panels: [
                ...ratePanels(
                    "inbound",
                    `${dst}, destination_workload_namespace=~"$namespace", destination_workload=~"$workload"`,
                    ["destination_workload", "destination_workload_namespace"],
                    "{{destination_workload}}.{{destination_workload_namespace}}",
                ),
                ...latencyPanels(
                    "inbound",
                    `${dst}, destination_workload_namespace=~"$namespace", destination_workload=~"$workload"`,
                    ["destination_workload", "destination_workload_namespace"],
                    "{{destination_workload}}.{{destination_workload_namespace}}",
                ),
                ...ratePanels(
                    "outbound per hop",
                    `reporter="source", source_workload_namespace=~"$namespace", source_workload=~"$workload"`,
                    HOP,
                    HOP_LEGEND,
                ),
                ...latencyPanels(
                    "outbound per hop",
                    `reporter="source", source_workload_namespace=~"$namespace", source_workload=~"$workload"`,
                    HOP,
                    HOP_LEGEND,
                ),
            ],
        },
        {
            uid: "kvmesh-hops",
            title: "kvmesh / Hops",
            variables: [],
            panels: [
                ...ratePanels("per hop", `reporter="source"`, HOP, HOP_LEGEND),
                ...latencyPanels("per hop", `reporter="source"`, HOP, HOP_LEGEND),
            ],
        },
    ];
}

/** Grafana dashboard JSON (schema 39) for one spec. */
export function renderDashboard(spec: DashboardSpec): string {
    const panels = spec.panels.map((p, i) => ({
        id: i + 1,
        type: "timeseries",
        title: p.title,
        datasource: { type: "prometheus", uid: "prometheus" },
        gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
        fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
        options: { legend: { displayMode: "table", placement: "bottom", calcs: ["mean", "max"] } },
        targets: [
            { refId: "A", expr: p.expr, legendFormat: p.legend, datasource: { type: "prometheus", uid: "prometheus" } },
        ],
    }));
    const templating = spec.variables.map((v) => ({
        name: v.name,
        label: v.label,
        type: "query",
        datasource: { type: "prometheus", uid: "prometheus" },
        query: { query: v.query, refId: "var" },
        definition: v.query,
        includeAll: true,
        multi: true,
        allValue: ".*",
        refresh: 2,
    }));
    return JSON.stringify(
        {
            uid: spec.uid,
            title: spec.title,
            tags: ["kvmesh", "istio"],
            schemaVersion: 39,
            time: { from: "now-1h", to: "now" },
            refresh: "30s",
            templating: { list: templating },
            panels,
        },
        null,
        2,
    );
}
