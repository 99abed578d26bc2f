#!/usr/bin/env node
// Neon branches for preview deployments, through the Neon API (no CLI to install).
//
//   node scripts/ci/neon-branch.mjs create <name>            find or create; prints the branch id
//   node scripts/ci/neon-branch.mjs uri <name> [--pooled]    prints the connection string
//   node scripts/ci/neon-branch.mjs delete <name>            deletes it (absent: nothing to do)
//
// Env: NEON_API_KEY, NEON_PROJECT_ID (required); NEON_PARENT_BRANCH (name or id; default: the
// project's default branch), NEON_DATABASE_NAME (neondb), NEON_ROLE_NAME (neondb_owner),
// NEON_API_URL (tests point it at a fake). Only results go to stdout; progress goes to stderr.
// Every command is idempotent, so a re-run CI job (or a developer) can repeat it safely.

const API = process.env.NEON_API_URL ?? "https://console.neon.tech/api/v2";
const READY_TIMEOUT_MS = Number(process.env.NEON_READY_TIMEOUT_MS ?? 120_000);

function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** One API call. Retries 423 (another operation on the project is running), 429 and 5xx. */
async function api(method, path, body) {
  const headers = { authorization: `Bearer ${need("NEON_API_KEY")}`, accept: "application/json" };
  if (body) headers["content-type"] = "application/json";
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${API}${path}`, {
      method,
      headers,
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const retryable = res.status === 423 || res.status === 429 || res.status >= 500;
    if (retryable && attempt < 8) {
      console.error(`neon: ${method} ${path.split("?")[0]} → ${res.status}, retrying`);
      await sleep(Math.min(500 * 2 ** attempt, 10_000));
      continue;
    }
    const text = await res.text();
    // Never echo a response body on failure: it may hold a connection string.
    if (!res.ok)
      throw Object.assign(new Error(`neon: ${method} ${path.split("?")[0]} → ${res.status}`), {
        status: res.status,
      });
    return text ? JSON.parse(text) : {};
  }
}

const project = () => `/projects/${encodeURIComponent(need("NEON_PROJECT_ID"))}`;

async function findBranch(nameOrId) {
  const { branches = [] } = await api("GET", `${project()}/branches?search=${encodeURIComponent(nameOrId)}`);
  return branches.find((b) => b.name === nameOrId || b.id === nameOrId) ?? null;
}

async function waitReady(id) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const { branch } = await api("GET", `${project()}/branches/${id}`);
    if (branch?.current_state === "ready") return;
    if (Date.now() > deadline) throw new Error(`neon: branch ${id} not ready after ${READY_TIMEOUT_MS} ms`);
    await sleep(1_000);
  }
}

async function create(name) {
  const existing = await findBranch(name);
  if (existing) {
    console.error(`neon: branch ${name} exists (${existing.id})`);
    await waitReady(existing.id);
    return existing.id;
  }
  const parentName = process.env.NEON_PARENT_BRANCH;
  const parent = parentName ? await findBranch(parentName) : null;
  if (parentName && !parent) throw new Error(`neon: parent branch ${parentName} not found`);
  const { branch } = await api("POST", `${project()}/branches`, {
    branch: { name, ...(parent ? { parent_id: parent.id } : {}) },
    // A read-write compute: without one the branch cannot be connected to.
    endpoints: [{ type: "read_write" }],
  });
  console.error(`neon: created branch ${name} (${branch.id})${parent ? ` from ${parent.name}` : ""}`);
  await waitReady(branch.id);
  return branch.id;
}

async function uri(name, pooled) {
  const branch = await findBranch(name);
  if (!branch) throw new Error(`neon: branch ${name} not found`);
  const params = new URLSearchParams({
    branch_id: branch.id,
    database_name: process.env.NEON_DATABASE_NAME ?? "neondb",
    role_name: process.env.NEON_ROLE_NAME ?? "neondb_owner",
    pooled: String(pooled),
  });
  const { uri: value } = await api("GET", `${project()}/connection_uri?${params}`);
  if (!value) throw new Error("neon: no connection uri in the answer");
  return value;
}

async function remove(name) {
  const branch = await findBranch(name);
  if (!branch) {
    console.error(`neon: branch ${name} does not exist, nothing to delete`);
    return;
  }
  try {
    await api("DELETE", `${project()}/branches/${branch.id}`);
  } catch (error) {
    if (error.status !== 404) throw error; // deleted meanwhile (a concurrent cleanup): fine
  }
  console.error(`neon: deleted branch ${name} (${branch.id})`);
}

const [command, name, flag] = process.argv.slice(2);
try {
  if (!name) throw new Error("usage: neon-branch.mjs create|uri|delete <branch-name> [--pooled]");
  if (command === "create") console.log(await create(name));
  else if (command === "uri") console.log(await uri(name, flag === "--pooled"));
  else if (command === "delete") await remove(name);
  else throw new Error(`unknown command ${command}`);
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
