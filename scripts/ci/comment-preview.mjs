#!/usr/bin/env node
// Posts the preview URL on the pull request, or updates the comment it posted before (found by
// a hidden marker), so a PR carries one preview comment however often it is pushed to.
//
// Env: GITHUB_TOKEN (pull-requests: write), GITHUB_REPOSITORY (owner/name), PR_NUMBER,
// PREVIEW_URL; optional GITHUB_SHA, GITHUB_API_URL (default https://api.github.com).

const MARKER = "<!-- udh-preview-url -->";

function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

async function github(method, path, body) {
  const api = process.env.GITHUB_API_URL ?? "https://api.github.com";
  const res = await fetch(`${api}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${need("GITHUB_TOKEN")}`,
      accept: "application/vnd.github+json",
      "x-github-api-version": "2022-11-28",
      ...(body ? { "content-type": "application/json" } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (!res.ok) throw new Error(`github: ${method} ${path} → ${res.status}`);
  return res.status === 204 ? null : res.json();
}

try {
  const repo = need("GITHUB_REPOSITORY");
  const pr = need("PR_NUMBER");
  const url = need("PREVIEW_URL");
  if (!/^https:\/\/[^\s<>()]+$/.test(url)) throw new Error("PREVIEW_URL is not an https URL");
  const sha = process.env.GITHUB_SHA ? ` at \`${process.env.GITHUB_SHA.slice(0, 7)}\`` : "";
  const body = [
    MARKER,
    `**Preview**${sha}: ${url}`,
    "",
    `API reference: ${url}/docs · readiness: ${url}/readyz`,
    "",
    `Own Neon branch (\`preview/pr-${pr}\`), deleted when the PR closes.`,
  ].join("\n");

  // The first 100 comments are enough to find ours: it is posted by the first preview deploy.
  const comments = await github("GET", `/repos/${repo}/issues/${pr}/comments?per_page=100`);
  const mine = comments.find((c) => typeof c.body === "string" && c.body.startsWith(MARKER));
  if (mine) await github("PATCH", `/repos/${repo}/issues/comments/${mine.id}`, { body });
  else await github("POST", `/repos/${repo}/issues/${pr}/comments`, { body });
  console.log(`comment-preview: ${mine ? "updated" : "posted"} on #${pr}`);
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
