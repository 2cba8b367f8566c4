/** Browser pages as voice satellites: the server half of their WebSocket, microphone capture and turn routing. */
export { VoiceChannel, CHANNEL_ASSET_PATHS, browserAssetDir, type VoiceChannelOptions, type ChannelEvent, type PageKind } from "./voice-channel";
export { PlaybackBuffer, type BufferedStream, type BufferedText } from "./playback-buffer";
export { MicRateGate, MicFrameError, DEFAULT_MIC_LIMITS, MIC_RATE, type MicLimits } from "./mic-limits";
export { browserMicFrames, NoPageError, type BrowserMicOptions } from "./browser-mic";
export { VoiceTurns, type PlayTo } from "./voice-turns";
