/**
 * Host resolution for webhook deliveries on Node and Lambda (functions/webhooks/target.ts):
 * every address the name has, as the system resolver gives them to `fetch`. Not used on
 * Workers, which cannot resolve names (and whose fetch never reaches private networks).
 */
import { lookup } from "node:dns/promises";
import type { ResolveHost } from "../webhooks/target";

export const resolveHostNode: ResolveHost = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);
