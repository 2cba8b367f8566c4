/**
 * Server-sent events from a response body, parsed by eventsource-parser (comments, CRLF
 * line ends, an event split across reads and several events in one read are its job).
 * Yields each event's data; `[DONE]` ends the iteration as OpenAI's streams end.
 */
import type { RemoteResponse } from "./http-client";

type EventSourceParserModule = typeof import("eventsource-parser", { with: { "resolution-mode": "import" } });

let parserModule: Promise<EventSourceParserModule> | undefined;

/** eventsource-parser is ESM only: loaded once, on the first stream. */
function loadParser(): Promise<EventSourceParserModule> {
  parserModule ??= import("eventsource-parser");
  return parserModule;
}

export interface SseEvent {
  event?: string;
  data: string;
}

export const DONE = Symbol("done");

/** The events of `response`, then DONE when the server sent `[DONE]` (a body that just ends yields no DONE). */
export async function* sseEvents(response: RemoteResponse): AsyncGenerator<SseEvent | typeof DONE> {
  const { createParser } = await loadParser();
  const queue: SseEvent[] = [];
  const parser = createParser({ onEvent: (event) => queue.push({ event: event.event, data: event.data }) });
  const decoder = new TextDecoder("utf-8");
  for await (const chunk of response.chunks()) {
    // stream: true keeps a UTF-8 character split across reads whole.
    parser.feed(decoder.decode(chunk, { stream: true }));
    while (queue.length > 0) {
      const event = queue.shift()!;
      if (event.data.trim() === "[DONE]") {
        yield DONE;
        return;
      }
      yield event;
    }
  }
  // The last event may lack its blank line when the body simply ends.
  parser.feed(decoder.decode() + "\n\n");
  for (const event of queue) {
    if (event.data.trim() === "[DONE]") {
      yield DONE;
      return;
    }
    yield event;
  }
}
