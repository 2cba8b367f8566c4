/** Which client addresses may connect: exact addresses and CIDR ranges, IPv4 and IPv6 (node's BlockList). */
import { BlockList, isIP } from "net";

export interface AllowList {
  allows(address: string | undefined): boolean;
  /** The entries as given, for status and logs. */
  readonly entries: string[];
}

/** IPv4 clients of a dual-stack socket appear as ::ffff:a.b.c.d. */
export function plainAddress(address: string): string {
  return address.startsWith("::ffff:") && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** An allow-list from "a, b/24, ..." or an array; empty means everyone. Throws naming a bad entry. */
export function parseAllowList(spec: string | string[] | undefined): AllowList {
  const entries = (Array.isArray(spec) ? spec : String(spec ?? "").split(/[\s,;]+/)).map((e) => e.trim()).filter((e) => e !== "");
  if (entries.length === 0) return { entries, allows: () => true };
  const list = new BlockList();
  for (const entry of entries) {
    const [address, bits, extra] = entry.split("/");
    const family = isIP(address);
    if (!family || extra !== undefined) throw new Error(`allow-list entry '${entry}' is not an IP address or CIDR range (e.g. 192.168.1.20 or 192.168.1.0/24)`);
    const type = family === 4 ? "ipv4" : "ipv6";
    if (bits === undefined) list.addAddress(address, type);
    else {
      const prefix = Number(bits);
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) throw new Error(`allow-list entry '${entry}' has a bad prefix length`);
      list.addSubnet(address, prefix, type);
    }
  }
  return {
    entries,
    allows(raw) {
      if (!raw) return false;
      const address = plainAddress(raw);
      const family = isIP(address);
      if (!family) return false;
      return list.check(address, family === 4 ? "ipv4" : "ipv6");
    },
  };
}

/** Whether a bind host keeps the server to this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase();
  return h === "localhost" || h === "::1" || /^127\./.test(h);
}
