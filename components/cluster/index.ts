export * from "./existing-cluster";
export * from "./k3s-cluster";
export * from "./render";
