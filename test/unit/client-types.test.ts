/**
 * The exported app type gives a typed `hc` client (hono/client): compile-time checks of paths,
 * inputs and per-status outputs against the route schemas (`expectTypeOf`, checked by tsc), and
 * the example client (examples/client.ts) run against the real app through a custom `fetch`.
 */
import { hc, type InferRequestType, type InferResponseType } from "hono/client";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { ApiProblem, createApiClient, registerLoginAndReadMe } from "../../examples/client";
import type { AppType } from "../../functions/app";
import type { UsageAppType } from "../../functions/standalone/usage";
import { type Backend, openNodeBackend } from "../support/backends";
import { PASSWORD, uniqueEmail } from "../support/fixtures";
import { type Harness, makeHarness } from "../support/harness";

const api = hc<AppType>("http://api.test");

describe("AppType (compile time)", () => {
  it("types request bodies, queries and path parameters from the route schemas", () => {
    expectTypeOf<InferRequestType<typeof api.v1.auth.register.$post>>().toEqualTypeOf<{
      json: { email: string; password: string; displayName?: string | undefined };
    }>();
    type SeriesQuery = InferRequestType<typeof api.v1.usage.$get>["query"];
    expectTypeOf<SeriesQuery["granularity"]>().toEqualTypeOf<"day" | "month" | undefined>();
    type Invite = InferRequestType<(typeof api.v1.tenants)[":tenantId"]["invitations"]["$post"]>;
    expectTypeOf<Invite["param"]>().toEqualTypeOf<{ tenantId: string }>();
    expectTypeOf<Invite["json"]["role"]>().toEqualTypeOf<"admin" | "member">();
  });

  it("types each declared status's body: the resource on success, a problem document on errors", () => {
    type Me = InferResponseType<typeof api.v1.me.$get, 200>;
    expectTypeOf<Me["user"]["email"]>().toBeString();
    expectTypeOf<Me["mfa"]["verifiedFactors"]>().toBeNumber();
    type Unauthorized = InferResponseType<typeof api.v1.me.$get, 401>;
    expectTypeOf<Unauthorized["code"]>().toBeString();
    expectTypeOf<Unauthorized["requestId"]>().toBeString();
    type Login = InferResponseType<typeof api.v1.auth.login.$post, 200>;
    expectTypeOf<Login["status"]>().toEqualTypeOf<"authenticated" | "mfa_required">();
  });

  it("knows which routes exist", () => {
    // @ts-expect-error: no such route.
    api.v1.nope;
    // @ts-expect-error: the development outbox is left out of the type (it exists only in development).
    api.v1.dev;
    // Never called (it would send a request): only compiled.
    const _incomplete = () =>
      // @ts-expect-error: the register body needs a password.
      api.v1.auth.register.$post({ json: { email: "a@example.test" } });
    expectTypeOf(_incomplete).toBeFunction();
    const usageOnly = hc<UsageAppType>("http://usage.test");
    expectTypeOf(usageOnly.v1.usage.$post).toBeFunction();
    // @ts-expect-error: the usage Worker serves no /v1/me.
    usageOnly.v1.me;
  });
});

describe("examples/client.ts against the app (run time)", () => {
  let backend: Backend;
  let h: Harness;
  beforeAll(async () => {
    backend = await openNodeBackend("libsql");
    // The example registers and goes on at once, without reading its verification mail.
    h = makeHarness({ backend: "libsql", open: backend.open, env: { EMAIL_VERIFICATION: "off" } });
  });
  afterAll(async () => {
    await backend?.close();
  });

  // hc builds real URLs and calls `fetch`; this one hands them to the app in-process.
  const client = () =>
    createApiClient("http://api.test", {
      fetch: ((input: RequestInfo | URL, init?: RequestInit) => h.app.request(input, init)) as typeof fetch,
    });

  it("registers, logs in and reads /v1/me", async () => {
    const email = uniqueEmail("client");
    const { session, me } = await registerLoginAndReadMe(client(), email, PASSWORD);
    expect(session.aal).toBe(1);
    expect(me.user.email).toBe(email);
    expect(me.session.id).toBe(session.id);
    expect(me.mfa).toEqual({ enabled: false, verifiedFactors: 0, recoveryCodesRemaining: 0 });
  });

  it("surfaces problem documents with their typed code", async () => {
    const email = uniqueEmail("client");
    await registerLoginAndReadMe(client(), email, PASSWORD);
    await expect(registerLoginAndReadMe(client(), email, "not the password")).rejects.toEqual(
      new ApiProblem(401, "invalid_credentials"),
    );
  });

  it("sends path parameters and bodies where the route expects them", async () => {
    const c = client();
    const email = uniqueEmail("client");
    const { session } = await registerLoginAndReadMe(c, email, PASSWORD);
    const auth = { headers: { authorization: `Bearer ${session.token}` } };
    const created = await c.v1.tenants.$post({ json: { name: "Typed Inc" } }, auth);
    expect(created.status).toBe(201);
    if (created.status !== 201) return;
    const { tenant } = await created.json();
    const events = await c.v1.tenants[":tenantId"]["security-events"].$get(
      { param: { tenantId: tenant.id }, query: { limit: "5" } },
      auth,
    );
    expect(events.status).toBe(200);
    if (events.status === 200) expect((await events.json()).events.length).toBeLessThanOrEqual(5);
  });
});
