/** Browsing mDNS for Wyoming services in tests (bonjour-service, as Home Assistant browses with zeroconf). */
import { Bonjour } from "bonjour-service";

/** Browses `_wyoming._tcp` for a service called `name`; resolves its port, or undefined after `ms`. */
export function findWyoming(name: string, ms: number): Promise<{ port: number; type: string; protocol: string } | undefined> {
  const bonjour = new Bonjour();
  return new Promise((resolve) => {
    const finish = (found: { port: number; type: string; protocol: string } | undefined) => {
      clearTimeout(timer);
      browser.stop();
      bonjour.destroy();
      resolve(found);
    };
    const browser = bonjour.find({ type: "wyoming" }, (service) => {
      if (service.name === name) finish({ port: service.port, type: service.type, protocol: service.protocol });
    });
    const timer = setTimeout(() => finish(undefined), ms);
  });
}
