/** What an OpenAI-compatible server has: `GET {base}/models` → the model ids (the editor's button, 404 messages). */
import type { OpenAiHttpClient } from "./http-client";
import { malformedError, statusError } from "./errors";

export async function listServerModels(client: OpenAiHttpClient, signal?: AbortSignal): Promise<string[]> {
  const response = await client.request({ method: "GET", path: "/models", signal });
  const body = await response.text();
  if (response.status !== 200) throw statusError(response.status, body, response.url, "");
  let json: { data?: unknown };
  try {
    json = JSON.parse(body) as { data?: unknown };
  } catch {
    throw malformedError(response.url, "a model list that is not JSON", body);
  }
  if (!Array.isArray(json.data)) throw malformedError(response.url, "a model list without a data array", body);
  return json.data.map((m) => (m && typeof m === "object" ? String((m as { id?: unknown }).id ?? "") : String(m))).filter((id) => id !== "");
}

/** The server's models for a 404 message; nothing when it cannot tell (the 404 still says what to check). */
export async function modelsForMessage(client: OpenAiHttpClient): Promise<string[] | undefined> {
  try {
    return (await listServerModels(client)).slice(0, 30);
  } catch {
    return undefined;
  }
}
