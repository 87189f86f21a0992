export * from "./gateway";
export * from "./istio-mesh";
export * from "./render";
