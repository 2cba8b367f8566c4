/**
 * Speech made at bench time with espeak-ng (never stored): everyday sentences, numbers and
 * names in several voices and speeds, optionally mixed with noise. No wake word appears in
 * the sentences ("jarvis", "alexa", "mycroft", "rhasspy", "weather", "timer" are left out).
 */
import { espeakSpeak } from "../../src/core/tts/espeak";
import { resample } from "../../src/core/audio/resample";
import { seededRandom } from "../../src/core/wake/verifier-training";

export const RATE = 16000;

/** A seeded random source (the core's mulberry32): the same run makes the same audio. */
export const rng = seededRandom;

const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)];

const ROOMS = ["kitchen", "living room", "bedroom", "garage", "office", "hallway", "bathroom", "garden"];
const NAMES = ["Travis", "Marcus", "Mavis", "Harvey", "Charles", "Jasmine", "Oliver", "Sophia", "Priya", "Mateo", "Hannah", "Jarrod", "Alexander", "Alison", "Michael", "Rasmus", "Chloe", "Ibrahim", "Yuki", "Gareth", "Jarvie", "Marvin"];
const CITIES = ["Paris", "Boston", "Lisbon", "Nairobi", "Osaka", "Denver", "Toronto", "Madrid", "Sydney", "Glasgow"];
const THINGS = ["the groceries", "the car keys", "the dentist", "the package", "the report", "the tickets", "the laundry", "dinner"];
const VOICES = ["en-us", "en-gb", "en-gb-scotland", "en-029", "en-gb-x-rp", "en-us+f3", "en-gb+f2", "en-us+m3", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-us+f4", "en-gb-scotland+m5"];
const MONTHS = ["January", "March", "April", "June", "August", "October", "November", "December"];
const STREETS = ["Maple Street", "Harbor Road", "Station Avenue", "Elm Court", "Mill Lane", "Park Drive"];

export function sentence(r: () => number): string {
  const n = () => Math.floor(r() * 100);
  const templates = [
    () => `Turn on the ${pick(r, ROOMS)} light.`,
    () => `Set the thermostat to ${n()} degrees.`,
    () => `What time is it in ${pick(r, CITIES)}?`,
    () => `Call ${pick(r, NAMES)} and tell them I will be late.`,
    () => `Remind me about ${pick(r, THINGS)} at ${1 + Math.floor(r() * 12)} o'clock.`,
    () => `${pick(r, NAMES)} said the meeting moved to ${pick(r, ["Monday", "Tuesday", "Friday", "the weekend"])}.`,
    () => `The numbers are ${n()}, ${n()}, ${n()} and ${n()}.`,
    () => `My phone number is ${Array.from({ length: 7 }, () => Math.floor(r() * 10)).join(" ")}.`,
    () => `How far is ${pick(r, CITIES)} from ${pick(r, CITIES)}?`,
    () => `Hey ${pick(r, NAMES)}, did you see ${pick(r, THINGS)}?`,
    () => `I think ${pick(r, NAMES)} and ${pick(r, NAMES)} went to ${pick(r, CITIES)} last year.`,
    () => `Please turn off the ${pick(r, ROOMS)} fan and lock the door.`,
    () => `The score was ${n()} to ${n()} at half time.`,
    () => `Can you play some quiet music in the ${pick(r, ROOMS)}?`,
    () => `We need ${n()} eggs, some bread and a bottle of milk.`,
    () => `Good morning everyone, the bus leaves at ${n()} past ${1 + Math.floor(r() * 12)}.`,
    () => `The appointment is on ${pick(r, MONTHS)} ${1 + Math.floor(r() * 28)}, ${1990 + Math.floor(r() * 40)}.`,
    () => `That comes to ${n()} dollars and ${n()} cents.`,
    () => `Send it to ${100 + Math.floor(r() * 900)} ${pick(r, STREETS)}, ${pick(r, CITIES)}.`,
    () => `${pick(r, NAMES)}, ${pick(r, NAMES)} and ${pick(r, NAMES)} are coming for dinner at ${5 + Math.floor(r() * 4)}.`,
    () => `Hello ${pick(r, NAMES)}, how are you doing today?`,
    () => `Count with me: ${Array.from({ length: 6 }, () => 1 + Math.floor(r() * 20)).join(", ")}.`,
    () => `Hey, can you ask ${pick(r, NAMES)} where ${pick(r, THINGS)} went?`,
  ];
  return pick(r, templates)();
}

export interface Utterance {
  text: string;
  voice: string;
  wpm: number;
  samples: Float32Array;
}

/** One utterance in a random voice and speed at 16 kHz. */
export async function speak(text: string, r: () => number, voice = pick(r, VOICES), wpm = 120 + Math.floor(r() * 80)): Promise<Utterance> {
  let audio;
  try {
    audio = await espeakSpeak(text, voice, { rate: wpm });
  } catch {
    voice = "en-us";
    audio = await espeakSpeak(text, voice, { rate: wpm });
  }
  return { text, voice, wpm, samples: resample(audio.audio, audio.sampleRate, RATE) };
}

export function rms(samples: Float32Array): number {
  let s = 0;
  for (let i = 0; i < samples.length; i++) s += samples[i] * samples[i];
  return Math.sqrt(s / Math.max(1, samples.length));
}

/** Adds white-ish noise (sum of two uniforms, low-passed a little) at `snrDb` below the speech's RMS. */
export function addNoise(samples: Float32Array, snrDb: number, r: () => number): Float32Array {
  const level = rms(samples) / Math.pow(10, snrDb / 20);
  const out = new Float32Array(samples.length);
  let prev = 0;
  for (let i = 0; i < samples.length; i++) {
    const white = (r() + r() - 1) * Math.sqrt(6);
    prev = 0.6 * prev + 0.4 * white;
    out[i] = samples[i] + prev * level * 1.6;
  }
  return out;
}

/** Silence with a little noise (a quiet room), `seconds` long. */
export function roomTone(seconds: number, r: () => number, level = 0.001): Float32Array {
  const out = new Float32Array(Math.round(seconds * RATE));
  for (let i = 0; i < out.length; i++) out[i] = (r() - 0.5) * 2 * level;
  return out;
}

/** Where the sound ends: the last 10 ms block above −40 dB of the loudest block. */
export function soundEnd(samples: Float32Array): number {
  const block = RATE / 100;
  let peak = 0;
  const levels: number[] = [];
  for (let i = 0; i + block <= samples.length; i += block) {
    const v = rms(samples.subarray(i, i + block));
    levels.push(v);
    peak = Math.max(peak, v);
  }
  for (let i = levels.length - 1; i >= 0; i--) if (levels[i] > peak / 100) return ((i + 1) * block) / RATE;
  return 0;
}

export function soundStart(samples: Float32Array): number {
  const block = RATE / 100;
  let peak = 0;
  const levels: number[] = [];
  for (let i = 0; i + block <= samples.length; i += block) {
    const v = rms(samples.subarray(i, i + block));
    levels.push(v);
    peak = Math.max(peak, v);
  }
  for (let i = 0; i < levels.length; i++) if (levels[i] > peak / 100) return (i * block) / RATE;
  return 0;
}

export function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * A pool of espeak utterances reused with variations (tempo and pitch ±10 % by resampling,
 * gain, noise): espeak makes speech slower than the detector scores it on this machine, so
 * an hour of material comes from fewer syntheses. Each reuse is a different signal.
 */
export class UtterancePool {
  private readonly pool: Utterance[] = [];
  made = 0;
  reused = 0;

  constructor(private readonly size: number, private readonly r: () => number, private readonly text: (r: () => number) => string = sentence) {}

  async next(): Promise<Utterance> {
    if (this.pool.length < this.size) {
      const u = await speak(this.text(this.r), this.r);
      this.pool.push(u);
      this.made++;
      return u;
    }
    this.reused++;
    const u = this.pool[Math.floor(this.r() * this.pool.length)];
    const factor = 0.9 + this.r() * 0.2;
    const gain = 0.5 + this.r() * 0.5;
    const varied = resample(u.samples, RATE, Math.round(RATE * factor));
    for (let i = 0; i < varied.length; i++) varied[i] *= gain;
    return { ...u, samples: varied };
  }
}
