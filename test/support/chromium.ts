/**
 * Debian's Chromium, headless, driven by playwright-core: the real browser of the browser tests
 * (CORS, cookies, passkeys with the DevTools virtual authenticator). `.ci/services.sh` installs
 * it when missing; in CI a missing browser is a failure, never a skip.
 */
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/** Where Debian puts the browser; CHROMIUM_PATH overrides it. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Launches headless Chromium; fails with a clear message when it is not installed. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: apt-get install chromium (or set CHROMIUM_PATH)`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // Containers run as root without a user namespace sandbox.
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
}
