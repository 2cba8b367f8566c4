/** Audio utilities of the core: PCM conversion, resampling, WAV files, playback and capture. */
export { toFloat32, floatToS16LE, s16leToFloat, hasNonFinite, firstNonFiniteIndex } from "./pcm";
export { resample, StreamingResampler } from "./resample";
export { encodeWav, decodeWav, readWavFile, writeWavFile, WavFileWriter, type DecodedWav } from "./wav";
export { systemClock, ManualClock, type Clock } from "./clock";
export type { AudioSink } from "./sink";
export { Player, DEFAULT_LEAD_MS, type PlayerEvent, type PlayerOptions, type DrainResult } from "./player";
export { NullSink } from "./sinks/null-sink";
export { FileSink, expandPathTemplate } from "./sinks/file-sink";
export { SpeakerSink, choosePlayer, PLAYERS, PLAYER_ORDER, type PlayerCommand, type SpeakerOptions } from "./sinks/speaker-sink";
export { BrowserSink, type BrowserSinkOptions } from "./sinks/browser-sink";
export { upgradeAuthorizer, type HttpNodeSecurity } from "./http-auth";
export { CAPTURE_RATE, FrameSplitter, chooseRecorder, microphoneFrames, wavFileFrames, RECORDERS, RECORDER_ORDER, type RecorderCommand } from "./capture";
