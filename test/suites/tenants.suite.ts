/** Tenants, memberships and the tenant security-event feed. */
import { expect, it } from "vitest";
import { addMember, createTenant, signUp } from "../support/fixtures";
import { call, type Harness } from "../support/harness";

export function tenantsSuite(h: () => Harness): void {
  it("creates a tenant owned by the caller and lists it with the role", async () => {
    const owner = await signUp(h());
    const res = await call(h(), "POST", "/v1/tenants", { token: owner.token, json: { name: "  Acme  " } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      tenant: { id: expect.any(String), name: "Acme", createdAt: expect.any(String) },
      role: "owner",
    });
    const list = await call(h(), "GET", "/v1/tenants", { token: owner.token });
    expect(list.body.tenants).toEqual([{ tenant: res.body.tenant, role: "owner" }]);
    expect((await call(h(), "POST", "/v1/tenants", { token: owner.token, json: { name: "" } })).status).toBe(
      400,
    );
  });

  it("adds members by email: 404 for unknown, 409 for existing, 403 for plain members", async () => {
    const owner = await signUp(h());
    const admin = await signUp(h());
    const member = await signUp(h());
    const tenantId = await createTenant(h(), owner);
    await addMember(h(), tenantId, owner, admin, "admin");
    await addMember(h(), tenantId, admin, member, "member");
    const again = await call(h(), "POST", `/v1/tenants/${tenantId}/members`, {
      token: owner.token,
      json: { email: member.email, role: "admin" },
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("already_member");
    const unknown = await call(h(), "POST", `/v1/tenants/${tenantId}/members`, {
      token: owner.token,
      json: { email: "nobody-here@example.test", role: "member" },
    });
    expect(unknown.status).toBe(404);
    const outsider = await signUp(h());
    const byMember = await call(h(), "POST", `/v1/tenants/${tenantId}/members`, {
      token: member.token,
      json: { email: outsider.email, role: "member" },
    });
    expect(byMember.status).toBe(403);
    const badRole = await call(h(), "POST", `/v1/tenants/${tenantId}/members`, {
      token: owner.token,
      json: { email: outsider.email, role: "owner" },
    });
    expect(badRole.status).toBe(400);
    const list = await call(h(), "GET", "/v1/tenants", { token: member.token });
    expect(list.body.tenants).toEqual([
      { tenant: expect.objectContaining({ id: tenantId }), role: "member" },
    ]);
  });

  it("removes members: admins cannot remove owners, the last owner stays", async () => {
    const owner = await signUp(h());
    const admin = await signUp(h());
    const member = await signUp(h());
    const tenantId = await createTenant(h(), owner);
    await addMember(h(), tenantId, owner, admin, "admin");
    await addMember(h(), tenantId, owner, member);
    const path = (u: { userId: string }) => `/v1/tenants/${tenantId}/members/${u.userId}`;
    const adminOnOwner = await call(h(), "DELETE", path(owner), { token: admin.token });
    expect(adminOnOwner.status).toBe(403);
    expect(adminOnOwner.body.code).toBe("forbidden");
    const lastOwner = await call(h(), "DELETE", path(owner), { token: owner.token });
    expect(lastOwner.status).toBe(409);
    expect(lastOwner.body.code).toBe("last_owner");
    expect((await call(h(), "DELETE", path(member), { token: admin.token })).status).toBe(204);
    expect((await call(h(), "DELETE", path(member), { token: admin.token })).status).toBe(404);
    expect((await call(h(), "GET", "/v1/tenants", { token: member.token })).body.tenants).toEqual([]);
    const bad = await call(h(), "DELETE", `/v1/tenants/${tenantId}/members/xyz`, { token: owner.token });
    expect(bad.status).toBe(400);
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
    const [ra, rb] = await Promise.all([
      call(h(), "DELETE", `/v1/tenants/${tenantId}/members/${b.userId}`, { token: a.token }),
      call(h(), "DELETE", `/v1/tenants/${tenantId}/members/${a.userId}`, { token: b.token }),
    ]);
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
    const feed = await call(h(), "GET", `/v1/tenants/${tenantId}/security-events`, { token: owner.token });
    expect(feed.status).toBe(200);
    expect(feed.body.events[0]).toMatchObject({ type: "tenant.member_added", tenantId });
    expect(feed.body.events[0].metadata).toEqual({ memberUserId: member.userId, role: "member" });
    expect(
      (await call(h(), "GET", `/v1/tenants/${tenantId}/security-events`, { token: member.token })).status,
    ).toBe(403);
  });

  it("pages security events newest first with an opaque cursor", async () => {
    const user = await signUp(h());
    for (let i = 0; i < 3; i++)
      await call(h(), "POST", "/v1/auth/login", { json: { email: user.email, password: "wrong wrong!" } });
    const first = await call(h(), "GET", "/v1/security-events?limit=2", { token: user.token });
    expect(first.status).toBe(200);
    expect(first.body.events).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const rest = await call(h(), "GET", `/v1/security-events?limit=100&cursor=${first.body.nextCursor}`, {
      token: user.token,
    });
    expect(rest.body.nextCursor).toBeNull();
    const all = [...first.body.events, ...rest.body.events];
    // register, login_succeeded, 3 login_failed
    expect(all).toHaveLength(5);
    const ids = all.map((e: { id: string }) => e.id);
    expect([...ids].sort().reverse()).toEqual(ids);
    for (const e of all) {
      expect(e.requestId).toEqual(expect.any(String));
      expect(e.ipHash).toMatch(/^[0-9a-f]{64}$/);
    }
    for (const q of ["limit=0", "limit=101", "limit=x", "cursor=garbage", "type=nope"]) {
      const res = await call(h(), "GET", `/v1/security-events?${q}`, { token: user.token });
      expect(res.status, q).toBe(400);
    }
  });
}
