/** Turning a non-2xx answer into the RemoteServerError that says what to check (a 404 lists the server's models). */
import type { OpenAiHttpClient, RemoteResponse } from "./http-client";
import { statusError } from "./errors";
import { modelsForMessage } from "./models";

export async function ensureOk(client: OpenAiHttpClient, response: RemoteResponse, model: string): Promise<void> {
  if (response.status >= 200 && response.status < 300) return;
  let body = "";
  try {
    body = await response.text();
  } catch {
    // the status alone still says what went wrong
  }
  const models = response.status === 404 ? await modelsForMessage(client) : undefined;
  throw statusError(response.status, body, response.url, model, models);
}
