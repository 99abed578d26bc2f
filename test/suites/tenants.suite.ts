/** Tenants, memberships and the tenant security-event feed. */
import type { InferRequestType } from "hono/client";
import { expect, it } from "vitest";
import { addMember, createTenant, type SignedUp, signUp } from "../support/fixtures";
import { api, expectStatus, type Harness } from "../support/harness";

export function tenantsSuite(h: () => Harness): void {
  const tenants = (user: SignedUp) => api(h(), user.token).v1.tenants;

  it("creates a tenant owned by the caller and lists it with the role", async () => {
    const owner = await signUp(h());
    const created = await expectStatus(tenants(owner).$post({ json: { name: "  Acme  " } }), 201);
    expect(created).toEqual({
      tenant: { id: expect.any(String), name: "Acme", createdAt: expect.any(String), requireMfa: false },
      role: "owner",
    });
    const list = await expectStatus(tenants(owner).$get(), 200);
    expect(list.tenants).toEqual([{ tenant: created.tenant, role: "owner" }]);
    await expectStatus(tenants(owner).$post({ json: { name: "" } }), 400);
  });

  it("adds members by email: 404 for unknown, 409 for existing, 403 for plain members", async () => {
    const owner = await signUp(h());
    const admin = await signUp(h());
    const member = await signUp(h());
    const tenantId = await createTenant(h(), owner);
    await addMember(h(), tenantId, owner, admin, "admin");
    await addMember(h(), tenantId, admin, member, "member");
    const members = (by: SignedUp) => tenants(by)[":tenantId"].members;
    const again = await expectStatus(
      members(owner).$post({ param: { tenantId }, json: { email: member.email, role: "admin" } }),
      409,
    );
    expect(again.code).toBe("already_member");
    await expectStatus(
      members(owner).$post({
        param: { tenantId },
        json: { email: "nobody-here@example.test", role: "member" },
      }),
      404,
    );
    const outsider = await signUp(h());
    await expectStatus(
      members(member).$post({ param: { tenantId }, json: { email: outsider.email, role: "member" } }),
      403,
    );
    await expectStatus(
      members(owner).$post({
        param: { tenantId },
        // @ts-expect-error: "owner" is not a role a member is added with.
        json: { email: outsider.email, role: "owner" },
      }),
      400,
    );
    const list = await expectStatus(tenants(member).$get(), 200);
    expect(list.tenants).toEqual([{ tenant: expect.objectContaining({ id: tenantId }), role: "member" }]);
  });

  it("removes members: admins cannot remove owners, the last owner stays", async () => {
    const owner = await signUp(h());
    const admin = await signUp(h());
    const member = await signUp(h());
    const tenantId = await createTenant(h(), owner);
    await addMember(h(), tenantId, owner, admin, "admin");
    await addMember(h(), tenantId, owner, member);
    const remove = (by: SignedUp, u: { userId: string }) =>
      tenants(by)[":tenantId"].members[":userId"].$delete({ param: { tenantId, userId: u.userId } });
    const adminOnOwner = await expectStatus(remove(admin, owner), 403);
    expect(adminOnOwner.code).toBe("forbidden");
    const lastOwner = await expectStatus(remove(owner, owner), 409);
    expect(lastOwner.code).toBe("last_owner");
    await expectStatus(remove(admin, member), 204);
    await expectStatus(remove(admin, member), 404);
    expect((await expectStatus(tenants(member).$get(), 200)).tenants).toEqual([]);
    await expectStatus(remove(owner, { userId: "xyz" }), 400);
  });

  it("never leaves a tenant without an owner when two owners remove each other at once", async () => {
    const a = await signUp(h());
    const b = await signUp(h());
    const tenantId = await createTenant(h(), a);
    await addMember(h(), tenantId, a, b, "admin");
    // Promote b to owner directly (the API has no role change): the race is what is tested.
    const { db, t } = h().open();
    const { and, eq } = await import("drizzle-orm");
    await db
      .update(t.tenantMemberships)
      .set({ role: "owner" })
      .where(and(eq(t.tenantMemberships.tenantId, tenantId), eq(t.tenantMemberships.userId, b.userId)));
    const remove = (by: SignedUp, u: SignedUp) =>
      tenants(by)[":tenantId"].members[":userId"].$delete({ param: { tenantId, userId: u.userId } });
    const [ra, rb] = await Promise.all([remove(a, b), remove(b, a)]);
    const statuses = [ra.status, rb.status].sort();
    expect(statuses[0]).toBe(204);
    expect(statuses[1]).not.toBe(204);
    const owners = await db
      .select()
      .from(t.tenantMemberships)
      .where(and(eq(t.tenantMemberships.tenantId, tenantId), eq(t.tenantMemberships.role, "owner")));
    expect(owners).toHaveLength(1);
  });

  it("shows tenant security events to owners and admins only, carrying the tenant id", async () => {
    const owner = await signUp(h());
    const member = await signUp(h());
    const tenantId = await createTenant(h(), owner);
    await addMember(h(), tenantId, owner, member);
    const feed = (by: SignedUp) =>
      tenants(by)[":tenantId"]["security-events"].$get({ param: { tenantId }, query: {} });
    const events = (await expectStatus(feed(owner), 200)).events;
    expect(events[0]).toMatchObject({ type: "tenant.member_added", tenantId });
    expect(events[0]?.metadata).toEqual({ memberUserId: member.userId, role: "member" });
    await expectStatus(feed(member), 403);
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
}
