/**
 * One `POST {base}/audio/transcriptions`: a 16 kHz WAV of the audio as multipart form data.
 * With `stream`, servers that stream (gpt-4o-transcribe style, speaches) answer with
 * server-sent `transcript.text.delta` events, each handed to `onDelta`; the others answer
 * JSON `{text}` as before. Resolves with the whole text of the audio.
 */
import { encodeWav } from "../../../audio/wav";
import type { OpenAiHttpClient } from "../../../openai/http-client";
import { malformedError, midStreamError, RemoteServerError, serverMessage } from "../../../openai/errors";
import { multipartBody } from "../../../openai/multipart";
import { ensureOk } from "../../../openai/responses";
import { DONE, sseEvents } from "../../../openai/sse";

const TRANSCRIPTIONS_PATH = "/audio/transcriptions";

export interface TranscriptionOptions {
  model: string;
  language?: string;
  prompt?: string;
  stream: boolean;
  signal?: AbortSignal;
  onDelta?: (delta: string) => void;
}

export async function transcribeRemote(client: OpenAiHttpClient, audio: Float32Array, sampleRate: number, options: TranscriptionOptions): Promise<{ text: string; language?: string }> {
  const { body, contentType } = multipartBody(
    {
      model: options.model || undefined,
      language: options.language && options.language !== "auto" ? options.language : undefined,
      prompt: options.prompt || undefined,
      response_format: "json",
      stream: options.stream ? "true" : undefined,
    },
    { name: "file", filename: "audio.wav", contentType: "audio/wav", data: encodeWav(audio, sampleRate) },
  );
  const response = await client.request({ method: "POST", path: TRANSCRIPTIONS_PATH, body, contentType, accept: "application/json, text/event-stream", signal: options.signal });
  await ensureOk(client, response, options.model);
  if (!response.contentType.includes("text/event-stream")) {
    const text = await response.text();
    let json: { text?: unknown; language?: unknown };
    try {
      json = JSON.parse(text);
    } catch {
      // response_format json was asked for; a plain-text answer is still a transcript
      if (response.contentType.startsWith("text/plain")) return { text: text.trim() };
      throw malformedError(response.url, "a transcription that is not JSON", text);
    }
    if (typeof json.text !== "string") throw malformedError(response.url, "a transcription without a text field", text);
    return { text: json.text.trim(), language: typeof json.language === "string" ? json.language : undefined };
  }
  let streamed = "";
  let done: string | undefined;
  for await (const event of sseEvents(response)) {
    if (event === DONE) break;
    let json: { type?: unknown; delta?: unknown; text?: unknown; error?: unknown };
    try {
      json = JSON.parse(event.data);
    } catch {
      throw malformedError(response.url, "an event whose data is not JSON", event.data);
    }
    if (json.error) throw new RemoteServerError(`${response.url} reported an error mid-stream: ${serverMessage(event.data)}`, "server-error", { url: response.url });
    if (json.type === "transcript.text.delta" && typeof json.delta === "string") {
      streamed += json.delta;
      options.onDelta?.(json.delta);
    } else if (json.type === "transcript.text.done") {
      done = typeof json.text === "string" ? json.text : streamed;
      break;
    }
  }
  if (done === undefined) throw midStreamError(response.url, "the transcript stream ended without transcript.text.done");
  return { text: done.trim() };
}
