/** Tenants: administration, members and roles, invitations, deletion, and the tenant security-event feed. */
import { eq } from "drizzle-orm";
import type { InferRequestType } from "hono/client";
import { describe, expect, it } from "vitest";
import {
  addMember,
  bearerToken,
  createTenant,
  invitationToken,
  latestMessage,
  messagesTo,
  PASSWORD,
  type SignedUp,
  signUp,
  uniqueEmail,
} from "../support/fixtures";
import { api, expectStatus, type Harness } from "../support/harness";
import { enrollTotp } from "../support/mfa";

type Role = "owner" | "admin" | "member";

export function tenantsSuite(h: () => Harness): void {
  const tenants = (user: SignedUp) => api(h(), user.token).v1.tenants;
  const tenant = (user: SignedUp) => tenants(user)[":tenantId"];
  const member = (by: SignedUp) => tenant(by).members[":userId"];
  const setRole = (by: SignedUp, tenantId: string, target: { userId: string }, role: Role) =>
    member(by).$patch({ param: { tenantId, userId: target.userId }, json: { role } });
  const remove = (by: SignedUp, tenantId: string, target: { userId: string }) =>
    member(by).$delete({ param: { tenantId, userId: target.userId } });
  const invite = (by: SignedUp, tenantId: string, email: string, role: "admin" | "member" = "member") =>
    tenant(by).invitations.$post({ param: { tenantId }, json: { email, role } });
  const accept = (user: SignedUp, token: string) =>
    api(h(), user.token).v1.invitations.accept.$post({ json: { token } });
  const feed = (by: SignedUp, tenantId: string) =>
    tenant(by)["security-events"].$get({ param: { tenantId }, query: { limit: "100" } });
  const membershipRows = async (tenantId: string) => {
    const { db, t } = h().open();
    return db.select().from(t.tenantMemberships).where(eq(t.tenantMemberships.tenantId, tenantId));
  };
  const owners = async (tenantId: string) =>
    (await membershipRows(tenantId)).filter((m) => m.role === "owner").map((m) => m.userId);

  /** An owner, an admin and a plain member of a new tenant. */
  async function team() {
    const owner = await signUp(h());
    const admin = await signUp(h());
    const plain = await signUp(h());
    const tenantId = await createTenant(h(), owner);
    await addMember(h(), tenantId, owner, admin, "admin");
    await addMember(h(), tenantId, owner, plain, "member");
    return { owner, admin, plain, tenantId };
  }

  describe("the tenant", () => {
    it("is created owned by the caller, listed and read with the caller's role", async () => {
      const owner = await signUp(h());
      const created = await expectStatus(tenants(owner).$post({ json: { name: "  Acme  " } }), 201);
      expect(created).toEqual({
        tenant: { id: expect.any(String), name: "Acme", createdAt: expect.any(String), requireMfa: false },
        role: "owner",
      });
      const tenantId = created.tenant.id;
      const list = await expectStatus(tenants(owner).$get(), 200);
      expect(list.tenants).toEqual([{ tenant: created.tenant, role: "owner" }]);
      await expectStatus(tenants(owner).$post({ json: { name: "" } }), 400);
      const plain = await signUp(h());
      await addMember(h(), tenantId, owner, plain);
      expect(await expectStatus(tenant(plain).$get({ param: { tenantId } }), 200)).toEqual({
        tenant: created.tenant,
        role: "member",
      });
      const events = (await expectStatus(feed(owner, tenantId), 200)).events;
      expect(events.find((e) => e.type === "tenant.created")).toMatchObject({
        tenantId,
        actorUserId: owner.userId,
      });
    });

    it("is renamed by owners and admins; its MFA policy is set by an owner from an aal-2 session", async () => {
      const { owner, admin, plain, tenantId } = await team();
      const patch = (by: SignedUp, json: { name?: string; requireMfa?: boolean }) =>
        tenant(by).$patch({ param: { tenantId }, json });
      const renamed = await expectStatus(patch(admin, { name: " Beta " }), 200);
      expect(renamed.tenant).toMatchObject({ id: tenantId, name: "Beta", requireMfa: false });
      expect((await expectStatus(patch(plain, { name: "Gamma" }), 403)).code).toBe("forbidden");
      expect((await expectStatus(patch(admin, { requireMfa: true }), 403)).code).toBe("forbidden");
      expect((await expectStatus(patch(owner, { requireMfa: true }), 403)).code).toBe("aal2_required");
      await expectStatus(patch(owner, {}), 400);
      await expectStatus(patch(owner, { name: "" }), 400);
      await enrollTotp(h(), owner);
      const strict = await expectStatus(patch(owner, { requireMfa: true }), 200);
      expect(strict.tenant).toEqual({
        id: tenantId,
        name: "Beta",
        createdAt: expect.any(String),
        requireMfa: true,
      });
      // Now the admin's aal-1 session is refused even the rename it could do before.
      expect((await expectStatus(patch(admin, { name: "Delta" }), 403)).code).toBe("tenant_mfa_required");
      const updates = (await expectStatus(feed(owner, tenantId), 200)).events.filter(
        (e) => e.type === "tenant.updated",
      );
      expect(updates.map((e) => [e.metadata, e.actorUserId])).toEqual([
        [{ changed: "requireMfa", requireMfa: true }, owner.userId],
        [{ changed: "name" }, admin.userId],
      ]);
    });

    it("is deleted by an owner after step-up, then answers 403 to everyone; evidence stays, the rest goes", async () => {
      const { owner, admin, plain, tenantId } = await team();
      const consents = (user: SignedUp) => api(h(), user.token).v1.consents;
      await expectStatus(
        consents(plain).$post({ json: { policy: "tos", version: "1", decision: "granted", tenantId } }),
        201,
      );
      await expectStatus(
        api(h(), plain.token).v1["notification-preferences"].$put({
          json: { tenantId, channel: "email", category: "news", enabled: true },
        }),
        200,
      );
      await expectStatus(
        api(h(), plain.token).v1.usage.$post({ header: {}, json: { feature: "api", quantity: 2, tenantId } }),
        200,
      );
      const outsider = await signUp(h());
      await expectStatus(invite(owner, tenantId, outsider.email), 201);
      const pending = await invitationToken(h(), outsider.email);

      const del = (by: SignedUp, currentPassword?: string) =>
        tenant(by).$delete({ param: { tenantId }, json: currentPassword ? { currentPassword } : {} });
      expect((await expectStatus(del(admin, PASSWORD), 403)).code).toBe("forbidden");
      h().clock.advance(h().config.stepUpMaxAgeMs + 60_000);
      try {
        expect((await expectStatus(del(owner), 403)).code).toBe("reauthentication_required");
        expect((await expectStatus(del(owner, "not the password"), 401)).code).toBe("invalid_credentials");
        await expectStatus(del(owner, PASSWORD), 204);
      } finally {
        h().clock.reset();
      }

      for (const user of [owner, admin, plain]) {
        expect((await expectStatus(tenant(user).$get({ param: { tenantId } }), 403)).code).toBe("forbidden");
        expect((await expectStatus(tenants(user).$get(), 200)).tenants).toEqual([]);
        expect((await expectStatus(consents(user).$get({ query: { tenantId } }), 403)).code).toBe(
          "forbidden",
        );
      }
      expect((await expectStatus(feed(owner, tenantId), 403)).code).toBe("forbidden");
      expect((await expectStatus(del(owner, PASSWORD), 403)).code).toBe("forbidden");
      expect((await expectStatus(accept(outsider, pending), 400)).code).toBe("invalid_token");

      const { db, t } = h().open();
      const [row] = await db.select().from(t.tenantAccounts).where(eq(t.tenantAccounts.id, tenantId));
      expect(row).toMatchObject({ name: "", deletedAt: expect.any(Date) });
      expect(await membershipRows(tenantId)).toEqual([]);
      const invitations = t.tenantInvitations;
      expect(await db.select().from(invitations).where(eq(invitations.tenantId, tenantId))).toEqual([]);
      const preferences = t.userNotificationPreferences;
      expect(await db.select().from(preferences).where(eq(preferences.tenantId, tenantId))).toEqual([]);
      expect(await db.select().from(t.usageCounters).where(eq(t.usageCounters.tenantId, tenantId))).toEqual(
        [],
      );
      // Evidence is kept: the consent record and the tenant's events, its deletion included.
      expect(
        await db.select().from(t.userConsents).where(eq(t.userConsents.tenantId, tenantId)),
      ).toHaveLength(1);
      const events = await db.select().from(t.securityEvents).where(eq(t.securityEvents.tenantId, tenantId));
      expect(events.filter((e) => e.type === "tenant.deleted")).toMatchObject([
        { actorUserId: owner.userId },
      ]);
      expect(events.some((e) => e.type === "consent.recorded")).toBe(true);
    });
  });

  describe("members and roles", () => {
    it("lists members with their role and MFA to owners and admins only", async () => {
      const { owner, admin, plain, tenantId } = await team();
      await enrollTotp(h(), admin);
      const list = await expectStatus(tenant(admin).members.$get({ param: { tenantId } }), 200);
      expect(list.members).toEqual([
        {
          userId: owner.userId,
          email: owner.email,
          displayName: null,
          role: "owner",
          joinedAt: expect.any(String),
          mfaEnabled: false,
        },
        {
          userId: admin.userId,
          email: admin.email,
          displayName: null,
          role: "admin",
          joinedAt: expect.any(String),
          mfaEnabled: true,
        },
        {
          userId: plain.userId,
          email: plain.email,
          displayName: null,
          role: "member",
          joinedAt: expect.any(String),
          mfaEnabled: false,
        },
      ]);
      expect((await expectStatus(tenant(plain).members.$get({ param: { tenantId } }), 403)).code).toBe(
        "forbidden",
      );
    });

    it("changes roles: only owners touch owners (forbidden wins), the last owner stays", async () => {
      const { owner, admin, plain, tenantId } = await team();
      const code = async (call: ReturnType<typeof setRole>, status: 403 | 409) =>
        (await expectStatus(call, status)).code;
      // An admin may not change an owner, even the last one (forbidden wins over last_owner).
      expect(await code(setRole(admin, tenantId, owner, "member"), 403)).toBe("forbidden");
      expect(await code(setRole(admin, tenantId, plain, "owner"), 403)).toBe("forbidden");
      expect(await code(setRole(admin, tenantId, admin, "owner"), 403)).toBe("forbidden");
      expect(await code(setRole(plain, tenantId, plain, "admin"), 403)).toBe("forbidden");
      expect(await code(setRole(owner, tenantId, owner, "admin"), 409)).toBe("last_owner");
      // Admins manage admins and members.
      expect(await expectStatus(setRole(admin, tenantId, plain, "admin"), 200)).toEqual({
        member: { userId: plain.userId, role: "admin" },
      });
      await expectStatus(setRole(admin, tenantId, plain, "member"), 200);
      // An owner grants owner; then either owner may step down, but not both.
      await expectStatus(setRole(owner, tenantId, admin, "owner"), 200);
      await expectStatus(setRole(owner, tenantId, owner, "admin"), 200);
      expect(await code(setRole(admin, tenantId, admin, "member"), 409)).toBe("last_owner");
      expect(await owners(tenantId)).toEqual([admin.userId]);
      await expectStatus(setRole(admin, tenantId, { userId: crypto.randomUUID() }, "member"), 404);
      await expectStatus(
        member(admin).$patch({ param: { tenantId, userId: "xyz" }, json: { role: "member" } }),
        400,
      );
      const changes = (await expectStatus(feed(admin, tenantId), 200)).events.filter(
        (e) => e.type === "tenant.member_role_changed",
      );
      expect(changes[0]).toMatchObject({
        tenantId,
        actorUserId: owner.userId,
        metadata: { memberUserId: owner.userId, from: "owner", role: "admin" },
      });
      expect(changes).toHaveLength(4);
    });

    it("removes members: admins cannot remove owners, anyone may leave but the last owner", async () => {
      const { owner, admin, plain, tenantId } = await team();
      expect((await expectStatus(remove(admin, tenantId, owner), 403)).code).toBe("forbidden");
      expect((await expectStatus(remove(plain, tenantId, admin), 403)).code).toBe("forbidden");
      expect((await expectStatus(remove(owner, tenantId, owner), 409)).code).toBe("last_owner");
      await expectStatus(remove(plain, tenantId, plain), 204);
      expect((await expectStatus(tenants(plain).$get(), 200)).tenants).toEqual([]);
      expect((await expectStatus(tenant(plain).$get({ param: { tenantId } }), 403)).code).toBe("forbidden");
      await expectStatus(remove(admin, tenantId, plain), 404);
      await expectStatus(remove(owner, tenantId, admin), 204);
      await expectStatus(remove(owner, tenantId, { userId: "xyz" }), 400);
      const removals = (await expectStatus(feed(owner, tenantId), 200)).events.filter(
        (e) => e.type === "tenant.member_removed",
      );
      expect(removals.map((e) => [e.metadata, e.actorUserId])).toEqual([
        [{ memberUserId: admin.userId, left: false }, owner.userId],
        [{ memberUserId: plain.userId, left: true }, plain.userId],
      ]);
    });

    it("keeps exactly one owner when two owners demote or remove each other at once", async () => {
      for (let round = 0; round < 4; round++) {
        const a = await signUp(h());
        const b = await signUp(h());
        const tenantId = await createTenant(h(), a);
        await addMember(h(), tenantId, a, b, "admin");
        await expectStatus(setRole(a, tenantId, b, "owner"), 200);
        const race =
          round % 2 === 0
            ? [setRole(a, tenantId, b, "admin"), setRole(b, tenantId, a, "admin")]
            : [remove(a, tenantId, b), remove(b, tenantId, a)];
        const statuses = (await Promise.all(race)).map((r) => r.status).sort();
        expect(statuses, `round ${round}`).toEqual([round % 2 === 0 ? 200 : 204, 403]);
        expect(await owners(tenantId), `round ${round}`).toHaveLength(1);
      }
    });
  });

  describe("invitations", () => {
    it("answers alike for an address with an account and one without, and queues the same message", async () => {
      const { owner, tenantId } = await team();
      const existing = await signUp(h());
      const unknown = uniqueEmail("nobody");
      const answers = [];
      const statements = [];
      for (const email of [existing.email, unknown]) {
        const res = await expectStatus(invite(owner, tenantId, email.toUpperCase(), "admin"), 201);
        statements.push(h().lastRequestDb()?.stats.statements);
        answers.push(res);
        expect(res.invitation).toEqual({
          id: expect.any(String),
          email,
          role: "admin",
          createdAt: expect.any(String),
          expiresAt: new Date(Date.parse(res.invitation.createdAt) + 7 * 24 * 3_600_000).toISOString(),
        });
        const messages = await messagesTo(h(), email);
        expect(messages.map((m) => m.kind)).toContain("tenant_invitation");
        const message = await latestMessage(h(), email, "tenant_invitation");
        expect(message?.payload).toEqual({ token: expect.any(String), tenantName: "Acme", role: "admin" });
      }
      expect(Object.keys(answers[0]?.invitation ?? {})).toEqual(Object.keys(answers[1]?.invitation ?? {}));
      expect(statements[0]).toEqual(statements[1]);
      const listed = await expectStatus(tenant(owner).invitations.$get({ param: { tenantId } }), 200);
      expect(listed.invitations).toEqual(answers.map((a) => a.invitation));
      const events = (await expectStatus(feed(owner, tenantId), 200)).events;
      const ids = answers.map((a) => a.invitation.id);
      const created = events.filter(
        (e) => e.type === "tenant.invitation_created" && ids.includes(String(e.metadata.invitationId)),
      );
      expect(created).toHaveLength(2);
    });

    it("refuses members' addresses (409), plain members (403) and the owner role (400)", async () => {
      const { owner, admin, plain, tenantId } = await team();
      expect((await expectStatus(invite(admin, tenantId, ` ${plain.email.toUpperCase()} `), 409)).code).toBe(
        "already_member",
      );
      expect((await expectStatus(invite(plain, tenantId, uniqueEmail()), 403)).code).toBe("forbidden");
      await expectStatus(
        tenant(owner).invitations.$post({
          param: { tenantId },
          // @ts-expect-error: nobody is invited as owner.
          json: { email: uniqueEmail(), role: "owner" },
        }),
        400,
      );
      await expectStatus(invite(owner, tenantId, "not an address"), 400);
      expect((await expectStatus(tenant(plain).invitations.$get({ param: { tenantId } }), 403)).code).toBe(
        "forbidden",
      );
    });

    it("is accepted once, by the verified account of its address only", async () => {
      const { owner, tenantId } = await team();
      const invitee = await signUp(h());
      const stranger = await signUp(h());
      await expectStatus(invite(owner, tenantId, invitee.email), 201);
      const token = await invitationToken(h(), invitee.email);
      expect((await expectStatus(accept(stranger, token), 403)).code).toBe("forbidden");
      expect((await expectStatus(accept(invitee, "unknown-token"), 400)).code).toBe("invalid_token");
      await expectStatus(api(h(), invitee.token).v1.invitations.accept.$post({ json: { token: "" } }), 400);
      // The wrong account did not spend it.
      const joined = await expectStatus(accept(invitee, token), 200);
      expect(joined).toEqual({
        tenant: { id: tenantId, name: "Acme", createdAt: expect.any(String), requireMfa: false },
        role: "member",
      });
      expect((await expectStatus(accept(invitee, token), 400)).code).toBe("invalid_token");
      expect(
        (await expectStatus(tenant(owner).invitations.$get({ param: { tenantId } }), 200)).invitations,
      ).toEqual([]);
      const events = (await expectStatus(feed(owner, tenantId), 200)).events;
      expect(
        events.filter((e) => e.type === "tenant.invitation_accepted" && e.actorUserId === invitee.userId),
      ).toMatchObject([{ actorUserId: invitee.userId, metadata: { role: "member" } }]);
      expect(
        events.find((e) => e.type === "tenant.member_added" && e.actorUserId === invitee.userId),
      ).toMatchObject({
        metadata: { memberUserId: invitee.userId, role: "member" },
      });

      const unverified = await signUp(h(), { verified: false });
      await expectStatus(invite(owner, tenantId, unverified.email), 201);
      const theirs = await invitationToken(h(), unverified.email);
      expect((await expectStatus(accept(unverified, theirs), 403)).code).toBe("email_not_verified");
    });

    it("makes exactly one member of 10 parallel accepts", async () => {
      const { owner, tenantId } = await team();
      const invitee = await signUp(h());
      await expectStatus(invite(owner, tenantId, invitee.email, "admin"), 201);
      const token = await invitationToken(h(), invitee.email);
      const before = (await membershipRows(tenantId)).length;
      const results = await Promise.all(Array.from({ length: 10 }, () => accept(invitee, token)));
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([200, ...Array(9).fill(400)]);
      const rows = await membershipRows(tenantId);
      expect(rows).toHaveLength(before + 1);
      expect(rows.filter((m) => m.userId === invitee.userId)).toMatchObject([{ role: "admin" }]);
      const events = (await expectStatus(feed(owner, tenantId), 200)).events;
      expect(
        events.filter((e) => e.type === "tenant.invitation_accepted" && e.actorUserId === invitee.userId),
      ).toHaveLength(1);
      expect(
        events.filter((e) => e.type === "tenant.member_added" && e.actorUserId === invitee.userId),
      ).toHaveLength(1);
    });

    it("dies when revoked; unknown ids and other tenants' invitations are 404", async () => {
      const { owner, admin, tenantId } = await team();
      const other = await createTenant(h(), owner, "Other");
      const invitee = await signUp(h());
      const { invitation } = await expectStatus(invite(owner, tenantId, invitee.email), 201);
      const token = await invitationToken(h(), invitee.email);
      const revoke = (by: SignedUp, tid: string, invitationId: string) =>
        tenant(by).invitations[":invitationId"].$delete({ param: { tenantId: tid, invitationId } });
      await expectStatus(revoke(owner, other, invitation.id), 404);
      await expectStatus(revoke(admin, tenantId, crypto.randomUUID()), 404);
      await expectStatus(revoke(admin, tenantId, invitation.id), 204);
      await expectStatus(revoke(admin, tenantId, invitation.id), 404);
      expect((await expectStatus(accept(invitee, token), 400)).code).toBe("invalid_token");
      const events = (await expectStatus(feed(owner, tenantId), 200)).events;
      expect(events.filter((e) => e.type === "tenant.invitation_revoked")).toMatchObject([
        { actorUserId: admin.userId, metadata: { invitationId: invitation.id } },
      ]);
    });

    it("is replaced by inviting the address again: the old token dies", async () => {
      const { owner, admin, tenantId } = await team();
      const invitee = await signUp(h());
      const first = await expectStatus(invite(owner, tenantId, invitee.email, "member"), 201);
      const oldToken = await invitationToken(h(), invitee.email);
      const second = await expectStatus(invite(admin, tenantId, invitee.email, "admin"), 201);
      const newToken = await invitationToken(h(), invitee.email);
      expect(newToken).not.toBe(oldToken);
      expect(second.invitation).toMatchObject({ id: first.invitation.id, role: "admin" });
      const listed = await expectStatus(tenant(owner).invitations.$get({ param: { tenantId } }), 200);
      expect(listed.invitations).toEqual([second.invitation]);
      expect((await expectStatus(accept(invitee, oldToken), 400)).code).toBe("invalid_token");
      expect((await expectStatus(accept(invitee, newToken), 200)).role).toBe("admin");
    });

    it("expires after its lifetime", async () => {
      const { owner, tenantId } = await team();
      const early = await signUp(h());
      const late = await signUp(h());
      await expectStatus(invite(owner, tenantId, early.email), 201);
      await expectStatus(invite(owner, tenantId, late.email), 201);
      const earlyToken = await invitationToken(h(), early.email);
      const lateToken = await invitationToken(h(), late.email);
      // Sessions expire long before an invitation does: each step signs in again at the new time.
      const signIn = async (user: SignedUp): Promise<SignedUp> => {
        const login = await expectStatus(
          api(h()).v1.auth.login.$post({ json: { email: user.email, password: user.password } }),
          200,
        );
        if (login.status !== "authenticated") throw new Error("no second factor expected");
        return { ...user, token: bearerToken(login.session) };
      };
      const ttl = h().config.invitationTtlMs;
      try {
        h().clock.advance(ttl - 60_000);
        await expectStatus(accept(await signIn(early), earlyToken), 200);
        h().clock.advance(2 * 60_000);
        const ownerNow = await signIn(owner);
        expect(
          (await expectStatus(tenant(ownerNow).invitations.$get({ param: { tenantId } }), 200)).invitations,
        ).toEqual([]);
        expect((await expectStatus(accept(await signIn(late), lateToken), 400)).code).toBe("invalid_token");
      } finally {
        h().clock.reset();
      }
    });
  });

  describe("security events", () => {
    it("shows a tenant's events, each with who acted, to owners and admins only", async () => {
      const { owner, admin, plain, tenantId } = await team();
      const events = (await expectStatus(feed(admin, tenantId), 200)).events;
      for (const e of events) expect(e.tenantId).toBe(tenantId);
      const added = events.filter((e) => e.type === "tenant.member_added");
      expect(added.map((e) => [e.actorUserId, e.metadata])).toEqual([
        [plain.userId, { memberUserId: plain.userId, role: "member" }],
        [admin.userId, { memberUserId: admin.userId, role: "admin" }],
      ]);
      expect(events.filter((e) => e.type === "tenant.invitation_created").map((e) => e.actorUserId)).toEqual([
        owner.userId,
        owner.userId,
      ]);
      expect((await expectStatus(feed(plain, tenantId), 403)).code).toBe("forbidden");
      // The caller's own feed has no actor field.
      const own = await expectStatus(api(h(), owner.token).v1["security-events"].$get({ query: {} }), 200);
      expect(own.events[0]).not.toHaveProperty("actorUserId");
    });

    it("pages security events newest first with an opaque cursor", async () => {
      const user = await signUp(h());
      for (let i = 0; i < 3; i++)
        await api(h()).v1.auth.login.$post({ json: { email: user.email, password: "wrong wrong!" } });
      const events = api(h(), user.token).v1["security-events"];
      const first = await expectStatus(events.$get({ query: { limit: "2" } }), 200);
      expect(first.events).toHaveLength(2);
      expect(first.nextCursor).toEqual(expect.any(String));
      const rest = await expectStatus(
        events.$get({ query: { limit: "100", cursor: String(first.nextCursor) } }),
        200,
      );
      expect(rest.nextCursor).toBeNull();
      const all = [...first.events, ...rest.events];
      // register, email_verified, login_succeeded, 3 login_failed
      expect(all).toHaveLength(6);
      const ids = all.map((e) => e.id);
      expect([...ids].sort().reverse()).toEqual(ids);
      for (const e of all) {
        expect(e.requestId).toEqual(expect.any(String));
        expect(e.ipHash).toMatch(/^[0-9a-f]{64}$/);
      }
      const invalid: InferRequestType<typeof events.$get>["query"][] = [
        { limit: "0" },
        { limit: "101" },
        { limit: "x" },
        { cursor: "garbage" },
        // @ts-expect-error: no such event type.
        { type: "nope" },
      ];
      for (const query of invalid) {
        const res = await events.$get({ query });
        expect(res.status, JSON.stringify(query)).toBe(400);
      }
    });
  });
}
