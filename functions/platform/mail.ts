/**
 * The mail transport for a platform (`MAIL_TRANSPORT`): `log` and `resend` everywhere; `smtp`
 * on Node and Lambda only, through Nodemailer (functions/mail/smtp-node.ts). That module is
 * handed in by the Node and Lambda entries rather than imported here, so Nodemailer (node:net,
 * node:tls) never enters the Worker bundle:
 *
 *   Node, Lambda: mailTransportFor(config, "node", nodemailerTransport)
 *   Workers:      mailTransportFor(config, "workers")
 *
 * Called once at start-up (per process, warm container or isolate): a configuration that
 * cannot work on the platform throws there, naming the variable.
 *
 * Why no SMTP on Workers. Workers can open TCP sockets (`connect()` from `cloudflare:sockets`,
 * not to port 25), and the one maintained SMTP client for them, `worker-mailer` (1.2.1), was
 * tried in workerd through the workers test project against the real SMTP server of
 * test/support/smtp-server.ts: it connects, signs in and delivers, and a 550 or a refused
 * connection comes back as an error. But when the server closes the connection before it has
 * answered (a relay restarting, an idle cut, a load balancer), its reply reader loops on the
 * ended stream without ever awaiting anything that can wait (`if (!value) continue`): the
 * isolate spins at full CPU, its timers never fire, so neither worker-mailer's own timeouts
 * nor ours can end the send, and every request that shares the isolate stalls until Cloudflare
 * kills it for CPU time (reproduced: a server that greets and then hangs up after EHLO kept
 * workerd busy until the run was killed; the 15 s test timeout never fired). It also ignores its
 * `responseTimeoutMs` option, and reports SMTP replies only as message strings that quote the
 * recipient. A transport must settle within MAIL_TIMEOUT_MS and must not take the API down
 * with it, so on Workers mail goes through an HTTP provider: MAIL_TRANSPORT=resend.
 */
import type { Config } from "../config";
import { logTransport, resendTransport, type SmtpMailConfig } from "../mail/transports";
import type { MailTransport } from "../mail/types";

export type MailPlatform = "node" | "workers";

/** Builds the SMTP transport on Node and Lambda (functions/mail/smtp-node.ts: nodemailerTransport). */
export type SmtpTransportFactory = (mail: SmtpMailConfig) => MailTransport;

/** What MAIL_TRANSPORT=smtp on Workers fails with. */
export const WORKERS_SMTP_UNSUPPORTED =
  "invalid configuration: MAIL_TRANSPORT=smtp is not supported on Cloudflare Workers; " +
  "use MAIL_TRANSPORT=resend with RESEND_API_KEY (an HTTP API, no sockets needed)";

/** The transport `config.mail` selects on `platform`. Throws when it cannot work there. */
export function mailTransportFor(
  config: Pick<Config, "mail">,
  platform: MailPlatform,
  smtp?: SmtpTransportFactory,
): MailTransport {
  const { mail } = config;
  switch (mail.transport) {
    case "log":
      return logTransport();
    case "resend":
      return resendTransport(mail);
    case "smtp":
      if (platform === "workers") throw new Error(WORKERS_SMTP_UNSUPPORTED);
      if (!smtp) {
        throw new Error(
          "MAIL_TRANSPORT=smtp: the Node/Lambda entry must pass the SMTP transport of functions/mail/smtp-node.ts",
        );
      }
      return smtp(mail);
  }
}
