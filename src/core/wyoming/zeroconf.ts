/**
 * Zeroconf (mDNS) advertisement of a Wyoming server as `_wyoming._tcp`, so Home Assistant's
 * Wyoming integration discovers it; bonjour-service does the mDNS.
 */
import * as os from "os";

export interface Advertisement {
  readonly name: string;
  stop(): Promise<void>;
}

/** Advertises `name` on `port` until stop(); `onError` hears mDNS failures (they never throw). */
export function advertise(name: string, port: number, onError: (err: Error) => void = () => undefined): Advertisement {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Bonjour } = require("bonjour-service") as typeof import("bonjour-service");
  const bonjour = new Bonjour({}, (err: Error) => onError(err));
  const service = bonjour.publish({ name, type: "wyoming", protocol: "tcp", port, host: os.hostname(), disableIPv6: true });
  service.on("error", (err: Error) => onError(err));
  let stopped: Promise<void> | undefined;
  return {
    name,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        bonjour.unpublishAll(() => bonjour.destroy(() => resolve()));
        // unpublish waits for a goodbye packet; never hang a shutdown on it.
        setTimeout(resolve, 1500).unref();
      });
      return stopped;
    },
  };
}
