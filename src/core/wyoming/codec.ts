/**
 * The Wyoming event codec (one codec for the client engines and the server): each event is
 * a JSON header line (`type`, optional `data`, `data_length`, `payload_length`, `version`)
 * ending in "\n", then `data_length` bytes of UTF-8 JSON merged over the header's `data`,
 * then `payload_length` bytes of payload (PCM audio). See the public Wyoming spec.
 */

/** The protocol version this codec writes in every header. */
export const WYOMING_VERSION = "1.8.0";

export interface WyomingEvent {
  type: string;
  data: Record<string, unknown>;
  payload?: Buffer;
}

export type ProtocolErrorCode =
  | "header-not-json"
  | "bad-header"
  | "header-too-large"
  | "data-not-json"
  | "data-too-large"
  | "payload-too-large"
  | "payload-truncated";

/**
 * A framing fault. `fatal` ones leave the byte stream without a known next event boundary,
 * so the connection must close; the others skip the bad event and the stream goes on.
 */
export class WyomingProtocolError extends Error {
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
    readonly fatal: boolean,
  ) {
    super(message);
    this.name = "WyomingProtocolError";
  }
}

export interface DecoderLimits {
  /** Longest header line accepted, in bytes (default 1 MB). */
  maxHeaderBytes?: number;
  /** Largest additional data section (default 1 MB). */
  maxDataBytes?: number;
  /** Largest payload (default 16 MB: minutes of 16 kHz audio in one chunk is already absurd). */
  maxPayloadBytes?: number;
}

const MB = 1024 * 1024;

/** The bytes of one event: header line with `version`, data section when there is data, payload. */
export function encodeEvent(event: { type: string; data?: Record<string, unknown>; payload?: Uint8Array }): Buffer {
  const header: Record<string, unknown> = { type: event.type, version: WYOMING_VERSION };
  const parts: Buffer[] = [];
  let data: Buffer | undefined;
  if (event.data && Object.keys(event.data).length > 0) {
    data = Buffer.from(JSON.stringify(event.data), "utf8");
    header.data_length = data.length;
  }
  const payload = event.payload && event.payload.byteLength > 0 ? Buffer.from(event.payload.buffer, event.payload.byteOffset, event.payload.byteLength) : undefined;
  if (payload) header.payload_length = payload.length;
  parts.push(Buffer.from(JSON.stringify(header) + "\n", "utf8"));
  if (data) parts.push(data);
  if (payload) parts.push(payload);
  return Buffer.concat(parts);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function lengthField(header: Record<string, unknown>, name: string): number | undefined | false {
  const value = header[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) return false;
  return value;
}

/** What push() hands back: decoded events and framing faults, in stream order. */
export type DecodedItem = WyomingEvent | WyomingProtocolError;

interface PendingEvent {
  type: string;
  data: Record<string, unknown>;
  dataLength: number;
  payloadLength: number;
}

/**
 * Incremental decoder: feed it the bytes as they arrive; it returns every complete event.
 * After a fatal fault it returns nothing more.
 */
export class EventDecoder {
  private buffer: Buffer = Buffer.alloc(0);
  private pending: PendingEvent | undefined;
  private failed = false;
  private readonly maxHeader: number;
  private readonly maxData: number;
  private readonly maxPayload: number;

  constructor(limits: DecoderLimits = {}) {
    this.maxHeader = limits.maxHeaderBytes ?? MB;
    this.maxData = limits.maxDataBytes ?? MB;
    this.maxPayload = limits.maxPayloadBytes ?? 16 * MB;
  }

  /** Bytes received but not yet part of a complete event. */
  get bufferedBytes(): number {
    return this.buffer.length;
  }

  /** True while an event has started (header or part of it seen) but is not complete. */
  get midEvent(): boolean {
    return !this.failed && (this.pending !== undefined || this.buffer.length > 0);
  }

  push(chunk: Uint8Array): DecodedItem[] {
    if (this.failed) return [];
    this.buffer = this.buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffer, chunk]);
    const out: DecodedItem[] = [];
    for (;;) {
      if (!this.pending) {
        const newline = this.buffer.indexOf(0x0a);
        if (newline < 0) {
          if (this.buffer.length > this.maxHeader) return this.fail(out, new WyomingProtocolError("header-too-large", `event header longer than ${this.maxHeader} bytes without a newline`, true));
          return out;
        }
        if (newline > this.maxHeader) return this.fail(out, new WyomingProtocolError("header-too-large", `event header of ${newline} bytes is over the ${this.maxHeader}-byte limit`, true));
        const line = this.buffer.subarray(0, newline).toString("utf8");
        this.buffer = this.buffer.subarray(newline + 1);
        if (line.trim() === "") continue;
        const parsed = this.parseHeader(line);
        if (parsed instanceof WyomingProtocolError) {
          out.push(parsed);
          if (parsed.fatal) return this.fail(out);
          continue;
        }
        this.pending = parsed;
      }
      const p = this.pending;
      const need = p.dataLength + p.payloadLength;
      if (this.buffer.length < need) return out;
      const dataBytes = this.buffer.subarray(0, p.dataLength);
      const payload = p.payloadLength > 0 ? Buffer.from(this.buffer.subarray(p.dataLength, need)) : undefined;
      this.buffer = this.buffer.subarray(need);
      this.pending = undefined;
      let data = p.data;
      if (p.dataLength > 0) {
        let extra: unknown;
        try {
          extra = JSON.parse(dataBytes.toString("utf8"));
        } catch (err) {
          out.push(new WyomingProtocolError("data-not-json", `the data section of a '${p.type}' event is not JSON (${(err as Error).message})`, false));
          continue;
        }
        if (!isObject(extra)) {
          out.push(new WyomingProtocolError("data-not-json", `the data section of a '${p.type}' event is not a JSON object`, false));
          continue;
        }
        // The additional data is merged on top of the header's data.
        data = { ...data, ...extra };
      }
      out.push(payload ? { type: p.type, data, payload } : { type: p.type, data });
    }
  }

  /** End of the byte stream: a fault when it cut an event short. */
  end(): WyomingProtocolError | undefined {
    if (this.failed) return undefined;
    const p = this.pending;
    if (p) {
      const have = this.buffer.length;
      this.failed = true;
      return new WyomingProtocolError(
        "payload-truncated",
        `the connection ended inside a '${p.type}' event: ${have} of the ${p.dataLength + p.payloadLength} bytes its header declared (data_length ${p.dataLength}, payload_length ${p.payloadLength})`,
        true,
      );
    }
    if (this.buffer.length > 0 && this.buffer.toString("utf8").trim() !== "") {
      this.failed = true;
      return new WyomingProtocolError("payload-truncated", `the connection ended inside an event header (${this.buffer.length} bytes without a newline)`, true);
    }
    return undefined;
  }

  private fail(out: DecodedItem[], error?: WyomingProtocolError): DecodedItem[] {
    if (error) out.push(error);
    this.failed = true;
    this.buffer = Buffer.alloc(0);
    this.pending = undefined;
    return out;
  }

  private parseHeader(line: string): PendingEvent | WyomingProtocolError {
    let header: unknown;
    try {
      header = JSON.parse(line);
    } catch (err) {
      const shown = line.length > 60 ? `${line.slice(0, 57)}...` : line;
      return new WyomingProtocolError("header-not-json", `event header is not JSON (${(err as Error).message}): ${JSON.stringify(shown)}`, false);
    }
    if (!isObject(header)) return new WyomingProtocolError("bad-header", "event header must be a JSON object", false);
    if (typeof header.type !== "string" || header.type === "") return new WyomingProtocolError("bad-header", "event header has no 'type' string", false);
    if (header.data !== undefined && header.data !== null && !isObject(header.data)) {
      return new WyomingProtocolError("bad-header", `'${header.type}' header's data must be a JSON object`, false);
    }
    const dataLength = lengthField(header, "data_length");
    const payloadLength = lengthField(header, "payload_length");
    // A length we cannot read leaves the next event's start unknown.
    if (dataLength === false) return new WyomingProtocolError("bad-header", `'${header.type}' header's data_length must be a whole number ≥ 0`, true);
    if (payloadLength === false) return new WyomingProtocolError("bad-header", `'${header.type}' header's payload_length must be a whole number ≥ 0`, true);
    if ((dataLength ?? 0) > this.maxData) return new WyomingProtocolError("data-too-large", `'${header.type}' declares ${dataLength} bytes of data, over the ${this.maxData}-byte limit`, true);
    if ((payloadLength ?? 0) > this.maxPayload) {
      return new WyomingProtocolError("payload-too-large", `'${header.type}' declares a ${payloadLength}-byte payload, over the ${this.maxPayload}-byte limit`, true);
    }
    return { type: header.type, data: isObject(header.data) ? { ...header.data } : {}, dataLength: dataLength ?? 0, payloadLength: payloadLength ?? 0 };
  }
}
