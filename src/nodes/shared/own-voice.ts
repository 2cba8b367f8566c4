/**
 * The own-voice guard settings the listening nodes (vad, wake-word) share: with the guard on,
 * what audio-out plays on the reference channel does not count as the user speaking unless
 * the microphone is louder than that playback by the margin.
 */
import { EchoGuard } from "../../core/audio/echo-guard";
import { referenceChannel } from "../../core/audio/reference-bus";
import type { Setting } from "./settings";

export const OWN_VOICE_SETTINGS: readonly Setting[] = [
  { key: "guard", editor: "guard", type: "boolean", default: false },
  { key: "reference", editor: "reference", type: "string", default: "default" },
  { key: "guardMarginDb", editor: "guardMarginDb", type: "number", min: -40, max: 40, default: 4 },
];

export interface OwnVoiceSettings {
  guard: boolean;
  /** audio-out's reference channel name. */
  reference: string;
  guardMarginDb: number;
}

/** A new guard for one stream (each measures its own echo delay), or none when the setting is off. */
export function ownVoiceGuard(settings: OwnVoiceSettings): EchoGuard | undefined {
  return settings.guard ? new EchoGuard(referenceChannel(settings.reference), { margin_db: settings.guardMarginDb }) : undefined;
}
