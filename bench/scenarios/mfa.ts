/**
 * MFA login for many distinct users: password step (POST /v1/auth/login → challenge), TOTP step
 * (POST /v1/auth/mfa/verify), then both in sequence as one flow. Each user logs in at most once
 * per TOTP step (the replay rule) and uses 3 of its 10 MFA checks per 15 minutes (enrollment,
 * TOTP step, flow), so the per-user limit never bites; the per-IP limits are raised by the
 * bench server's configuration because every virtual user shares 127.0.0.1.
 */
import { BENCH_PASSWORD, type MfaUser, mapLimit, nextCode, signUpWithTotp, waitForCodes } from "../lib/api";
import { type LoadResult, type Percentiles, percentiles, runLoad } from "../lib/load";
import type { RequestLog, RouteStats } from "../lib/request-log";

export interface MfaResults {
  users: number;
  prepareS: number;
  passwordStep: LoadResult & { perRoute: RouteStats[] };
  totpStep: LoadResult & { perRoute: RouteStats[] };
  flow: LoadResult & { flows: number; flowsPerS: number; flowLatencyMs: Percentiles; perRoute: RouteStats[] };
}

interface Ctx {
  user?: MfaUser;
  challenge?: string;
  step?: number;
  t0?: number;
}

const JSON_HEADERS = { "content-type": "application/json" };

/** Hands out each user once, in order (autocannon calls setupRequest once per request sent). */
function cursor(users: MfaUser[]) {
  let next = 0;
  return () => users[next++ % users.length]!;
}

function verifyBody(ctx: Ctx, user: MfaUser, challenge: string | undefined): string {
  const next = nextCode(user);
  ctx.step = next?.step ?? -1;
  // No acceptable code (cannot happen after waitForCodes): send a wrong one, counted as a 401.
  return JSON.stringify({ challengeToken: challenge ?? "none", code: next?.code ?? "000000" });
}

export async function mfaScenario(base: string, log: RequestLog, n: number, connections: number) {
  const started = performance.now();
  const users = await mapLimit(
    Array.from({ length: n }, (_, i) => i),
    8,
    (i) => signUpWithTotp(base, `mfa${i}`),
  );
  const prepareS = Math.round((performance.now() - started) / 100) / 10;
  await log.mark();

  const pickLogin = cursor(users);
  const passwordStep = await runLoad({
    title: "POST /v1/auth/login (password step)",
    url: base,
    connections,
    amount: users.length,
    requests: [
      {
        method: "POST",
        path: "/v1/auth/login",
        headers: JSON_HEADERS,
        setupRequest: (req, ctx: Ctx) => {
          ctx.user = pickLogin();
          return { ...req, body: JSON.stringify({ email: ctx.user.email, password: BENCH_PASSWORD }) };
        },
        onResponse: (status, body, ctx: Ctx) => {
          if (status === 200 && ctx.user) ctx.user.challenge = JSON.parse(body).challenge.token;
        },
      },
    ],
  });
  const passwordLog = await log.mark();

  const challenged = users.filter((u) => u.challenge);
  await new Promise((r) => setTimeout(r, waitForCodes(challenged)));
  const pickVerify = cursor(challenged);
  const totpStep = await runLoad({
    title: "POST /v1/auth/mfa/verify (TOTP step)",
    url: base,
    connections: Math.min(connections, challenged.length),
    amount: challenged.length,
    requests: [
      {
        method: "POST",
        path: "/v1/auth/mfa/verify",
        headers: JSON_HEADERS,
        setupRequest: (req, ctx: Ctx) => {
          ctx.user = pickVerify();
          return { ...req, body: verifyBody(ctx, ctx.user, ctx.user.challenge) };
        },
        onResponse: (status, _body, ctx: Ctx) => {
          if (status === 200 && ctx.user) ctx.user.lastStep = ctx.step!;
        },
      },
    ],
  });
  const totpLog = await log.mark();

  // The flow: every user once more, password then TOTP on the same connection.
  await new Promise((r) => setTimeout(r, waitForCodes(users)));
  // autocannon splits `amount` over the connections; an even share each keeps login/verify pairs whole.
  const flowUsers = users.slice(0, Math.max(1, Math.floor(users.length / connections)) * connections);
  const pickFlow = cursor(flowUsers);
  const flowLatencies: number[] = [];
  const flow = await runLoad({
    title: "login → verify (whole flow)",
    url: base,
    connections: Math.min(connections, flowUsers.length),
    amount: 2 * flowUsers.length,
    requests: [
      {
        method: "POST",
        path: "/v1/auth/login",
        headers: JSON_HEADERS,
        setupRequest: (req, ctx: Ctx) => {
          ctx.user = pickFlow();
          ctx.t0 = performance.now();
          return { ...req, body: JSON.stringify({ email: ctx.user.email, password: BENCH_PASSWORD }) };
        },
        onResponse: (status, body, ctx: Ctx) => {
          if (status === 200) ctx.challenge = JSON.parse(body).challenge.token;
        },
      },
      {
        method: "POST",
        path: "/v1/auth/mfa/verify",
        headers: JSON_HEADERS,
        setupRequest: (req, ctx: Ctx) => ({ ...req, body: verifyBody(ctx, ctx.user!, ctx.challenge) }),
        onResponse: (status, _body, ctx: Ctx) => {
          if (status !== 200) return;
          ctx.user!.lastStep = ctx.step!;
          flowLatencies.push(performance.now() - ctx.t0!);
        },
      },
    ],
  });
  const flowLog = await log.mark();

  return {
    users: users.length,
    prepareS,
    passwordStep: { ...passwordStep, perRoute: passwordLog },
    totpStep: { ...totpStep, perRoute: totpLog },
    flow: {
      ...flow,
      flows: flowLatencies.length,
      flowsPerS: Math.round((flowLatencies.length / flow.durationS) * 10) / 10,
      flowLatencyMs: percentiles(flowLatencies),
      perRoute: flowLog,
    },
  } satisfies MfaResults;
}
