import { describe, expect, it } from "vitest";
import type { MailConfig } from "../../functions/config";
import { escapeHtml, oneLine, renderMessage } from "../../functions/mail/messages";
import {
  MailDeliveryError,
  type MessageKind,
  type MessagePayload,
  NOTICE_REASONS,
} from "../../functions/mail/types";

const mail: MailConfig = {
  transport: "log",
  from: "Acme <no-reply@acme.example>",
  appUrl: "https://app.acme.example",
  productName: "Acme Cloud",
  timeoutMs: 1000,
};

// A token with every character that must be encoded in a query value.
const TOKEN = "tok+en/with=odd&chars?#% é";
const ENCODED = encodeURIComponent(TOKEN);

/** Every URL in a text body. */
const urls = (text: string) => text.match(/https?:\/\/\S+/g) ?? [];

/** The href values of an HTML body. */
const hrefs = (html: string) => [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]);

const linkKinds: { kind: MessageKind; path: string; payload: MessagePayload; to: string }[] = [
  { kind: "password_reset", path: "reset-password", payload: { token: TOKEN }, to: "ann@example.com" },
  { kind: "email_verification", path: "verify-email", payload: { token: TOKEN }, to: "ann@example.com" },
  {
    kind: "email_change",
    path: "confirm-email-change",
    payload: { token: TOKEN, newEmail: "new@example.com" },
    to: "new@example.com",
  },
  {
    kind: "tenant_invitation",
    path: "accept-invitation",
    payload: { token: TOKEN, tenantName: "Globex", role: "admin" },
    to: "bob@example.com",
  },
];

describe("renderMessage: link messages", () => {
  for (const { kind, path, payload, to } of linkKinds) {
    it(`${kind}: addressed, from the configured sender, one link to /${path} with the URL-encoded token`, () => {
      const m = renderMessage(kind, payload, mail, to);
      expect(m.to).toBe(to);
      expect(m.from).toBe(mail.from);
      expect(m.subject).toContain("Acme Cloud");
      expect(m.subject).not.toMatch(/[\r\n]/);
      const link = `${mail.appUrl}/${path}?token=${ENCODED}`;
      expect(urls(m.text)).toEqual([link]);
      expect(hrefs(m.html)).toEqual([escapeHtml(link)]);
      // The token appears only inside its link, and never raw.
      expect(m.text.split(ENCODED)).toHaveLength(2);
      expect(m.text).not.toContain(TOKEN);
      expect(m.html).not.toContain(TOKEN);
      expect(m.html).toContain("Acme Cloud");
      expect(m.html.startsWith("<!doctype html>")).toBe(true);
    });
  }

  it("password_reset says what to do if it was not asked for", () => {
    const m = renderMessage("password_reset", { token: "t" }, mail, "ann@example.com");
    expect(m.subject).toBe("Reset your Acme Cloud password");
    expect(m.text).toMatch(/did not ask for this, ignore this message/);
  });

  it("tenant_invitation names the tenant and the role", () => {
    const m = renderMessage(
      "tenant_invitation",
      { token: "t", tenantName: "Globex", role: "member" },
      mail,
      "bob@example.com",
    );
    expect(m.subject).toBe("You are invited to join “Globex” on Acme Cloud");
    expect(m.text).toContain("“Globex” on Acme Cloud as member");
    expect(m.html).toContain("“Globex” on Acme Cloud as member");
  });

  it("tenant_invitation escapes a hostile tenant name in the HTML and keeps it on one line", () => {
    const name = `<script>alert("x")</script>\r\nBcc: eve@evil.example\u202e & 'co'`;
    const m = renderMessage(
      "tenant_invitation",
      { token: "t", tenantName: name, role: "admin" },
      mail,
      "b@x.io",
    );
    expect(m.html).not.toContain("<script>");
    expect(m.html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(m.html).toContain("&amp; &#39;co&#39;");
    expect(m.subject).not.toMatch(/[\r\n\u202e]/);
    expect(m.text).not.toMatch(/[\r\u202e]/);
    expect(m.text).not.toMatch(/\nBcc:/);
    expect(m.subject).toContain(`<script>alert("x")</script> Bcc: eve@evil.example & 'co'`);
  });

  it("escapes the product name and the app URL in the HTML", () => {
    const odd = { ...mail, productName: `<b>"Acme"</b>`, appUrl: `https://a.example/x"y` };
    const m = renderMessage("password_reset", { token: "t" }, odd, "a@x.io");
    expect(m.html).not.toContain("<b>");
    expect(m.html).toContain("&lt;b&gt;&quot;Acme&quot;&lt;/b&gt;");
    expect(hrefs(m.html)).toEqual(["https://a.example/x&quot;y/reset-password?token=t"]);
  });

  it("email_change is refused for any recipient but the new address", () => {
    expect(() =>
      renderMessage("email_change", { token: "t", newEmail: "new@example.com" }, mail, "old@example.com"),
    ).toThrow(MailDeliveryError);
    // The same address in another case is the same mailbox.
    expect(
      renderMessage("email_change", { token: "t", newEmail: "New@Example.com" }, mail, "new@example.com").to,
    ).toBe("new@example.com");
  });

  it("refuses a payload without what the kind needs, as a non-retryable error naming no value", () => {
    const cases: [MessageKind, MessagePayload][] = [
      ["password_reset", {}],
      ["email_verification", { token: "" }],
      ["email_change", {}],
      ["tenant_invitation", { token: "t", role: "admin" }],
      ["tenant_invitation", { token: "t", tenantName: " \n ", role: "admin" }],
      ["tenant_invitation", { token: "t", tenantName: "Globex" }],
      ["tenant_invitation", { tenantName: "Globex", role: "admin" }],
      ["security_notice", {}],
      ["security_notice", { reason: "nope" as never }],
      ["security_notice", { reason: "email_changed" }],
      ["unknown" as MessageKind, { token: "t" }],
    ];
    for (const [kind, payload] of cases) {
      const error = (() => {
        try {
          renderMessage(kind, payload, mail, "a@x.io");
        } catch (e) {
          return e;
        }
      })();
      expect(error, `${kind} ${JSON.stringify(payload)}`).toBeInstanceOf(MailDeliveryError);
      expect((error as MailDeliveryError).retryable).toBe(false);
      expect((error as MailDeliveryError).reason).toMatch(/^invalid payload: /);
      expect((error as MailDeliveryError).reason).not.toContain("a@x.io");
    }
  });
});

describe("renderMessage: security notices", () => {
  for (const reason of NOTICE_REASONS) {
    it(`${reason}: its own text, no token, the only link is the app URL, a hint for when it was not you`, () => {
      const payload: MessagePayload = {
        reason,
        // A token in the payload must never reach a notice.
        token: TOKEN,
        ...(reason === "email_changed" || reason === "email_change_requested"
          ? { newEmail: "new@example.com" }
          : {}),
      };
      const m = renderMessage("security_notice", payload, mail, "old@example.com");
      expect(m.to).toBe("old@example.com");
      expect(m.subject).toMatch(/^Acme Cloud: /);
      expect(m.text).not.toContain(TOKEN);
      expect(m.text).not.toContain(ENCODED);
      expect(m.html).not.toContain(ENCODED);
      expect(m.text).not.toMatch(/token/i);
      expect(urls(m.text)).toEqual([mail.appUrl]);
      expect(hrefs(m.html)).toEqual([mail.appUrl]);
      expect(m.text).toContain("If this wasn't you");
      // Not where a reset cannot help: the link would go to the new address, or the account is gone.
      if (reason === "account_deleted" || reason === "email_changed") {
        expect(m.text).toMatch(
          /If this wasn't you, someone else could sign in to your account: contact Acme Cloud/,
        );
      } else {
        expect(m.text).toMatch(/If this wasn't you, reset your password/);
      }
    });
  }

  it("gives each reason a different subject and text", () => {
    const rendered = NOTICE_REASONS.map((reason) =>
      renderMessage("security_notice", { reason, newEmail: "n@x.io" }, mail, "o@x.io"),
    );
    expect(new Set(rendered.map((m) => m.subject)).size).toBe(NOTICE_REASONS.length);
    expect(new Set(rendered.map((m) => m.text)).size).toBe(NOTICE_REASONS.length);
  });

  it("email_changed goes to the old address and names the new one (escaped in HTML)", () => {
    const m = renderMessage(
      "security_notice",
      { reason: "email_changed", newEmail: "o'brien&co@example.com" },
      mail,
      "old@example.com",
    );
    expect(m.subject).toBe("Acme Cloud: Your email address was changed");
    expect(m.text).toContain("was changed to o'brien&co@example.com.");
    expect(m.html).toContain("was changed to o&#39;brien&amp;co@example.com.");
    expect(() =>
      renderMessage("security_notice", { reason: "email_changed", newEmail: "o@x.io" }, mail, "O@x.io"),
    ).toThrow(MailDeliveryError);
  });

  it("texts per reason say what happened", () => {
    const text = (reason: (typeof NOTICE_REASONS)[number]) =>
      renderMessage("security_notice", { reason, newEmail: "n@x.io" }, mail, "o@x.io").text;
    expect(text("factor_added")).toMatch(/second factor .* was added/);
    expect(text("factor_removed")).toMatch(/second factor was removed/);
    expect(text("recovery_codes_regenerated")).toMatch(/New recovery codes were generated/);
    expect(text("recovery_code_used")).toMatch(/recovery code was used to sign in/);
    expect(text("password_changed")).toMatch(/password of your account was changed/);
    expect(text("password_reset")).toMatch(/password of your account was reset/);
    expect(text("account_deleted")).toMatch(/account and the data it held were deleted/);
    expect(text("password_limit_reached")).toMatch(/Too many wrong passwords/);
  });
});

describe("renderMessage: recipients", () => {
  it("refuses a recipient or new address that is not one plain address", () => {
    for (const to of [
      "a@x.io, b@y.io",
      "a@x.io;b@y.io",
      "Bob <b@y.io>",
      "a@x.io\r\nBcc: c@z.io",
      "a b@x.io",
      "no-at-sign",
      "a@b@c.io",
      "",
    ]) {
      expect(() => renderMessage("password_reset", { token: "t" }, mail, to), to).toThrow(
        /recipient is not one plain address/,
      );
    }
    expect(() =>
      renderMessage(
        "security_notice",
        { reason: "email_changed", newEmail: "n@x.io, e@evil.io" },
        mail,
        "o@x.io",
      ),
    ).toThrow(/newEmail is not one plain address/);
    expect(
      renderMessage("password_reset", { token: "t" }, mail, "ann.o'neil+tag@mail.example.co.uk").to,
    ).toBe("ann.o'neil+tag@mail.example.co.uk");
  });
});

describe("escapeHtml and oneLine", () => {
  it("escapes the five HTML-significant characters", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  });

  it("turns controls, separators and bidi formatting into single spaces", () => {
    expect(oneLine(" a\r\n\tb\u0000c\u2028d\u202ee\u2066f  g ")).toBe("a b c d e f g");
  });
});
