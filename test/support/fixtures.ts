/** Test fixtures built through the HTTP interface (the outbox is read as a mailbox would be). */
import { and, asc, desc, eq } from "drizzle-orm";
import { expect } from "vitest";
import { createSecretBox, parseKeyring } from "../../functions/lib/secret-box";
import type { MessageKind, MessagePayload } from "../../functions/mail/types";
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

/**
 * The newest queued message of `kind` to `to` and its opened payload, read from the outbox the
 * way the dispatcher reads it (the test knows the deployment's keys); null when there is none.
 */
export async function latestMessage(
  h: Harness,
  to: string,
  kind: MessageKind,
): Promise<{ id: string; payload: MessagePayload } | null> {
  const { db, t } = h.open();
  const o = t.outboxMessages;
  const [row] = await db
    .select({ id: o.id, keyId: o.payloadKeyId, ciphertext: o.payloadCiphertext })
    .from(o)
    .where(and(eq(o.recipient, to.toLowerCase()), eq(o.kind, kind)))
    .orderBy(desc(o.id))
    .limit(1);
  if (!row) return null;
  const box = createSecretBox(parseKeyring(h.config.encryptionKeys));
  const payload = JSON.parse(await box.open({ keyId: row.keyId, ciphertext: row.ciphertext }, row.id));
  return { id: row.id, payload };
}

/** Every queued message to `to`, oldest first, with its opened payload. */
export async function messagesTo(
  h: Harness,
  to: string,
): Promise<{ kind: string; payload: MessagePayload }[]> {
  const { db, t } = h.open();
  const o = t.outboxMessages;
  const rows = await db
    .select({ id: o.id, kind: o.kind, keyId: o.payloadKeyId, ciphertext: o.payloadCiphertext })
    .from(o)
    .where(eq(o.recipient, to.toLowerCase()))
    .orderBy(asc(o.id));
  const box = createSecretBox(parseKeyring(h.config.encryptionKeys));
  return Promise.all(
    rows.map(async (r) => ({
      kind: r.kind,
      payload: JSON.parse(
        await box.open({ keyId: r.keyId, ciphertext: r.ciphertext }, r.id),
      ) as MessagePayload,
    })),
  );
}

/** The reasons of the security notices queued for `to`, oldest first. */
export async function noticesTo(h: Harness, to: string): Promise<string[]> {
  return (await messagesTo(h, to))
    .filter((m) => m.kind === "security_notice")
    .map((m) => String(m.payload.reason));
}

/** Verifies the address with the link token of its newest verification message. */
export async function verifyEmail(h: Harness, email: string): Promise<void> {
  const message = await latestMessage(h, email, "email_verification");
  if (!message?.payload.token) throw new Error(`no verification message to ${email}`);
  await expectStatus(api(h).v1.auth.email.verify.$post({ json: { token: message.payload.token } }), 200);
}

/** The token of a session answer; only SESSION_COOKIE=on leaves it out (then it is in the cookie). */
export function bearerToken(session: { token?: string | undefined }): string {
  if (!session.token) throw new Error("no session token in the body (SESSION_COOKIE=on?)");
  return session.token;
}

/** Registers a new account, verifies its address (unless `verified: false`) and logs it in (aal 1). */
export async function signUp(
  h: Harness,
  opts: { email?: string; password?: string; verified?: boolean } = {},
): Promise<SignedUp> {
  const email = opts.email ?? uniqueEmail();
  const password = opts.password ?? PASSWORD;
  const reg = await expectStatus(api(h).v1.auth.register.$post({ json: { email, password } }), 201);
  if (opts.verified !== false) await verifyEmail(h, email);
  const login = await expectStatus(api(h).v1.auth.login.$post({ json: { email, password } }), 200);
  if (login.status !== "authenticated") throw new Error("a new account needs no second factor");
  return {
    email,
    password,
    userId: reg.user.id,
    token: bearerToken(login.session),
    sessionId: login.session.id,
  };
}

/** Creates a tenant owned by `owner`; returns its id. */
export async function createTenant(h: Harness, owner: SignedUp, name = "Acme"): Promise<string> {
  const res = await expectStatus(api(h, owner.token).v1.tenants.$post({ json: { name } }), 201);
  return res.tenant.id;
}

/** The token of the newest invitation message to `email`. */
export async function invitationToken(h: Harness, email: string): Promise<string> {
  const message = await latestMessage(h, email, "tenant_invitation");
  if (!message?.payload.token) throw new Error(`no invitation message to ${email}`);
  return message.payload.token;
}

/** Adds `member` to the tenant the way a client does: `by` (owner/admin) invites, `member` accepts. */
export async function addMember(
  h: Harness,
  tenantId: string,
  by: SignedUp,
  member: SignedUp,
  role: "admin" | "member" = "member",
): Promise<void> {
  await expectStatus(
    api(h, by.token).v1.tenants[":tenantId"].invitations.$post({
      param: { tenantId },
      json: { email: member.email, role },
    }),
    201,
  );
  const token = await invitationToken(h, member.email);
  await expectStatus(api(h, member.token).v1.invitations.accept.$post({ json: { token } }), 200);
}

/** A message as the development outbox shows it (the route is left out of the typed client). */
type DevMessage = {
  id: string;
  to: string;
  kind: string;
  token: string;
  subject: string;
  text: string;
  createdAt: string;
};

/**
 * The messages of `kind` (one that carries a token) the development outbox (`GET /v1/dev/outbox`, APP_ENV=development)
 * shows for `to`, oldest first (the route answers newest first).
 */
export async function devOutbox(h: Harness, to: string, kind = "password_reset"): Promise<DevMessage[]> {
  const res = await call(h, "GET", `/v1/dev/outbox?to=${encodeURIComponent(to)}`);
  expect(res.status).toBe(200);
  const messages = (res.body.messages as DevMessage[]).filter((m) => m.kind === kind).reverse();
  for (const m of messages) expect(m.token).toEqual(expect.any(String));
  return messages;
}
