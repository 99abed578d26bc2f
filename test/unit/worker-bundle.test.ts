/**
 * The Worker bundle as `npm run build` makes it (wrangler's dry run, with wrangler.toml's
 * `[alias]` and `keep_names = false`): what it may not contain, its size budget, and that it
 * runs: in workerd on D1 it answers, validates exactly like the un-aliased app (the workers
 * test project runs the source, not this bundle), and does a TOTP enrollment (otpauth's
 * node:crypto build). Its OpenAPI document, a static asset, is the one Node generates.
 */
import { Buffer } from "node:buffer";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../functions/app";
import { loadConfig } from "../../functions/config";
import { totpCodeAt } from "../../functions/lib/totp";
import { databaseOpener } from "../../functions/platform/database-url";
import { rateLimiterFactory } from "../../functions/platform/rate-limiter";
import { BUNDLE_BUDGET_GZIP_BYTES, buildWorker } from "../../scripts/build.mjs";
import { buildOpenApiDocument } from "../../scripts/openapi-document";
import { type Backend, openNodeBackend, PG_HOST, PG_PORT, tcpReachable } from "../support/backends";
import { type BuiltWorker, startBuiltWorker } from "../support/built-worker";
import { type NeonHttpStandin, startNeonHttpStandin } from "../support/neon-http-standin";
import { REPO_ROOT } from "../support/server-process";
import { requireService, skipWithout } from "../support/services";
import { redisAvailable, startUpstashBridge, type UpstashBridge } from "../support/upstash-bridge";
import { type Cbor, SoftAuthenticator } from "../support/webauthn";

/**
 * Packages Workers never run: libSQL (D1 instead), Node-only mail and sockets, the docs UI, the
 * document generator, attestation certificate code, the rate limiter's other algorithms
 * (functions/platform/worker-ratelimit.ts), Hono's RegExpRouter (worker-openapi.ts).
 */
const NEVER_IN_BUNDLE =
  /node_modules\/(@libsql|libsql|nodemailer|ws|swagger-ui-dist|@asteasolutions\/zod-to-openapi|openapi3-ts|@hono\/zod-openapi|@hono\/zod-validator|@noble\/hashes|@peculiar\/x509|@peculiar\/asn1-[a-z0-9-]+|asn1js|tsyringe|reflect-metadata|@upstash\/ratelimit|@upstash\/core-analytics|hono\/dist\/router\/(reg-exp|smart)-router)\//;
/** Node built-ins workerd does not have (or that would mean Node-only code came in). */
const NODE_ONLY = /^node:(fs|net|tls|child_process|http|https|dgram|worker_threads|module)(\/|$)/;

let outdir: string;
/** The top level (what `wrangler dev` and a bare deploy build): D1 and both Postgres paths. */
let built: ReturnType<typeof buildWorker>;
/** The production Worker, the budgeted build: Neon's HTTP path only. */
let production: ReturnType<typeof buildWorker>;
let worker: BuiltWorker;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), "udh-bundle-"));
  built = buildWorker(join(outdir, "top"), { quiet: true, env: "" });
  production = buildWorker(join(outdir, "production"), { quiet: true });
  worker = await startBuiltWorker(built.bundle, { migrate: true });
}, 180_000);

afterAll(async () => {
  await worker?.dispose();
  rmSync(outdir, { recursive: true, force: true });
});

const inputsOf = (b: ReturnType<typeof buildWorker>) =>
  Object.values(b.metafile.outputs).flatMap((o) => Object.keys(o.inputs));

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body),
});

describe("the Worker bundle", () => {
  it("holds no package Workers never use, and only English of zod's locales", () => {
    const inputs = Object.values(built.metafile.outputs).flatMap((o) => Object.keys(o.inputs));
    expect(inputs.filter((path) => NEVER_IN_BUNDLE.test(path))).toEqual([]);
    expect(inputs.filter((path) => /zod\/v4\/locales\/(?!en\.js)/.test(path))).toEqual([]);
    // The check can fail: the bundle does hold what the app uses.
    expect(inputs.some((path) => path.includes("drizzle-orm/d1/"))).toBe(true);
    const imports = Object.values(built.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
    expect(imports.filter((path) => NODE_ONLY.test(path))).toEqual([]);
  });

  it("is within the gzip budget (the production build)", () => {
    expect(production.gzip).toBeLessThanOrEqual(BUNDLE_BUDGET_GZIP_BYTES);
  });

  it("carries only Neon's HTTP path in the production build: no Neon driver, no D1, nothing of SQLite", () => {
    const left =
      /node_modules\/(@neondatabase\/serverless\/|drizzle-orm\/(d1|libsql|neon-serverless|sqlite-core)\/)|^db\/(schema|columns)\.sqlite\.ts$/;
    expect(inputsOf(production).filter((path) => left.test(path))).toEqual([]);
    expect(inputsOf(production).filter((path) => NEVER_IN_BUNDLE.test(path))).toEqual([]);
    // The check can fail: the top level carries them all.
    expect(inputsOf(built).filter((path) => left.test(path)).length).toBeGreaterThan(0);
    expect(inputsOf(production)).toContain("db/neon-http.ts");
    expect(inputsOf(built).some((path) => path.includes("@neondatabase/serverless"))).toBe(false);
  });

  it("serves the OpenAPI document Node generates, as a static asset", () => {
    // Written by wrangler's [build] step (scripts/docs-assets.mjs) during the build above.
    const asset = JSON.parse(readFileSync(join(REPO_ROOT, "public/openapi.json"), "utf8"));
    expect(asset).toEqual(buildOpenApiDocument());
  });

  it("answers in workerd with the same validation problems as the app built from source", async () => {
    const config = loadConfig({
      APP_ENV: "production",
      IP_HASH_KEY: "n".repeat(32),
      ENCRYPTION_KEYS: `k1:${Buffer.alloc(32).toString("base64")}`,
      RATE_LIMIT_STORE: "sql",
    });
    const source = createApp({
      config,
      database: databaseOpener(":memory:", { perRequest: false }),
      rateLimiter: rateLimiterFactory(config),
      clientIp: () => null,
      log: () => {},
    });
    const cases: [string, RequestInit][] = [
      ["/v1/auth/register", json({ email: "not an email", password: 5, extra: true })],
      ["/v1/auth/register", json({ email: `a@${"b".repeat(300)}.test`, password: "" })],
      ["/v1/auth/login", json({ email: "user@example.test" })],
      ["/v1/auth/password/forgot", json([])],
      ["/v1/auth/login", { method: "POST", headers: { "content-type": "application/json" }, body: "{" }],
    ];
    expect((await worker.fetch("/healthz")).status).toBe(200);
    for (const [path, init] of cases) {
      const [fromBundle, fromSource] = await Promise.all([
        worker.fetch(path, init),
        source.request(path, init),
      ]);
      const answer = async (res: Response) => {
        const { requestId: _, ...body } = (await res.json()) as Record<string, unknown>;
        return { status: res.status, type: res.headers.get("content-type"), body };
      };
      const bundled = await answer(fromBundle);
      expect(bundled.status, path).toBe(400);
      expect(bundled.body.code, path).toBe("invalid_request");
      expect(bundled, path).toEqual(await answer(fromSource));
    }
  });

  it("registers, signs in and enrolls a TOTP factor in workerd on D1", async () => {
    const email = `bundle-${crypto.randomUUID()}@example.test`;
    const password = "correct horse battery staple";
    expect((await worker.fetch("/v1/auth/register", json({ email, password }))).status).toBe(201);
    // TOTP enrollment needs a verified email; the mail round trip is not what this test is about.
    await worker.sql("UPDATE users SET email_verified_at = ? WHERE email = ?", Date.now(), email);
    const login = await worker.fetch("/v1/auth/login", json({ email, password }));
    expect(login.status).toBe(200);
    const { session } = (await login.json()) as { session: { token: string } };
    const auth = { authorization: `Bearer ${session.token}` };
    const enroll = await worker.fetch("/v1/mfa/totp", json({ currentPassword: password }, auth));
    expect(enroll.status).toBe(201);
    const { factor, secret } = (await enroll.json()) as { factor: { id: string }; secret: string };
    const now = Date.now();
    const accepted = [-30_000, 0, 30_000].map((offset) => totpCodeAt(secret, now + offset));
    const wrongCode = ["000000", "111111", "222222", "333333"].find((code) => !accepted.includes(code));
    const wrong = await worker.fetch(`/v1/mfa/totp/${factor.id}/verify`, json({ code: wrongCode }, auth));
    expect(wrong.status).toBe(401);
    const right = totpCodeAt(secret, Date.now());
    const verify = await worker.fetch(`/v1/mfa/totp/${factor.id}/verify`, json({ code: right }, auth));
    expect(verify.status).toBe(200);
    expect(((await verify.json()) as { recoveryCodes: string[] }).recoveryCodes).toHaveLength(10);
    const me = await worker.fetch("/v1/me", { headers: auth });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { mfa: { enabled: boolean } }).mfa.enabled).toBe(true);
  });
});

const password = "correct horse battery staple";

describe("passkeys in the Worker bundle (attestation certificate code left out)", () => {
  /** A signed-in user with a verified address, and the registration options for a passkey. */
  async function registrationOptions() {
    const email = `passkey-${crypto.randomUUID()}@example.test`;
    expect((await worker.fetch("/v1/auth/register", json({ email, password }))).status).toBe(201);
    await worker.sql("UPDATE users SET email_verified_at = ? WHERE email = ?", Date.now(), email);
    const login = await worker.fetch("/v1/auth/login", json({ email, password }));
    const { session } = (await login.json()) as { session: { token: string } };
    const auth = { authorization: `Bearer ${session.token}` };
    const res = await worker.fetch(
      "/v1/mfa/webauthn/registration/options",
      json({ currentPassword: password }, auth),
    );
    expect(res.status).toBe(200);
    return { auth, options: ((await res.json()) as { options: object }).options };
  }

  it("registers a passkey ('none' attestation) and signs in with it (an ES256 assertion)", async () => {
    const { auth, options } = await registrationOptions();
    const authenticator = new SoftAuthenticator();
    const response = await authenticator.create(options);
    const registered = await worker.fetch("/v1/mfa/webauthn/registration/verify", json({ response }, auth));
    expect(registered.status).toBe(201);
    const begin = await worker.fetch("/v1/auth/passkey/options", { method: "POST" });
    const { options: request, passkeyChallengeId } = (await begin.json()) as {
      options: object;
      passkeyChallengeId: string;
    };
    const assertion = await authenticator.get(request);
    const signIn = await worker.fetch(
      "/v1/auth/passkey/verify",
      json({ passkeyChallengeId, response: assertion }),
    );
    expect(signIn.status).toBe(200);
    expect(((await signIn.json()) as { session: { aal: number } }).session.aal).toBe(2);
  });

  it("refuses an attestation carrying a certificate chain with 400, not a 5xx", async () => {
    const { auth, options } = await registrationOptions();
    const response = await new SoftAuthenticator().create(options, {
      attestation: {
        fmt: "fido-u2f",
        attStmt: new Map<Cbor, Cbor>([
          ["sig", crypto.getRandomValues(new Uint8Array(70))],
          ["x5c", [crypto.getRandomValues(new Uint8Array(300))]],
        ]),
      },
    });
    const refused = await worker.fetch("/v1/mfa/webauthn/registration/verify", json({ response }, auth));
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { code: string }).code).toBe("invalid_webauthn_response");
  });
});

const postgresUp = await tcpReachable(PG_HOST, PG_PORT);
const redisUp = await redisAvailable();

describe.skipIf(skipWithout("Postgres", postgresUp) || skipWithout("Redis", redisUp))(
  "the production bundle on Postgres over Neon's HTTP path, limits in Upstash",
  () => {
    let backend: Backend;
    let standin: NeonHttpStandin;
    let bridge: UpstashBridge;
    let prod: BuiltWorker;

    beforeAll(async () => {
      requireService("Postgres", postgresUp);
      requireService("Redis", redisUp);
      backend = await openNodeBackend("postgres-pg"); // a migrated scratch database
      standin = await startNeonHttpStandin({ host: PG_HOST, port: PG_PORT });
      bridge = await startUpstashBridge();
      prod = await startBuiltWorker(production.bundle, {
        vars: {
          DATABASE_URL: backend.url!,
          DATABASE_HTTP_ENDPOINT: `${standin.url}/sql`,
          // As [env.production] deploys it; the limit per account and network is lowered to 3
          // per 15 minutes so the test reaches it (the Worker's own sliding window,
          // functions/platform/worker-ratelimit.ts).
          RATE_LIMIT_STORE: "upstash",
          UPSTASH_REDIS_REST_URL: bridge.url,
          UPSTASH_REDIS_REST_TOKEN: bridge.token,
          RATE_LIMIT_PASSWORD_PER_ACCOUNT_NETWORK: "3/900",
        },
      });
    }, 60_000);

    afterAll(async () => {
      await prod?.dispose();
      await standin?.close();
      await bridge?.close();
      await backend?.close();
    });

    it("counts password attempts in Redis: 3 wrong passwords are 401, the 4th attempt 429", async () => {
      const email = `limited-${crypto.randomUUID()}@example.test`;
      expect((await prod.fetch("/v1/auth/register", json({ email, password }))).status).toBe(201);
      const before = bridge.wire().requests;
      const wrong = json({ email, password: "not the password at all" });
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await prod.fetch("/v1/auth/login", wrong)).status);
      expect(statuses).toEqual([401, 401, 401, 429]);
      // Even the right password now waits for the window.
      expect((await prod.fetch("/v1/auth/login", json({ email, password }))).status).toBe(429);
      expect(bridge.wire().requests).toBeGreaterThanOrEqual(before + 5);
    });

    it("registers, signs in, reads, enrolls TOTP and signs in with a passkey; what it wrote is in Postgres", async () => {
      const email = `prod-${crypto.randomUUID()}@example.test`;
      expect((await prod.fetch("/readyz")).status).toBe(200);
      expect((await prod.fetch("/v1/auth/register", json({ email, password }))).status).toBe(201);
      const [user] = await backend
        .open()
        .db.select()
        .from(backend.open().t.users)
        .where(eq(backend.open().t.users.email, email));
      expect(user?.email).toBe(email);
      await backend
        .open()
        .db.update(backend.open().t.users)
        .set({ emailVerifiedAt: new Date() })
        .where(eq(backend.open().t.users.email, email));
      const login = await prod.fetch("/v1/auth/login", json({ email, password }));
      expect(login.status).toBe(200);
      const auth = {
        authorization: `Bearer ${((await login.json()) as { session: { token: string } }).session.token}`,
      };
      expect((await prod.fetch("/v1/me", { headers: auth })).status).toBe(200);
      // A taken address is the unique violation Neon reports with its SQLSTATE: 409, not 500.
      expect((await prod.fetch("/v1/auth/register", json({ email, password }))).status).toBe(409);
      const enroll = await prod.fetch("/v1/mfa/totp", json({ currentPassword: password }, auth));
      expect(enroll.status).toBe(201);
      const options = await prod.fetch(
        "/v1/mfa/webauthn/registration/options",
        json({ currentPassword: password }, auth),
      );
      const authenticator = new SoftAuthenticator();
      const response = await authenticator.create(((await options.json()) as { options: object }).options);
      expect(
        (await prod.fetch("/v1/mfa/webauthn/registration/verify", json({ response }, auth))).status,
      ).toBe(201);
      const begin = await prod.fetch("/v1/auth/passkey/options", { method: "POST" });
      const { options: request, passkeyChallengeId } = (await begin.json()) as {
        options: object;
        passkeyChallengeId: string;
      };
      const signIn = await prod.fetch(
        "/v1/auth/passkey/verify",
        json({ passkeyChallengeId, response: await authenticator.get(request) }),
      );
      expect(signIn.status).toBe(200);
      expect(standin.requests(new URL(backend.url!).pathname.slice(1))).toBeGreaterThan(10);
    });
  },
);
