/**
 * Speech for training and judging a hey_jarvis verifier at bench time (espeak-ng, never stored).
 *
 * Kept apart from what it is judged on:
 * - voices: training uses TRAIN_VOICES, espeak-ng variants that the false-wake corpus
 *   (speech.ts VOICES) and the held-out positives never use; the evaluation uses those;
 * - sentences: training negatives come from their own templates (TRAIN_TEMPLATES), none of the
 *   false-wake corpus's; the confusable names recur (that is what the verifier must learn) but in
 *   other sentences, voices, speeds and noise;
 * - random streams: training draws from seed 101, held-out positives from 202 (the corpus: 17);
 * - the recorded clip hey_jarvis_16k is never trained on.
 */
import { resample } from "../../src/core/audio/resample";
import { addNoise, concat, RATE, rng, roomTone, sentence, speak } from "./speech";

export const TRAIN_VOICES = [
  "en-us+m1", "en-us+m2", "en-gb+m4", "en-gb+f1", "en-us+f1", "en-gb-x-rp+m6",
  "en-029+f2", "en-gb-scotland+f3", "en-gb-x-gbclan+m2", "en-gb-x-gbcwmd+f4", "en-us+m7", "en-gb+f5",
];
/** The false-wake corpus's voices (speech.ts): only for judging. */
export const EVAL_VOICES = ["en-us", "en-gb", "en-gb-scotland", "en-029", "en-gb-x-rp", "en-us+f3", "en-gb+f2", "en-us+m3", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-us+f4", "en-gb-scotland+m5"];

const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)];

const WAKE_FORMS = ["Hey Jarvis", "Hey Jarvis.", "Hey, Jarvis!", "Hey Jarvis?", "hey jarvis"];
/** Names and phrases near "Jarvis" (and plain ones), for negatives. */
const CONFUSABLE = ["Jasmine", "Jarvie", "Travis", "Harvey", "Jarvo", "Mavis", "Marvin", "Charmaine", "Davis", "Jervis", "Garvey", "Jarrod", "Janice", "Chavez", "Elvis", "Jacqueline"];
const PLAIN = ["Sam", "Olivia", "Peter", "Grace", "Tom", "Emma", "Lucas", "Nora"];
const TRAIN_TEMPLATES: ((r: () => number) => string)[] = [
  (r) => `Hey ${pick(r, CONFUSABLE)}.`,
  (r) => `Hey ${pick(r, CONFUSABLE)}, over here!`,
  (r) => `Hey there, ${pick(r, CONFUSABLE)}.`,
  (r) => `Hey there, how is it going?`,
  // Greetings: the head wakes on some (a greeting is how people start talking to each other).
  (r) => `Hello, ${pick(r, ["how have you been", "nice to see you again", "is anyone home", "how are things"])}?`,
  (r) => `Hello ${pick(r, PLAIN)}, ${pick(r, ["how are you", "good to see you", "come on in"])}.`,
  (r) => `Hi there, ${pick(r, ["how are you doing", "welcome back", "long time no see"])}.`,
  (r) => `${pick(r, CONFUSABLE)} is coming home tonight.`,
  (r) => `Have you met ${pick(r, CONFUSABLE)} yet?`,
  (r) => `I gave the keys to ${pick(r, CONFUSABLE)} this morning.`,
  (r) => `Okay ${pick(r, CONFUSABLE)}, see you soon.`,
  (r) => `Thanks ${pick(r, [...CONFUSABLE, ...PLAIN])}, that was lovely.`,
  (r) => `Hey ${pick(r, PLAIN)}, pass me the salt please.`,
  (r) => `${pick(r, PLAIN)} and ${pick(r, CONFUSABLE)} are playing chess.`,
  (r) => `The train to ${pick(r, ["Leeds", "Dublin", "Seattle", "Perth", "Oslo"])} leaves in ${2 + Math.floor(r() * 50)} minutes.`,
  (r) => `Please water the plants on ${pick(r, ["Tuesday", "Thursday", "Sunday"])}.`,
  (r) => `It costs ${1 + Math.floor(r() * 99)} pounds and ${Math.floor(r() * 99)} pence.`,
  (r) => `Hey, what's for dinner?`,
  (r) => `Hey you, ${pick(r, ["careful", "come here", "wait for me", "look at this"])}!`,
  (r) => `Yes, ${pick(r, CONFUSABLE)} said so.`,
  (r) => `Harvest time is in ${pick(r, ["September", "October"])}.`,
  (r) => `Hey, ${pick(r, ["Java", "jazz", "Jaffa", "Jarlsberg", "jasper"])} is ${pick(r, ["great", "on the list", "over there"])}.`,
];

/** Short phrases that sound most like the wake word: the negatives the verifier is asked about. */
const NEAR_TEMPLATES: ((r: () => number) => string)[] = [
  (r) => `Hey ${pick(r, CONFUSABLE)}`,
  (r) => `Hey ${pick(r, CONFUSABLE)}!`,
  (r) => `${pick(r, CONFUSABLE)}?`,
  (r) => `Hey, ${pick(r, CONFUSABLE)}, ${pick(r, ["come here", "look", "thanks", "hi"])}.`,
  (r) => `Hello ${pick(r, [...CONFUSABLE, ...PLAIN])}`,
  (r) => `Hello, ${pick(r, ["how are you", "how's it going", "good morning", "nice day"])}?`,
  (r) => `Hi ${pick(r, CONFUSABLE)}`,
  (r) => `Hey ${pick(r, ["there", "guys", "Jack", "Charles", "jazz", "Java", "Jervis Bay", "Marvis"])}`,
];

export interface Clip {
  label: string;
  samples: Float32Array;
}

/** One utterance in a voice and speed, varied in tempo/pitch (±10 %), gain and (half of them) noise; room tone around it. */
async function clip(text: string, voice: string, r: () => number): Promise<Clip> {
  const u = await speak(text, r, voice, 110 + Math.floor(r() * 100));
  const factor = 0.9 + r() * 0.2;
  let s = resample(u.samples, RATE, Math.round(RATE * factor));
  const gain = 0.4 + r() * 0.6;
  for (let i = 0; i < s.length; i++) s[i] *= gain;
  const noisy = r() < 0.5;
  if (noisy) s = addNoise(s, 5 + r() * 15, r);
  return { label: `"${text}" (${u.voice}, ${u.wpm} wpm${noisy ? ", noise" : ""})`, samples: concat([roomTone(0.3 + r() * 0.4, r), s, roomTone(0.3, r)]) };
}

/**
 * Training clips, TRAIN_VOICES only, seed 101: `positives` of the wake word; `negatives` of
 * other speech, of which `near` short phrases close to the wake word ("Hey Jasmine", "Hello …").
 */
export async function trainingClips(positives: number, negatives: number, near = 0): Promise<{ positives: Clip[]; negatives: Clip[] }> {
  const r = rng(101);
  const pos: Clip[] = [];
  const neg: Clip[] = [];
  for (let i = 0; i < positives; i++) pos.push(await clip(pick(r, WAKE_FORMS), TRAIN_VOICES[i % TRAIN_VOICES.length], r));
  for (let i = 0; i < negatives; i++) neg.push(await clip((i < near ? pick(r, NEAR_TEMPLATES) : pick(r, TRAIN_TEMPLATES))(r), TRAIN_VOICES[i % TRAIN_VOICES.length], r));
  return { positives: pos, negatives: neg };
}

/**
 * Held-out positives: the wake word in the evaluation voices (seed 202), alone or after one of
 * the corpus's sentences, as a listener would hear it. `wakeStart` says where it begins.
 */
export async function heldOutPositives(count: number): Promise<(Clip & { wakeStart: number })[]> {
  const r = rng(202);
  const out: (Clip & { wakeStart: number })[] = [];
  for (let i = 0; i < count; i++) {
    const wake = await clip(pick(r, WAKE_FORMS), EVAL_VOICES[i % EVAL_VOICES.length], r);
    if (r() < 0.5) {
      out.push({ ...wake, wakeStart: 0 });
      continue;
    }
    const lead = await speak(sentence(r), r, pick(r, EVAL_VOICES));
    const before = concat([lead.samples, roomTone(0.4, r)]);
    out.push({ label: `${wake.label} after "${lead.text}"`, samples: concat([before, wake.samples]), wakeStart: before.length / RATE });
  }
  return out;
}
