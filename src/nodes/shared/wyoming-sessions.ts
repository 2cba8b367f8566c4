/**
 * The open Wyoming sessions of this Node-RED process by stream_id, so a wyoming-out node
 * answers on the session a wyoming-in node opened (as http response finds http in's request).
 */
import type { WyomingSession } from "../../core/wyoming/session";

const open = new Map<string, WyomingSession>();
/** stream_ids already warned about (one warning per stream; bounded). */
const warned = new Set<string>();
const MAX_WARNED = 1000;

export function addSession(session: WyomingSession): void {
  open.set(session.id, session);
}

export function removeSession(session: WyomingSession): void {
  if (open.get(session.id) === session) open.delete(session.id);
}

/** The open session of `streamId`, if any. */
export function findSession(streamId: unknown): WyomingSession | undefined {
  if (typeof streamId !== "string" && typeof streamId !== "number") return undefined;
  const session = open.get(String(streamId));
  return session && !session.closed ? session : undefined;
}

/** True the first time for `streamId` (so each stream is warned about once). */
export function firstWarning(streamId: string): boolean {
  if (warned.has(streamId)) return false;
  if (warned.size >= MAX_WARNED) warned.delete(warned.values().next().value as string);
  warned.add(streamId);
  return true;
}
