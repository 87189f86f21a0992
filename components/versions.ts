/**
 * Every version kvmesh pins, in one place. Bumping one of these is a reviewed change:
 * the preview shows exactly which nodes and releases it touches.
 */

/** Istio: the last 1.21 patch. Charts `base`, `istiod` and `gateway` come from this release. */
export const istio = {
    version: "1.21.6",
    chartRepository: "https://istio-release.storage.googleapis.com/charts",
    /** Images are pinned here, never taken from a chart's defaults (source charts carry placeholders). */
    hub: "docker.io/istio",
    /** API versions Istio 1.21 serves; `v1` arrived in 1.22. */
    securityApiVersion: "security.istio.io/v1beta1",
    networkingApiVersion: "networking.istio.io/v1beta1",
    /** Kubernetes minors Istio 1.21 supports. */
    kubernetesMinors: { min: 26, max: 29 },
} as const;

/** k3s: the last 1.29 release (Kubernetes 1.29, inside Istio 1.21's window). */
export const k3s = {
    version: "v1.29.15+k3s1",
    /** Release assets; the binary is checked against the release's sha256sum file. */
    releaseBaseUrl: "https://github.com/k3s-io/k3s/releases/download",
} as const;

/** Ubuntu 22.04 (jammy) cloud image, pinned by release serial and SHA-256. */
export const ubuntuImage = {
    serial: "20250429",
    url: "https://cloud-images.ubuntu.com/releases/jammy/release-20250429/ubuntu-22.04-server-cloudimg-amd64.img",
    sha256: "952bc5bb4349897a409559c26fdec006a2744b103e005af6df8693cfab515bc2",
    osVariant: "ubuntu22.04",
} as const;

/** Observability images, pinned by tag. */
export const images = {
    prometheus: "quay.io/prometheus/prometheus:v2.53.2",
    grafana: "docker.io/grafana/grafana:10.4.7",
} as const;

/** k3s minimum memory (MiB) per role, from the k3s hardware requirements. */
export const k3sMinimumMemoryMiB = { server: 2048, agent: 512 } as const;

/** The Kubernetes minor a k3s version ships, e.g. "v1.29.15+k3s1" -> 29. */
export function kubernetesMinorOf(k3sVersion: string): number | undefined {
    const m = /^v1\.(\d+)\.\d+\+k3s\d+$/.exec(k3sVersion);
    return m ? Number(m[1]) : undefined;
}
