/** Test fixtures built through the HTTP interface only. */
import { expect } from "vitest";
import { api, call, expectStatus, type Harness } from "./harness";

export const PASSWORD = "correct horse battery staple";

let counter = 0;
/** A unique email for this run (tests share one database per backend). */
export function uniqueEmail(prefix = "user"): string {
  counter += 1;
  return `${prefix}-${counter}-${crypto.randomUUID().slice(0, 8)}@example.test`;
}

export interface SignedUp {
  email: string;
  password: string;
  userId: string;
  token: string;
  sessionId: string;
}

/** Registers a new account and logs it in (aal 1). */
export async function signUp(
  h: Harness,
  opts: { email?: string; password?: string } = {},
): Promise<SignedUp> {
  const email = opts.email ?? uniqueEmail();
  const password = opts.password ?? PASSWORD;
  const reg = await expectStatus(api(h).v1.auth.register.$post({ json: { email, password } }), 201);
  const login = await expectStatus(api(h).v1.auth.login.$post({ json: { email, password } }), 200);
  if (login.status !== "authenticated") throw new Error("a new account needs no second factor");
  return { email, password, userId: reg.user.id, token: login.session.token, sessionId: login.session.id };
}

/** Creates a tenant owned by `owner`; returns its id. */
export async function createTenant(h: Harness, owner: SignedUp, name = "Acme"): Promise<string> {
  const res = await expectStatus(api(h, owner.token).v1.tenants.$post({ json: { name } }), 201);
  return res.tenant.id;
}

/** Adds `member` to the tenant (the caller must be owner/admin). */
export async function addMember(
  h: Harness,
  tenantId: string,
  by: SignedUp,
  member: SignedUp,
  role: "admin" | "member" = "member",
): Promise<void> {
  const res = await call(h, "POST", `/v1/tenants/${tenantId}/members`, {
    token: by.token,
    json: { email: member.email, role },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}
