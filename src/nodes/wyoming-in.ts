/**
 * wyoming-in: a Wyoming service made of a flow (PROTOCOL §7), like http in. It listens on a
 * TCP port, answers `describe` from its settings (or the voice-model nodes it names), and
 * turns each client request into messages that share one `stream_id`
 * (shared/wyoming-session-messages.ts).
 * A wyoming-out node sends the flow's answer back on the session of the msg's stream_id.
 */
import type { Node, NodeAPI } from "node-red";
import { WyomingServer, type ListeningAddress } from "../core/wyoming/server";
import type { WyomingSession } from "../core/wyoming/session";
import { advertise, type Advertisement } from "../core/wyoming/zeroconf";
import type { LoadedModel } from "../core/types";
import { isVoiceModelNode } from "./shared/model-status";
import { addSession, removeSession } from "./shared/wyoming-sessions";
import { list, serverSettingsOf, servicesOf, type WyomingInDef } from "./shared/wyoming-in-settings";
import { forwardSession } from "./shared/wyoming-session-messages";

const STATUS_INTERVAL_MS = 500;
/** How long describe waits for a named voice-model to load (for its voices and languages). */
const MODEL_WAIT_MS = 3000;

module.exports = function register(RED: NodeAPI) {
  /** The loaded model of a voice-model config node, or undefined when none is set or it is not ready in time. */
  async function modelOf(id: string | undefined): Promise<{ model?: LoadedModel; name?: string }> {
    const config = id ? (RED.nodes.getNode(id) as unknown) : undefined;
    if (!isVoiceModelNode(config)) return {};
    const model = await Promise.race([config.model().catch(() => undefined), new Promise<undefined>((r) => (setTimeout(r, MODEL_WAIT_MS) as unknown as NodeJS.Timeout).unref())]);
    return { model, name: config.name || (config as unknown as { spec?: { enginesPath?: string } }).spec?.enginesPath };
  }

  function WyomingInNode(this: Node, def: WyomingInDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    let server: WyomingServer | undefined;
    let ad: Advertisement | undefined;
    let address: ListeningAddress | undefined;
    let statusTimer: NodeJS.Timeout | undefined;
    let closing = false;
    const sessions = new Set<WyomingSession>();
    (node as unknown as { address: () => ListeningAddress | undefined }).address = () => address;

    const showStatus = () => {
      statusTimer = undefined;
      if (!address || closing) return;
      const where = `${address.host}:${address.port}`;
      const count = sessions.size > 0 ? ` · ${sessions.size} session${sessions.size === 1 ? "" : "s"}` : "";
      if (address.beyondLoopback) node.status({ fill: "yellow", shape: "dot", text: `open to the network on ${where}${count}` });
      else node.status({ fill: "green", shape: "dot", text: `listening on ${where}${count}` });
    };
    const scheduleStatus = () => {
      statusTimer ??= setTimeout(showStatus, STATUS_INTERVAL_MS);
    };

    const onSession = (session: WyomingSession) => {
      sessions.add(session);
      addSession(session);
      scheduleStatus();
      forwardSession(session, (msg) => node.send(msg as never), () => closing);
      // Session over (answered, failed or gone): forget it once the input completes.
      session.input$.subscribe({
        complete: () => {
          sessions.delete(session);
          removeSession(session);
          scheduleStatus();
        },
      });
    };

    try {
      const settings = serverSettingsOf(def);
      server = new WyomingServer({
        ...settings,
        services: () => servicesOf(def, settings.offers, modelOf),
        onSession,
        log: (level, message) => (level === "warn" ? node.warn(message) : level === "info" ? node.log(message) : node.debug(message)),
      });
    } catch (err) {
      node.status({ fill: "red", shape: "ring", text: (err as Error).message.slice(0, 60) });
      node.error(`wyoming in: ${(err as Error).message}`);
    }

    const started = server
      ?.listen()
      .then((listening) => {
        address = listening;
        if (closing) return;
        showStatus();
        if (listening.beyondLoopback) {
          node.warn(
            `listening on ${listening.host}:${listening.port}, open to the network: Wyoming has no authentication` +
              (list(def.allow).length > 0 ? `; only ${list(def.allow).join(", ")} may connect` : "; set an allow-list of client addresses"),
          );
        } else node.log(`listening on ${listening.host}:${listening.port}`);
        if (def.zeroconf !== false) {
          if (listening.beyondLoopback) {
            const name = def.zeroconfName?.trim() || `node-red-${listening.port}`;
            ad = advertise(name, listening.port, (err) => node.warn(`zeroconf: ${err.message}`));
            node.log(`zeroconf: advertising _wyoming._tcp as '${name}'`);
          } else node.log(`zeroconf: not advertised while bound to ${listening.host} (set a host such as 0.0.0.0 for Home Assistant to find it)`);
        }
      })
      .catch((err: Error) => {
        node.status({ fill: "red", shape: "ring", text: err.message.slice(0, 60) });
        node.error(`wyoming in: ${err.message}`);
      });

    node.on("close", (_removed: boolean, done: () => void) => {
      closing = true;
      if (statusTimer) clearTimeout(statusTimer);
      const stops: Promise<unknown>[] = [];
      if (ad) stops.push(ad.stop());
      if (server) stops.push(Promise.resolve(started).then(() => server!.close()));
      Promise.all(stops).then(
        () => done(),
        () => done(),
      );
    });
  }

  RED.nodes.registerType("wyoming-in", WyomingInNode as unknown as Parameters<NodeAPI["nodes"]["registerType"]>[1]);
};
