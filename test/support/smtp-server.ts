/**
 * A real SMTP server for tests (smtp-server, the parser of Nodemailer's authors), listening on
 * 127.0.0.1 on a port the OS picks. Every accepted message is parsed with mailparser and kept
 * (envelope, headers, text, HTML). It can be told to refuse recipients with a given reply code
 * (451: temporary, 550: permanent) or to hang (never greet, or never answer the end of DATA),
 * for the transports' error and timeout paths. Plain SMTP only (no STARTTLS), optional AUTH.
 */
import type { Socket } from "node:net";
import { type AddressObject, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

export interface ReceivedMessage {
  /** MAIL FROM and RCPT TO of the envelope. */
  envelopeFrom: string;
  envelopeTo: string[];
  /** The parsed headers and bodies. */
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** The AUTH user name, when the client signed in. */
  user: string | undefined;
}

export type SmtpBehaviour =
  | { kind: "accept" }
  /** Every RCPT TO is answered with this code (4xx temporary, 5xx permanent). */
  | { kind: "refuse-recipients"; code: number }
  /** The connection is accepted and nothing is ever sent (no 220 greeting). */
  | { kind: "hang-greeting" }
  /** The message is read to its end and the final reply never comes. */
  | { kind: "hang-data" };

export interface SmtpTestServer {
  readonly port: number;
  /** smtp://[user:pass@]127.0.0.1:port */
  url(credentials?: { user: string; pass: string }): string;
  /** Messages accepted so far, oldest first. */
  readonly messages: ReceivedMessage[];
  /** How the server answers from now on. */
  behave(behaviour: SmtpBehaviour): void;
  /** How many connections were opened so far. */
  readonly connections: number;
  close(): Promise<void>;
}

const addresses = (field: AddressObject | AddressObject[] | undefined): string[] =>
  (Array.isArray(field) ? field : field ? [field] : []).flatMap((a) => a.value.map((v) => v.address ?? ""));

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/**
 * Starts the server. With `auth`, clients must sign in (PLAIN or LOGIN, over plain TCP: this is
 * a loopback test server) with exactly that user and password.
 */
export async function startSmtpServer(options: { auth?: { user: string; pass: string } } = {}) {
  const messages: ReceivedMessage[] = [];
  const sockets = new Set<Socket>();
  let behaviour: SmtpBehaviour = { kind: "accept" };
  let connections = 0;
  const { auth } = options;

  const server = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    disabledCommands: auth ? ["STARTTLS"] : ["STARTTLS", "AUTH"],
    authOptional: !auth,
    allowInsecureAuth: true,
    authMethods: ["PLAIN", "LOGIN"],
    closeTimeout: 100,
    onConnect(_session, callback) {
      connections += 1;
      // Never calling back keeps the greeting from being sent.
      if (behaviour.kind !== "hang-greeting") callback();
    },
    onAuth(login, _session, callback) {
      if (auth && login.username === auth.user && login.password === auth.pass) {
        callback(null, { user: login.username });
      } else {
        callback(smtpError(535, "5.7.8 Authentication credentials invalid"));
      }
    },
    onRcptTo(_address, _session, callback) {
      if (behaviour.kind === "refuse-recipients") {
        const { code } = behaviour;
        callback(smtpError(code, code < 500 ? "4.2.0 Try again later" : "5.1.1 Mailbox unavailable"));
      } else {
        callback();
      }
    },
    onData(stream, session, callback) {
      const hang = behaviour.kind === "hang-data";
      simpleParser(stream)
        .then((parsed) => {
          if (hang) return;
          messages.push({
            envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            envelopeTo: session.envelope.rcptTo.map((r) => r.address),
            from: addresses(parsed.from)[0] ?? "",
            to: addresses(parsed.to),
            subject: parsed.subject ?? "",
            text: parsed.text ?? "",
            html: parsed.html || "",
            user: typeof session.user === "string" ? session.user : undefined,
          });
          callback();
        })
        .catch((error: unknown) => callback(error as Error));
    },
  });
  server.server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  // After listening, errors of single connections (a client that went away) are not fatal.
  server.on("error", () => {});
  const { port } = server.server.address() as { port: number };

  const handle: SmtpTestServer = {
    port,
    url: (credentials) =>
      credentials
        ? `smtp://${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.pass)}@127.0.0.1:${port}`
        : `smtp://127.0.0.1:${port}`,
    messages,
    behave(next) {
      behaviour = next;
    },
    get connections() {
      return connections;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return handle;
}
