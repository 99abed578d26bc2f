/**
 * The deploy scripts under scripts/ci/ talk to Neon and GitHub, which this machine cannot reach.
 * These tests run them as CI does (child processes, env only) against small fakes of the two
 * APIs, so their request shapes, idempotence and secret hygiene are checked anyway.
 */
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const API_KEY = "neon-test-key";
const PASSWORD = "s3cret-password";

interface FakeBranch {
  id: string;
  name: string;
  parent_id?: string;
  current_state: "init" | "ready";
}

interface Fake {
  url: string;
  branches: Map<string, FakeBranch>;
  requests: { method: string; path: string; body: unknown }[];
  /** Answers the next N requests 423 Locked (Neon: another operation is running). */
  lockNext(n: number): void;
  server: Server;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  let text = "";
  for await (const chunk of req) text += chunk;
  return text ? JSON.parse(text) : undefined;
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(body === undefined ? "" : JSON.stringify(body));
}

/** Just enough of the Neon API v2 (projects/P/branches…, connection_uri) and GitHub's comments API. */
async function startFake(): Promise<Fake> {
  const branches = new Map<string, FakeBranch>();
  const requests: Fake["requests"] = [];
  const comments: { id: number; body: string }[] = [];
  let locked = 0;
  let nextId = 1;
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://fake");
    const body = await readBody(req);
    requests.push({ method: req.method ?? "", path: url.pathname + url.search, body });
    const p = url.pathname;
    if (p.startsWith("/repos/")) {
      // GitHub: GET/POST /repos/o/r/issues/N/comments, PATCH /repos/o/r/issues/comments/ID
      if (req.headers.authorization !== "Bearer gh-token") return send(res, 401);
      if (req.method === "GET") return send(res, 200, comments);
      const text = (body as { body: string }).body;
      if (req.method === "POST") comments.push({ id: comments.length + 1, body: text });
      if (req.method === "PATCH") comments[Number(p.split("/").pop()) - 1]!.body = text;
      return send(res, req.method === "POST" ? 201 : 200, {});
    }
    if (req.headers.authorization !== `Bearer ${API_KEY}`) return send(res, 401);
    if (locked > 0) {
      locked--;
      return send(res, 423, { message: "project already has running operations" });
    }
    const m = /^\/projects\/proj-1\/(branches(?:\/([\w-]+))?|connection_uri)$/.exec(p);
    if (!m) return send(res, 404);
    const id = m[2];
    if (m[1] === "connection_uri") {
      const b = [...branches.values()].find((x) => x.id === url.searchParams.get("branch_id"));
      if (!b) return send(res, 404);
      const host = `ep-${b.id}${url.searchParams.get("pooled") === "true" ? "-pooler" : ""}.neon.test`;
      const db = url.searchParams.get("database_name");
      return send(res, 200, {
        uri: `postgresql://${url.searchParams.get("role_name")}:${PASSWORD}@${host}/${db}`,
      });
    }
    if (!id && req.method === "GET") {
      const search = url.searchParams.get("search") ?? "";
      return send(res, 200, { branches: [...branches.values()].filter((b) => b.name.includes(search)) });
    }
    if (!id && req.method === "POST") {
      const { branch } = body as { branch: { name: string; parent_id?: string } };
      const created: FakeBranch = { id: `br-${nextId++}`, ...branch, current_state: "init" };
      branches.set(created.id, created);
      return send(res, 201, { branch: created, endpoints: [{ type: "read_write" }] });
    }
    const b = id ? branches.get(id) : undefined;
    if (!b) return send(res, 404);
    if (req.method === "DELETE") {
      branches.delete(b.id);
      return send(res, 200, { branch: b });
    }
    const answer = { branch: { ...b } };
    b.current_state = "ready"; // ready from the second look on, as a real branch becomes
    return send(res, 200, answer);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    branches,
    requests,
    lockNext: (n) => {
      locked = n;
    },
    server,
  };
}

let fake: Fake;
beforeAll(async () => {
  fake = await startFake();
});
afterAll(() => new Promise<void>((resolve) => fake.server.close(() => resolve())));

function neonEnv(extra: Record<string, string> = {}) {
  return {
    PATH: process.env.PATH ?? "",
    NEON_API_KEY: API_KEY,
    NEON_PROJECT_ID: "proj-1",
    NEON_API_URL: fake.url,
    ...extra,
  };
}

const neon = (args: string[], env = neonEnv()) =>
  run(process.execPath, ["scripts/ci/neon-branch.mjs", ...args], { env });

describe("scripts/ci/neon-branch.mjs", () => {
  it("creates a branch with a read-write compute once, then finds it again", async () => {
    fake.branches.set("br-main", { id: "br-main", name: "preview-base", current_state: "ready" });
    fake.lockNext(1);
    const first = await neon(["create", "preview/pr-7"], neonEnv({ NEON_PARENT_BRANCH: "preview-base" }));
    const id = first.stdout.trim();
    expect(id).toMatch(/^br-\d+$/);
    const post = fake.requests.find((r) => r.method === "POST");
    expect(post?.body).toEqual({
      branch: { name: "preview/pr-7", parent_id: "br-main" },
      endpoints: [{ type: "read_write" }],
    });
    const again = await neon(["create", "preview/pr-7"]);
    expect(again.stdout.trim()).toBe(id);
    expect(fake.requests.filter((r) => r.method === "POST")).toHaveLength(1);
  });

  it("prints the direct or the pooled connection string, and only that, on stdout", async () => {
    const direct = (await neon(["uri", "preview/pr-7"])).stdout.trim();
    const pooled = (await neon(["uri", "preview/pr-7", "--pooled"])).stdout.trim();
    expect(direct).toMatch(/^postgresql:\/\/neondb_owner:.+@ep-br-\d+\.neon\.test\/neondb$/);
    expect(pooled).toContain("-pooler.neon.test/neondb");
  });

  it("deletes the branch, and a second delete is a no-op", async () => {
    const { stderr } = await neon(["delete", "preview/pr-7"]);
    expect(stderr).toContain("deleted branch preview/pr-7");
    expect([...fake.branches.values()].map((b) => b.name)).not.toContain("preview/pr-7");
    await expect(neon(["delete", "preview/pr-7"])).resolves.toBeTruthy();
  });

  it("fails without credentials or on API errors, never printing a connection string", async () => {
    await expect(neon(["create", "x"], { ...neonEnv(), NEON_API_KEY: "" })).rejects.toMatchObject({
      stderr: expect.stringContaining("NEON_API_KEY is not set"),
    });
    const failed = await neon(["create", "x"], neonEnv({ NEON_API_KEY: "wrong" })).catch((e) => e);
    expect(failed.code).toBe(1);
    expect(`${failed.stdout}${failed.stderr}`).not.toContain(PASSWORD);
  });
});

describe("scripts/ci/cleanup-preview.sh", () => {
  it("deletes preview/pr-<n> and refuses a PR number that is not a number", async () => {
    await neon(["create", "preview/pr-9"]);
    await run("bash", ["scripts/ci/cleanup-preview.sh"], { env: neonEnv({ PR_NUMBER: "9" }) });
    expect([...fake.branches.values()].map((b) => b.name)).not.toContain("preview/pr-9");
    await expect(
      run("bash", ["scripts/ci/cleanup-preview.sh"], { env: neonEnv({ PR_NUMBER: "9; rm -rf /" }) }),
    ).rejects.toMatchObject({ code: 1 });
  });
});

describe("scripts/ci/comment-preview.mjs", () => {
  it("posts one comment per pull request and updates it on later pushes", async () => {
    const env = (url: string) => ({
      PATH: process.env.PATH ?? "",
      GITHUB_TOKEN: "gh-token",
      GITHUB_REPOSITORY: "acme/api",
      GITHUB_API_URL: fake.url,
      PR_NUMBER: "7",
      PREVIEW_URL: url,
    });
    const script = "scripts/ci/comment-preview.mjs";
    expect(
      (await run(process.execPath, [script], { env: env("https://pr-7-a.b.workers.dev") })).stdout,
    ).toContain("posted");
    expect(
      (await run(process.execPath, [script], { env: env("https://pr-7-a.b.workers.dev") })).stdout,
    ).toContain("updated");
    await expect(run(process.execPath, [script], { env: env("javascript:alert(1)") })).rejects.toMatchObject({
      code: 1,
    });
  });
});

describe("scripts/ci/*.sh", () => {
  it("parse as bash and stop on missing environment", async () => {
    for (const name of readdirSync("scripts/ci").filter((n) => n.endsWith(".sh"))) {
      await run("bash", ["-n", `scripts/ci/${name}`]);
    }
    for (const name of ["deploy-preview.sh", "deploy-production.sh", "cleanup-preview.sh"]) {
      const failed = await run("bash", [`scripts/ci/${name}`], {
        env: { PATH: process.env.PATH ?? "" },
      }).catch((e) => e);
      expect(failed.code, name).toBe(1);
      expect(failed.stderr, name).toContain("missing environment");
    }
  });
});
