/** Registration, login and request-body handling through the HTTP interface. */
import { expect, it } from "vitest";
import { PASSWORD, signUp, uniqueEmail } from "../support/fixtures";
import { api, call, expectStatus, type Harness, makeHarness } from "../support/harness";

export function identitySuite(h: () => Harness): void {
  it("registers an account and refuses the same email again, whatever its case and spaces", async () => {
    const email = uniqueEmail();
    const res = await expectStatus(
      api(h()).v1.auth.register.$post({
        json: { email: `  ${email.toUpperCase()} `, password: PASSWORD, displayName: "Ada" },
      }),
      201,
    );
    expect(res.user).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      email,
      emailVerified: false,
      displayName: "Ada",
      createdAt: expect.any(String),
    });
    const again = await expectStatus(
      api(h()).v1.auth.register.$post({ json: { email, password: PASSWORD } }),
      409,
    );
    expect(again.code).toBe("email_taken");
  });

  it("refuses weak passwords with weak_password, counting code points", async () => {
    for (const password of ["short", "x".repeat(129), "password123", "Password1", "🔒🔒🔒🔒🔒🔒🔒"]) {
      const res = await api(h()).v1.auth.register.$post({ json: { email: uniqueEmail(), password } });
      expect(res.status, password).toBe(400);
      expect((await expectStatus(res, 400)).code).toBe("weak_password");
    }
    await expectStatus(
      api(h()).v1.auth.register.$post({ json: { email: uniqueEmail(), password: "🔒🔒🔒🔒🔒🔒🔒🔑" } }),
      201,
    );
  });

  it("answers validation errors with dotted paths before any lookup", async () => {
    const res = await expectStatus(
      api(h()).v1.auth.register.$post({
        json: {
          email: "not-an-email",
          // @ts-expect-error the password must be a string
          password: 5,
          displayName: "",
        },
      }),
      400,
    );
    expect(res.code).toBe("invalid_request");
    const paths = res.errors?.map((e) => e.path).sort();
    expect(paths).toEqual(["displayName", "email", "password"]);
    await expectStatus(
      api(h()).v1.auth.register.$post({
        json: { email: `${"a".repeat(250)}@example.test`, password: PASSWORD },
      }),
      400,
    );
  });

  it("answers 400, 415 and 413 for malformed JSON, a wrong content type and a 70 KiB body", async () => {
    const url = "/v1/auth/register";
    const malformed = await call(h(), "POST", url, {
      body: "{nope",
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe("invalid_request");
    expect(malformed.headers.get("content-type")).toBe("application/problem+json");
    expect(malformed.body.requestId).toBe(malformed.headers.get("x-request-id"));

    const wrongType = await call(h(), "POST", url, {
      body: "email=a",
      headers: { "content-type": "text/plain" },
    });
    expect(wrongType.status).toBe(415);
    expect(wrongType.body.code).toBe("unsupported_media_type");
    expect(wrongType.body.requestId).toBeTruthy();

    const oversized = { email: uniqueEmail(), password: "x".repeat(70 * 1024) };
    const tooLarge = await expectStatus(api(h()).v1.auth.register.$post({ json: oversized }), 413);
    expect(tooLarge.code).toBe("payload_too_large");
    expect(tooLarge.requestId).toBeTruthy();

    // Without Content-Length (a stream): still 413.
    const bytes = new TextEncoder().encode(JSON.stringify(oversized));
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 8192) controller.enqueue(bytes.slice(i, i + 8192));
        controller.close();
      },
    });
    const streamed = await h().app.request(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
  });

  it("accepts application/json with parameters and in any case; refuses empty and non-object bodies", async () => {
    const ok = await call(h(), "POST", "/v1/auth/register", {
      json: { email: uniqueEmail(), password: PASSWORD },
      headers: { "content-type": "Application/JSON; charset=utf-8" },
    });
    expect(ok.status).toBe(201);
    for (const body of ["", "[]", "null", '"text"', "42"]) {
      const res = await call(h(), "POST", "/v1/auth/login", {
        body,
        headers: { "content-type": "application/json" },
      });
      expect(res.status, body).toBe(400);
      expect(res.body.code).toBe("invalid_request");
    }
  });

  it("logs in without MFA at aal 1 and shows the token once", async () => {
    const email = uniqueEmail();
    await api(h()).v1.auth.register.$post({ json: { email, password: PASSWORD } });
    const res = await expectStatus(
      api(h()).v1.auth.login.$post({ json: { email: email.toUpperCase(), password: PASSWORD } }),
      200,
    );
    expect(res.status).toBe("authenticated");
    if (res.status !== "authenticated") throw new Error("expected a session");
    expect(res.session).toEqual({
      token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      id: expect.any(String),
      aal: 1,
      expiresAt: expect.any(String),
    });
    expect(res.user.email).toBe(email);
    const me = await expectStatus(api(h(), res.session.token).v1.me.$get(), 200);
    expect(me).toEqual({
      user: res.user,
      session: {
        id: res.session.id,
        aal: 1,
        expiresAt: res.session.expiresAt,
        authenticatedAt: expect.any(String),
      },
      mfa: { enabled: false, verifiedFactors: 0, recoveryCodesRemaining: 0 },
    });
  });

  it("answers a wrong password and an unknown email alike, and records only the first on the account", async () => {
    const user = await signUp(h());
    const wrong = await api(h()).v1.auth.login.$post({
      json: { email: user.email, password: "wrong password!" },
    });
    const unknown = await api(h()).v1.auth.login.$post({
      json: { email: uniqueEmail(), password: PASSWORD },
    });
    const wrongBody = await expectStatus(wrong, 401);
    const unknownBody = await expectStatus(unknown, 401);
    for (const body of [wrongBody, unknownBody]) expect(body.code).toBe("invalid_credentials");
    const { requestId: _a, ...a } = wrongBody;
    const { requestId: _b, ...b } = unknownBody;
    expect(a).toEqual(b);
    const events = await expectStatus(
      api(h(), user.token).v1["security-events"].$get({ query: { type: "auth.login_failed" } }),
      200,
    );
    expect(events.events).toHaveLength(1);
    expect(events.events[0]?.requestId).toBe(wrong.headers.get("x-request-id"));
    const { db, t } = h().open();
    const rows = await db.select().from(t.securityEvents);
    const orphan = rows.filter((r) => r.requestId === unknown.headers.get("x-request-id"));
    expect(orphan).toHaveLength(1);
    expect(orphan[0]!.userId).toBeNull();
  });

  it("throttles failed passwords per account before checking the password; a success does not count", async () => {
    const strict = makeHarness({
      backend: h().backend,
      open: h().open,
      env: { RATE_LIMIT_PASSWORD_PER_ACCOUNT: "3/900" },
    });
    const user = await signUp(strict);
    for (let i = 0; i < 5; i++) {
      await expectStatus(
        api(strict).v1.auth.login.$post({ json: { email: user.email, password: PASSWORD } }),
        200,
      );
    }
    for (let i = 0; i < 3; i++) {
      await expectStatus(
        api(strict).v1.auth.login.$post({ json: { email: user.email, password: "nope nope nope" } }),
        401,
      );
    }
    const limited = await api(strict).v1.auth.login.$post({
      json: { email: user.email, password: PASSWORD },
    });
    expect((await expectStatus(limited, 429)).code).toBe("rate_limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(limited.headers.get("ratelimit-limit")).toBe("3");
    expect(limited.headers.get("ratelimit-remaining")).toBe("0");
    expect(Number(limited.headers.get("ratelimit-reset"))).toBeGreaterThan(0);
    const events = await expectStatus(
      api(strict, user.token).v1["security-events"].$get({ query: { type: "auth.rate_limited" } }),
      200,
    );
    expect(events.events.length).toBeGreaterThanOrEqual(1);
    // The window passes: allowed again.
    strict.clock.advance(31 * 60_000);
    await expectStatus(
      api(strict).v1.auth.login.$post({ json: { email: user.email, password: PASSWORD } }),
      200,
    );
  });

  it("ignores X-Forwarded-For unless trusted proxies are configured", async () => {
    const strict = makeHarness({
      backend: h().backend,
      open: h().open,
      env: { RATE_LIMIT_PASSWORD_PER_NETWORK: "2/900" },
    });
    const email = uniqueEmail();
    for (let i = 0; i < 2; i++) {
      await api(strict).v1.auth.login.$post(
        { json: { email, password: PASSWORD } },
        { headers: { "x-forwarded-for": `198.51.100.${i}`, "x-test-client-ip": "192.0.2.99" } },
      );
    }
    const third = api(strict).v1.auth.login.$post(
      { json: { email: uniqueEmail(), password: PASSWORD } },
      { headers: { "x-forwarded-for": "198.51.100.77", "x-test-client-ip": "192.0.2.99" } },
    );
    await expectStatus(third, 429);
  });
}
