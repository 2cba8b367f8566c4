/**
 * First audio before more text: while a local TTS stream is making the audio of its first
 * chunk — the sound a person is waiting for — local LLM generations hold their next decode step.
 *
 * Why: on a small CPU the LLM (in its worker) keeps generating the rest of the answer while the
 * TTS synthesises the first span, and the two fight over the same cores, so the first sound comes
 * later than either would make it alone. The LLM is far ahead of speech (tens of tokens a second
 * against a few words), so pausing it for that moment costs the listener nothing. Only the first
 * chunk of each stream takes priority, so a slow voice cannot starve the LLM of the text it needs,
 * and a hold that outlives `MAX_HOLD_MS` lets the LLM go on anyway (a stuck engine never stalls it).
 *
 * Process-wide (several flows share the machine's cores). `VOICE_STREAM_FIRST_AUDIO_PRIORITY=0`
 * in the environment turns it off (the bench's A/B).
 */

/** The longest an LLM step waits for first audio. */
export const MAX_HOLD_MS = 3000;

export class FirstAudioPriority {
  private holds = 0;
  private waiters: (() => void)[] = [];

  /** Off: holds are not taken (steps never wait). Settable so a bench can A/B it turn by turn in one process. */
  constructor(public enabled = process.env.VOICE_STREAM_FIRST_AUDIO_PRIORITY !== "0") {}

  /** TTS streams making their first audio right now. */
  get active(): number {
    return this.holds;
  }

  /** A TTS stream starts making its first audio; call the returned function (any number of times) once it has some, or ended. */
  hold(): () => void {
    if (!this.enabled) return () => undefined;
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.holds === 0) for (const wake of this.waiters.splice(0)) wake();
    };
  }

  /** Resolves when no TTS stream is making its first audio (at once when none is), or after MAX_HOLD_MS. */
  yieldTo(maxMs = MAX_HOLD_MS): Promise<void> {
    if (this.holds === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, maxMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.waiters.push(done);
    });
  }
}

/** The process's one priority (what the TTS streamer and the LLM generation loop share). */
export const firstAudioPriority = new FirstAudioPriority();
