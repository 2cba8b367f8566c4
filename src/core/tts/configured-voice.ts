/** The voice set on the voice-model, shared by every tts engine that reads it at load. */
import type { LoadContext } from "../types";

/** The voice set on the voice-model (spec.config.voice), trimmed; undefined when none is set. */
export function configuredVoice(ctx: LoadContext): string | undefined {
  const voice = ctx.spec.config?.voice;
  return typeof voice === "string" && voice.trim() !== "" ? voice.trim() : undefined;
}
