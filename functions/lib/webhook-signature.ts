/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com, "Signature scheme"): the
 * secret is `whsec_` + base64 of random bytes; the signature of a message is
 * `v1,` + base64(HMAC-SHA-256(key = base64-decoded secret, `${id}.${timestamp}.${body}`)),
 * sent as `webhook-signature` beside `webhook-id` and `webhook-timestamp` (Unix seconds).
 * Web Crypto only, so it runs on every platform.
 */
import { base64ToBytes, bytesToBase64, utf8Encode } from "./encoding";

export const WEBHOOK_SECRET_PREFIX = "whsec_";
/** 32 random bytes: the specification asks for 24 to 64. */
export const WEBHOOK_SECRET_BYTES = 32;

/** A fresh signing secret, `whsec_` + base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + bytesToBase64(crypto.getRandomValues(new Uint8Array(WEBHOOK_SECRET_BYTES)));
}

/** The headers of a signed message: `webhook-id`, `webhook-timestamp`, `webhook-signature`. */
export async function signWebhook(
  secret: string,
  message: { id: string; timestamp: Date; body: string },
): Promise<Record<"webhook-id" | "webhook-timestamp" | "webhook-signature", string>> {
  const encoded = secret.startsWith(WEBHOOK_SECRET_PREFIX)
    ? secret.slice(WEBHOOK_SECRET_PREFIX.length)
    : secret;
  const key = await crypto.subtle.importKey(
    "raw",
    base64ToBytes(encoded),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const timestamp = String(Math.floor(message.timestamp.getTime() / 1000));
  const mac = await crypto.subtle.sign("HMAC", key, utf8Encode(`${message.id}.${timestamp}.${message.body}`));
  return {
    "webhook-id": message.id,
    "webhook-timestamp": timestamp,
    "webhook-signature": `v1,${bytesToBase64(new Uint8Array(mac))}`,
  };
}
