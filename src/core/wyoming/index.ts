/** The Wyoming protocol layer: one event codec, the client (remote engines) and the server (wyoming-in, `voice-stream serve`). */
export { encodeEvent, EventDecoder, WyomingProtocolError, WYOMING_VERSION, type WyomingEvent, type DecoderLimits } from "./codec";
export { WyomingConnection, describeService, describeOnce, forgetDescriptions, isWyomingUrl, parseWyomingUrl, serviceError, type WyomingTarget, type WyomingClientOptions } from "./client";
export { WyomingServer, type WyomingServerOptions, type ListeningAddress } from "./server";
export { WyomingSession, type SessionInput, type SessionRequest, type SynthesizeVoice } from "./session";
export { EngineServices, type EngineServicesOptions } from "./engine-services";
export { infoData, readInfo, type ServicesSpec, type DescribedService } from "./info";
export { parseAllowList, isLoopbackHost } from "./allow-list";
export { advertise, type Advertisement } from "./zeroconf";
