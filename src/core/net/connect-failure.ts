/**
 * What a failed connection's error means, for every remote protocol (OpenAI-compatible HTTP,
 * Wyoming TCP): one reading of Node's error codes, so each client only words its advice.
 */
export type ConnectFailure = "refused" | "unknown-host" | "unreachable" | "tls" | "other";

const TLS_CODES = /^(CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_|ERR_SSL_|EPROTO$|HOSTNAME_MISMATCH|ERR_TLS_CERT_ALTNAME_INVALID)/;

export function connectFailureOf(err: unknown): ConnectFailure {
  const e = err as NodeJS.ErrnoException | undefined;
  const code = e?.code ?? "";
  if (code === "ECONNREFUSED") return "refused";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME") return "unknown-host";
  if (code === "EHOSTUNREACH" || code === "ENETUNREACH") return "unreachable";
  if (TLS_CODES.test(code) || /certificate|SSL routines|TLS/i.test(e?.message ?? "")) return "tls";
  return "other";
}
