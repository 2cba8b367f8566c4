/**
 * One stream of the vad node: Silero voice activity over its frames, and which frame
 * messages go out. In speech-only mode frames wait until speech is confirmed; then those
 * from the padded start on go out before the speech-start event, and frames after the
 * speech-end are dropped.
 */
import type { StreamingResampler } from "../../core/audio/resample";
import type { ActivityEvent, VoiceActivity } from "../../core/vad/activity-stream";
import { TARGET_RATE } from "./audio-frame";
import type { Done } from "./node-runtime";
import type { StreamEntry } from "./stream-map";
import type { NodeMessage } from "./stream-msg";

/** One node.send: frame messages on output 1, an event on output 2. */
export type Outputs = [NodeMessage | NodeMessage[] | null, NodeMessage | null];

export interface Step {
  /** In the order they go out. */
  sends: Outputs[];
  events: ActivityEvent[];
}

export class SpeechFrames implements StreamEntry {
  readonly waiting: Done[] = [];
  /** The stream's resampler (to16k keeps it here so frame joins stay gap-free). */
  resampler: StreamingResampler | undefined;
  /** Frame messages waiting for a speech start (speech-only mode), with where each ends. */
  private held: { msg: NodeMessage; end: number }[] = [];
  private seconds = 0;

  constructor(
    readonly id: string,
    private readonly activity: VoiceActivity,
    private readonly speechOnly: boolean,
    /** How far back held frames reach: the speech needed to confirm a start plus the padding. */
    private readonly holdSeconds: number,
  ) {}

  // Each frame is scored before the next input: nothing runs between inputs to stop or cancel.
  stop(): void {}
  cancel(): void {}

  /** Scores one 16 kHz frame (`msg` is its message). */
  async push(msg: NodeMessage, frame: Float32Array): Promise<Step> {
    const wasSpeaking = this.activity.speaking;
    this.seconds += frame.length / TARGET_RATE;
    const events = await this.activity.push(frame);
    if (this.speechOnly && !wasSpeaking) {
      this.held.push({ msg, end: this.seconds });
      while (this.held.length > 0 && this.held[0].end < this.seconds - this.holdSeconds) this.held.shift();
    }
    const sends = this.eventSends(events, msg);
    const passes = !this.speechOnly || (wasSpeaking && (this.activity.speaking || events.some((e) => e.kind === "speech-end")));
    if (passes) sends.push([msg, null]);
    return { sends, events };
  }

  /** The stream ends (`msg` is the is_final / reset): open speech ends here. */
  async end(msg: NodeMessage): Promise<Step> {
    const events = await this.activity.end();
    return { sends: this.eventSends(events, msg), events };
  }

  private eventSends(events: ActivityEvent[], input: NodeMessage): Outputs[] {
    const sends: Outputs[] = [];
    for (const e of events) {
      if (e.kind === "speech-start") {
        // Held frames from the padded start on go out before the event.
        const release = this.held.filter((h) => h.end > e.audio_seconds).map((h) => h.msg);
        this.held = [];
        if (this.speechOnly && release.length > 0) sends.push([release, null]);
      }
      const event = { topic: input.topic, kind: e.kind, stream_id: this.id, audio_seconds: e.audio_seconds, speech_seconds: e.speech_seconds, payload: e.kind };
      sends.push([null, event]);
    }
    return sends;
  }
}
