/** Free TCP ports on the loopback interface, for processes the tests and the bench start. */
import { createServer } from "node:net";

/**
 * A port nothing listens on right now (the OS picks it; released before returning). Another
 * process could take it before the caller binds it, which on a test machine does not happen
 * in practice; callers that spawn servers fail loudly if it does.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
