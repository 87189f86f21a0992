/**
 * Prometheus scrape configuration for the mesh, as a pure function. It covers istiod, the
 * gateways and every sidecar. Sidecars merge the app's and Envoy's metrics on :15020
 * (meshConfig.enablePrometheusMerge), a port Istio leaves outside mTLS, so a Prometheus
 * without a sidecar keeps scraping under STRICT mTLS.
 */
import { stringify } from "yaml";

export interface ScrapeConfigInput {
    scrapeInterval: string;
    istioNamespace: string;
}

export function renderPrometheusConfig(input: ScrapeConfigInput): string {
    const keepAnnotatedPods = [
        {
            source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"],
            action: "keep",
            regex: "true",
        },
        // Pods that are not Running (Pending, Succeeded) have nothing to scrape.
        { source_labels: ["__meta_kubernetes_pod_phase"], action: "drop", regex: "Pending|Succeeded|Failed|Completed" },
        {
            source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_path"],
            action: "replace",
            target_label: "__metrics_path__",
            regex: "(.+)",
        },
        {
            // IPv4 address and the annotated port, e.g. 10.42.1.7:15020.
            source_labels: ["__address__", "__meta_kubernetes_pod_annotation_prometheus_io_port"],
            action: "replace",
            regex: "([^:]+)(?::\\d+)?;(\\d+)",
            replacement: "$1:$2",
            target_label: "__address__",
        },
        { action: "labelmap", regex: "__meta_kubernetes_pod_label_(.+)" },
        { source_labels: ["__meta_kubernetes_namespace"], action: "replace", target_label: "namespace" },
        { source_labels: ["__meta_kubernetes_pod_name"], action: "replace", target_label: "pod" },
    ];

    const config = {
        global: { scrape_interval: input.scrapeInterval, evaluation_interval: input.scrapeInterval },
        scrape_configs: [
            { job_name: "prometheus", static_configs: [{ targets: ["localhost:9090"] }] },
            {
                // istiod's own metrics (xDS pushes, webhook calls, config errors) on http-monitoring.
                job_name: "istiod",
                kubernetes_sd_configs: [{ role: "endpoints", namespaces: { names: [input.istioNamespace] } }],
                relabel_configs: [
                    {
                        source_labels: ["__meta_kubernetes_service_name", "__meta_kubernetes_endpoint_port_name"],
                        action: "keep",
                        regex: "istiod;http-monitoring",
                    },
                ],
            },
            {
                // Sidecars and gateways: both carry prometheus.io/* annotations pointing at :15020.
                job_name: "kubernetes-pods",
                honor_labels: true,
                kubernetes_sd_configs: [{ role: "pod" }],
                relabel_configs: keepAnnotatedPods,
            },
        ],
    };
    return stringify(config);
}
