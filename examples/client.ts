/**
 * A typed client for the API with `hc` from hono/client: paths, methods, request bodies and
 * responses are checked against the server's route schemas at compile time (`AppType`, a
 * type-only import: nothing of the server is bundled into the client).
 *
 *   npx tsx examples/client.ts http://127.0.0.1:8787      # against `npm run dev`
 */
import { hc } from "hono/client";
import type { AppType } from "../functions/app";

/** A client for the API at `baseUrl`. Pass `fetch` to route requests elsewhere (tests). */
export function createApiClient(baseUrl: string, options: { fetch?: typeof fetch } = {}) {
  return hc<AppType>(baseUrl, options);
}

export type ApiClient = ReturnType<typeof createApiClient>;

/** Thrown for any answer other than the one the example expects, with the problem's `code`. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(`${status} ${code}`);
  }
}

/**
 * Registers an account (an existing one is fine), logs in and reads /v1/me. Every branch is
 * typed: `reg.status === 409` narrows the body to a problem document, `login.status === 200` to
 * the login answer, and so on.
 */
export async function registerLoginAndReadMe(api: ApiClient, email: string, password: string) {
  const reg = await api.v1.auth.register.$post({ json: { email, password, displayName: "Example" } });
  if (reg.status !== 201 && reg.status !== 409) {
    const problem = await reg.json();
    throw new ApiProblem(reg.status, problem.code);
  }

  const login = await api.v1.auth.login.$post({ json: { email, password } });
  if (login.status !== 200) {
    const problem = await login.json();
    throw new ApiProblem(login.status, problem.code);
  }
  const signedIn = await login.json();
  if (signedIn.status === "mfa_required") {
    // A real client would now ask for a TOTP code and POST /v1/auth/mfa/verify.
    throw new ApiProblem(200, "mfa_required");
  }

  const me = await api.v1.me.$get({}, { headers: { authorization: `Bearer ${signedIn.session.token}` } });
  if (me.status !== 200) throw new ApiProblem(me.status, (await me.json()).code);
  return { session: signedIn.session, me: await me.json() };
}

// Run directly: register, log in and print /v1/me from the API at the given URL.
if (import.meta.url === `file://${process.argv[1]}`) {
  const base = process.argv[2] ?? "http://127.0.0.1:8787";
  const email = `example-${Date.now()}@example.test`;
  const { me } = await registerLoginAndReadMe(createApiClient(base), email, "correct horse battery staple");
  console.log(JSON.stringify(me, null, 2));
}
