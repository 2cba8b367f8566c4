export { KokoroEngine, KOKORO_DEFAULT_VOICE, KOKORO_SAMPLE_RATE, checkSpeed, looksLikeKokoro } from "./kokoro-engine";
export { normalizeEnglish } from "./english-normalizer";
export { KOKORO_LANGUAGES, languageOfVoice, phonemizeForKokoro } from "./phonemize";
export { KOKORO_MAX_PHONEMES, splitAtTokenLimit } from "./token-limit";
export { blendVoices, parseVoiceSpec, readVoiceTable, styleFor, STYLE_DIM } from "./voices";
