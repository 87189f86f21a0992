/** Small IPv4 helpers for config validation and rendering. Pure functions. */

export function parseIPv4(text: string): number | undefined {
    const parts = text.split(".");
    if (parts.length !== 4) return undefined;
    let value = 0;
    for (const part of parts) {
        if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined;
        const octet = Number(part);
        if (octet > 255) return undefined;
        value = value * 256 + octet;
    }
    return value;
}

export interface Cidr {
    network: number;
    prefix: number;
}

export function parseCidr(text: string): Cidr | undefined {
    const m = /^([^/]+)\/(\d{1,2})$/.exec(text);
    if (!m) return undefined;
    const address = parseIPv4(m[1]);
    const prefix = Number(m[2]);
    if (address === undefined || prefix > 32) return undefined;
    const network = prefix === 0 ? 0 : address - (address % 2 ** (32 - prefix));
    // A CIDR with host bits set (192.0.2.5/24) is almost always a typo for the network.
    if (network !== address) return undefined;
    return { network, prefix };
}

export function cidrContains(cidr: Cidr, address: number): boolean {
    const size = 2 ** (32 - cidr.prefix);
    return address >= cidr.network && address < cidr.network + size;
}

/** True for the network and broadcast addresses of a subnet smaller than /31. */
export function isNetworkOrBroadcast(cidr: Cidr, address: number): boolean {
    if (cidr.prefix >= 31) return false;
    return address === cidr.network || address === cidr.network + 2 ** (32 - cidr.prefix) - 1;
}

/** True when the string is an IPv4 address or a DNS name usable as a TLS SAN. */
export function isHostname(text: string): boolean {
    if (parseIPv4(text) !== undefined) return true;
    return text.length <= 253 && text.split(".").every((label) => /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/i.test(label));
}
