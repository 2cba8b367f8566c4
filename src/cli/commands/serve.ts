/**
 * `voice-stream serve --port N [--host H] [--asr M] [--tts M] [--wake M]
 *  [--language L] [--allow LIST] [--zeroconf [--zeroconf-name NAME]]`
 *
 * A Wyoming server (PROTOCOL §7, §8) straight on the core, without Node-RED: Home Assistant
 * (or any Wyoming client) gets speech-to-text from the asr model, text-to-speech from the tts
 * model and wake word detection from a wake service. Runs until stopped; Ctrl-C ends the open
 * sessions with an error event and closes the connections.
 */
import type { WakeEngine } from "../../core/wake/engine";
import * as path from "path";
import { numberOption, parseCommandArgs } from "../args";
import { CliError } from "../cli-error";
import { openForCli } from "../open-engine";
import type { OpenedModel } from "../../core/open-model";
import { WyomingServer } from "../../core/wyoming/server";
import { EngineServices } from "../../core/wyoming/engine-services";
import { advertise, type Advertisement } from "../../core/wyoming/zeroconf";
import { isWyomingUrl } from "../../core/wyoming/client";
import type { AsrEngine, TtsEngine } from "../../core/types";

const USAGE =
  "usage: voice-stream serve --port N [--host 127.0.0.1] [--asr <dir|repo|wyoming://…>] [--tts <dir|repo|espeak|wyoming://…>] " +
  "[--wake <dir|repo|wyoming://…>] [--language L] [--allow ADDRESSES] [--zeroconf [--zeroconf-name NAME]] [--max-audio-seconds S]";

function say(line: string): void {
  process.stderr.write(line + "\n");
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    help: { type: "boolean", short: "h" },
    port: { type: "string" },
    host: { type: "string" },
    asr: { type: "string" },
    tts: { type: "string" },
    wake: { type: "string" },
    language: { type: "string" },
    allow: { type: "string" },
    zeroconf: { type: "boolean" },
    "zeroconf-name": { type: "string" },
    "max-audio-seconds": { type: "string" },
  });
  const str = (name: string): string | undefined => (typeof values[name] === "string" ? (values[name] as string) : undefined);
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const port = numberOption(values, "port", { integer: true, min: 0, max: 65535 });
  if (port === undefined) throw new CliError("--port is required (Home Assistant's own services use 10300 asr, 10200 tts, 10400 wake)");
  if (!values.asr && !values.tts && !values.wake) throw new CliError("give at least one of --asr, --tts or --wake: the services to offer");
  const maxAudio = numberOption(values, "max-audio-seconds", { min: 1 });
  const asrModel = str("asr");
  const ttsModel = str("tts");
  const wakeModel = str("wake");

  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  };
  try {
    // The models open as every command's do (a repo downloads into the cache, wyoming:// asks the service).
    let asr: OpenedModel<AsrEngine> | undefined;
    if (asrModel) {
      asr = await openForCli<AsrEngine>("asr", asrModel, { warn: (m) => say(`warning: ${m}`) });
      closers.push(() => asr!.close());
    }
    let tts: OpenedModel<TtsEngine> | undefined;
    if (ttsModel) {
      tts = await openForCli<TtsEngine>("tts", ttsModel, { warn: (m) => say(`warning: ${m}`) });
      closers.push(() => tts!.close());
    }
    let wake: OpenedModel<WakeEngine> | undefined;
    if (wakeModel) {
      wake = await openForCli<WakeEngine>("wake", wakeModel, { warn: (m) => say(`warning: ${m}`) });
      closers.push(() => wake!.close());
    }
    const nameOf = (model: string) => (isWyomingUrl(model) ? model : path.basename(model.replace(/[\\/]+$/, "")) || model);
    const services = new EngineServices({
      asr: asr ? { engine: asr.engine, name: nameOf(asrModel!), languages: str("language") ? [str("language")!] : undefined } : undefined,
      tts: tts ? { engine: tts.engine, name: nameOf(ttsModel!) } : undefined,
      wake: wake ? { engine: wake.engine, name: nameOf(wakeModel!) } : undefined,
    });
    let server: WyomingServer;
    try {
      server = new WyomingServer({
        host: str("host"),
        port,
        allow: str("allow"),
        maxAudioSeconds: maxAudio,
        offers: services.offers,
        services: () => services.services(),
        onSession: (session) => services.handle(session),
        log: (level, message) => (level === "debug" ? (process.env.VOICE_STREAM_DEBUG ? say(message) : undefined) : say(message)),
      });
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    let address;
    try {
      address = await server.listen();
    } catch (err) {
      throw new CliError((err as Error).message, 1);
    }
    closers.push(() => server.close());
    const offered = Object.entries(services.offers).filter(([, on]) => on).map(([k]) => k).join(", ");
    say(`voice-stream serve: listening on ${address.host}:${address.port} (${offered}); Ctrl-C stops`);
    if (address.beyondLoopback) say(`warning: listening beyond this machine on ${address.host}: Wyoming has no authentication${values.allow ? `; allowed: ${values.allow}` : "; consider --allow"}`);
    let ad: Advertisement | undefined;
    if (values.zeroconf) {
      ad = advertise(str("zeroconf-name") || `voice-stream-${address.port}`, address.port, (err) => say(`warning: zeroconf: ${err.message}`));
      closers.push(() => ad!.stop());
      say(`zeroconf: advertising _wyoming._tcp as '${ad.name}'`);
    }
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        resolve();
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
    say("voice-stream serve: stopping");
    return 0;
  } finally {
    await closeAll();
  }
}
