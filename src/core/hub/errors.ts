/** Hub failures turned into one-line messages that say what to do. */
import { withStatusText } from "../status-text";
import { HubApiError } from "@huggingface/hub";

export interface HubErrorContext {
  repo: string;
  revision: string;
  /** The file being fetched, when there is one. */
  file?: string;
  hubUrl: string;
  hadToken: boolean;
}

export function describeHubError(err: unknown, ctx: HubErrorContext): Error {
  if (err instanceof HubApiError) {
    const what = ctx.file ? `'${ctx.file}' of model '${ctx.repo}'` : `model '${ctx.repo}'`;
    if (err.statusCode === 401 || err.statusCode === 403) {
      return withStatusText(
        new Error(
          `the Hugging Face hub refused access to ${what} (HTTP ${err.statusCode}): the repo is private, gated or does not exist; ` +
            (ctx.hadToken
              ? `the token given (HF_TOKEN or the voice-model node's token) has no access to it — check the token and that you accepted the repo's terms`
              : `set HF_TOKEN (or the voice-model node's token) to a Hugging Face access token that can read it, and check the repo id`),
        ),
        "hub: access refused",
      );
    }
    if (err.statusCode === 404) {
      return withStatusText(
        new Error(`${what} was not found on the Hugging Face hub (revision '${ctx.revision}', HTTP 404); check the repo id, the revision and the file name`),
        "hub: model not found",
      );
    }
    return withStatusText(new Error(`the Hugging Face hub answered HTTP ${err.statusCode} for ${what}: ${err.message.split("\n")[0]}`), `hub: HTTP ${err.statusCode}`);
  }
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof TypeError && /must start with 'hf_'/.test(message)) {
    return new Error(`the Hugging Face token is not valid: ${message} (set HF_TOKEN or the voice-model node's token to a token from huggingface.co/settings/tokens)`);
  }
  if (err instanceof Error && (err.name === "AbortError" || /aborted/i.test(message))) {
    return new Error(`download of ${ctx.file ? `'${ctx.file}' of ` : ""}model '${ctx.repo}' was cancelled`);
  }
  const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : "";
  return withStatusText(
    new Error(
      `could not reach the Hugging Face hub at ${ctx.hubUrl} for model '${ctx.repo}'${ctx.file ? ` file '${ctx.file}'` : ""}: ${message}${cause}; ` +
        `check the network connection, or use offline mode with a model already in the cache`,
    ),
    "offline: hub unreachable",
  );
}
