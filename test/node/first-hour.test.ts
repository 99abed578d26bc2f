/**
 * The first hour, as a new user lives it: `npm run dev` in a real terminal (a pseudo-TTY) with
 * their own port, `/docs` working with no network, and `npm start` from a production install.
 * Real processes: wrangler dev (workerd, the Worker's static assets), the built Node entry, and
 * headless Chromium for the rendered reference page.
 */
import { Buffer } from "node:buffer";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildNode, NODE_ENTRIES } from "../../scripts/build-node.mjs";
import { launchChromium } from "../support/chromium";
import { freePort } from "../support/ports";
import { REPO_ROOT } from "../support/server-process";

const scratch = mkdtempSync(join(tmpdir(), "first-hour-"));
const children: ChildProcess[] = [];
afterAll(async () => {
  await Promise.all(children.map(stopGroup));
  rmSync(scratch, { recursive: true, force: true });
});

/** Starts a command in its own process group, so stopping it stops wrangler's workerd too. */
function startGroup(command: string, args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d) => {
    output += d;
  });
  child.stderr?.on("data", (d) => {
    output += d;
  });
  children.push(child);
  return { child, output: () => output };
}

function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined)
    return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  process.kill(-child.pid, "SIGTERM");
  const kill = setTimeout(() => {
    try {
      process.kill(-(child.pid as number), "SIGKILL");
    } catch {
      // Already gone.
    }
  }, 5_000);
  return exited.finally(() => clearTimeout(kill));
}

/** Polls `url` until it answers 200, failing with the process output after `ms`. */
async function waitFor(url: string, output: () => string, ms: number) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${ms} ms:\n${output().slice(-3000)}`);
}

/** An environment without CI markers: wrangler (ci-info) would otherwise never prompt at all. */
function interactiveEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, TERM: "xterm", ...extra };
}

/** /docs and every file it references: same origin (nothing from a CDN), 200, the right type. */
async function expectSelfContainedDocs(base: string) {
  const page = await fetch(`${base}/docs`);
  expect(page.status).toBe(200);
  expect(page.headers.get("content-type")).toContain("text/html");
  const html = await page.text();
  const refs = [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"/g)].map(
    (m) => m[1] as string,
  );
  expect(refs.length).toBe(3);
  for (const ref of refs) {
    expect(ref, "served by the service itself").toMatch(/^\/[^/]/);
    const res = await fetch(`${base}${ref}`);
    expect(res.status, ref).toBe(200);
    const type = res.headers.get("content-type") ?? "";
    if (ref.endsWith(".js")) expect(type, ref).toMatch(/^(text|application)\/javascript/);
    else if (ref.endsWith(".css")) expect(type, ref).toMatch(/^text\/css/);
    else throw new Error(`unexpected reference ${ref}`);
    const body = await res.text();
    if (ref.endsWith("swagger-ui-bundle.js")) expect(body).toContain("SwaggerUIBundle");
    if (ref.endsWith(".css")) expect(body).toContain(".swagger-ui");
    expect(res.headers.get("x-content-type-options"), ref).toBe("nosniff");
  }
  const doc = await fetch(`${base}/openapi.json`);
  expect(doc.status).toBe(200);
  expect(((await doc.json()) as { openapi: string }).openapi).toBe("3.1.0");
}

describe("npm run dev", () => {
  it("applies the migrations in a real terminal without stopping at wrangler's (Y/n) prompt", () => {
    // `script` gives the step a pseudo-TTY on stdout and stdin, as a terminal does; a fresh
    // database means there are migrations to apply, which is when wrangler asks.
    const persist = join(scratch, "pty-state");
    const out = execFileSync(
      "script",
      ["-qec", `${process.execPath} scripts/dev-migrate.mjs --persist-to ${persist}`, "/dev/null"],
      { cwd: REPO_ROOT, env: interactiveEnv(), stdio: ["ignore", "pipe", "pipe"], timeout: 90_000 },
    ).toString();
    expect(out).toContain("0000_init.sql");
    expect(out).toMatch(/non-interactive context/);
    expect(out).not.toMatch(/\(Y\/n\)/);
  }, 120_000);

  it("serves the API on the user's --port, and /docs with its assets from the Worker's static assets", async () => {
    const port = await freePort();
    const inspector = await freePort();
    const persist = join(scratch, "dev-state");
    // PORT says one thing, --port another: the argument wins, and wrangler gets one --port.
    const dev = startGroup(
      process.execPath,
      [
        "scripts/dev.mjs",
        "--port",
        String(port),
        "--inspector-port",
        String(inspector),
        "--persist-to",
        persist,
      ],
      interactiveEnv({ PORT: "1" }),
    );
    const base = `http://127.0.0.1:${port}`;
    await waitFor(`${base}/healthz`, dev.output, 90_000);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    await expectSelfContainedDocs(base);
    // The Worker still answers everything that is not an asset, problem documents included.
    const missing = await fetch(`${base}/docs/assets/nope.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toBe("application/problem+json");
    await stopGroup(dev.child);
  }, 150_000);
});

describe("npm start (the built Node entry)", () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
    scripts: Record<string, string>;
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };

  it("runs plain node on a file that imports only runtime dependencies", async () => {
    // `npm ci --omit=dev && npm start`: no dev dependency may be needed to start.
    const [command, script, ...rest] = pkg.scripts.start?.split(" ") ?? [];
    expect(command).toBe("node");
    expect(rest).toEqual([]);
    const starter = readFileSync(join(REPO_ROOT, script as string), "utf8");
    for (const [, spec] of starter.matchAll(/from "([^"]+)"|import\("([^"]+)"\)/g)) {
      if (spec) expect(spec, "the start script imports only node builtins").toMatch(/^node:/);
    }
    const meta = await buildNode();
    const packageOf = (spec: string) =>
      spec
        .split("/")
        .slice(0, spec.startsWith("@") ? 2 : 1)
        .join("/");
    const imported = new Set<string>();
    for (const output of Object.values(meta.outputs)) {
      for (const imp of output.imports) if (imp.external) imported.add(imp.path);
    }
    const packages = [...imported].filter((s) => !s.startsWith("node:") && !builtinModules.includes(s));
    expect(packages.length).toBeGreaterThan(3);
    for (const spec of packages) {
      expect(Object.keys(pkg.dependencies), `${spec} (imported by the Node build)`).toContain(
        packageOf(spec),
      );
    }
    expect(Object.keys(NODE_ENTRIES)).toContain("node");
  }, 60_000);

  it("starts with node, migrates its embedded database, answers /healthz and serves /docs offline", async () => {
    await buildNode();
    const port = await freePort();
    const dataDir = join(scratch, "node-data");
    mkdirSync(dataDir);
    const server = startGroup(
      process.execPath,
      ["scripts/start.mjs"],
      interactiveEnv({
        PORT: String(port),
        DATABASE_URL: `file:${join(dataDir, "app.db")}`,
        IP_HASH_KEY: "k".repeat(43),
        ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString("base64")}`,
      }),
    );
    const base = `http://127.0.0.1:${port}`;
    await waitFor(`${base}/healthz`, server.output, 30_000);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    await expectSelfContainedDocs(base);

    // The rendered page, in headless Chromium with every non-local request refused.
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const offsite: string[] = [];
      await page.route("**/*", (route) => {
        const url = new URL(route.request().url());
        if (url.hostname === "127.0.0.1") return route.continue();
        offsite.push(url.href);
        return route.abort();
      });
      await page.goto(`${base}/docs`);
      await page.locator(".swagger-ui .info .title").waitFor({ timeout: 20_000 });
      expect(await page.locator(".swagger-ui .info .title").textContent()).toContain(
        "User Data Hardening API",
      );
      const operations = await page.locator(".opblock").count();
      expect(operations).toBeGreaterThan(30);
      expect(offsite).toEqual([]);
      mkdirSync(join(REPO_ROOT, ".scratch"), { recursive: true });
      await page.screenshot({ path: join(REPO_ROOT, ".scratch", "docs.png"), fullPage: false });
    } finally {
      await browser.close();
    }
    await stopGroup(server.child);
  }, 120_000);
});
