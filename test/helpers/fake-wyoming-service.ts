/**
 * Scripted Wyoming services for the client engine tests, framed by the spec helper (not the
 * project's codec): each connection's events go to a script that answers as a real service
 * would, or misbehaves on purpose.
 */
import * as net from "net";
import { frameEvent, SpecReader, type SpecEvent } from "./wyoming-spec-client";

export interface FakeConnection {
  socket: net.Socket;
  send(type: string, data?: Record<string, unknown>, payload?: Buffer): void;
  raw(bytes: Buffer | string): void;
  /** Events received so far. */
  events: SpecEvent[];
  closed: boolean;
}

export type Script = (event: SpecEvent, connection: FakeConnection) => void;

export interface FakeService {
  port: number;
  url: string;
  connections: FakeConnection[];
  close(): Promise<void>;
}

export const FAKE_INFO = {
  asr: [{ name: "fake-whisper", attribution: { name: "test", url: "" }, installed: true, description: null, version: null, models: [{ name: "tiny", languages: ["en", "de"], attribution: { name: "test", url: "" }, installed: true }], supports_transcript_streaming: true }],
  tts: [{ name: "fake-piper", attribution: { name: "test", url: "" }, installed: true, voices: [{ name: "alice", languages: ["en"], attribution: { name: "test", url: "" }, installed: true, speakers: null }, { name: "bob", languages: ["en"], attribution: { name: "test", url: "" }, installed: true }], supports_synthesize_streaming: false }],
  wake: [{ name: "fake-oww", attribution: { name: "test", url: "" }, installed: true, models: [{ name: "ok_nabu", languages: ["en"], phrase: "ok nabu", attribution: { name: "test", url: "" }, installed: true }] }],
};

export function fakeService(script: Script, info: Record<string, unknown> = FAKE_INFO): Promise<FakeService> {
  const connections: FakeConnection[] = [];
  const server = net.createServer((socket) => {
    const reader = new SpecReader();
    const connection: FakeConnection = {
      socket,
      events: [],
      closed: false,
      send: (type, data = {}, payload) => {
        if (!socket.destroyed) socket.write(frameEvent(type, data, payload));
      },
      raw: (bytes) => {
        if (!socket.destroyed) socket.write(bytes);
      },
    };
    connections.push(connection);
    socket.on("error", () => undefined);
    socket.on("close", () => (connection.closed = true));
    socket.on("data", (chunk: Buffer) => {
      for (const event of reader.push(chunk)) {
        connection.events.push(event);
        if (event.type === "describe") connection.send("info", info);
        else script(event, connection);
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        port,
        url: `wyoming://127.0.0.1:${port}`,
        connections,
        close: () =>
          new Promise<void>((done) => {
            for (const c of connections) c.socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
