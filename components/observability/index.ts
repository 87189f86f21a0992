export * from "./dashboards";
export * from "./observability";
export * from "./prometheus-config";
