import { describe, expect, it } from "vitest";
import { checkDeliveryTarget, checkWebhookUrl } from "./target";

const reason = (url: string, development = false) => {
  const checked = checkWebhookUrl(url, development);
  return checked.ok ? "ok" : checked.reason;
};

describe("checkWebhookUrl", () => {
  it("accepts https to public hosts and addresses", () => {
    expect(reason("https://hooks.example.com/x")).toBe("ok");
    expect(reason("https://8.8.8.8/x")).toBe("ok");
    expect(reason("https://[2606:4700:4700::1111]:8443/x")).toBe("ok");
  });

  it("refuses private, loopback and local names outside development, however spelled", () => {
    for (const url of [
      "https://10.0.0.1/x",
      "https://127.0.0.1/x",
      "https://2130706433/x", // 127.0.0.1 as one number: the URL parser normalizes it
      "https://0x7f.1/x",
      "https://[::1]/x",
      "https://[::ffff:192.168.0.1]/x",
      "https://169.254.169.254/latest/meta-data",
      "https://localhost/x",
      "https://api.localhost/x",
      "https://intranet/x",
      "https://printer.local/x",
      "https://db.internal./x",
      "https://100.64.1.1/x",
      "https://[fd00::1]/x",
    ]) {
      expect(reason(url), url).toBe("non_public_address");
    }
  });

  it("needs https, no credentials, and a parsable URL", () => {
    expect(reason("http://hooks.example.com/x")).toBe("https_required");
    expect(reason("ftp://hooks.example.com/x")).toBe("https_required");
    expect(reason("https://user:pw@hooks.example.com/x")).toBe("credentials_in_url");
    expect(reason("not a url")).toBe("malformed_url");
  });

  it("allows http(s) to loopback in development only, and still nothing private", () => {
    expect(reason("http://127.0.0.1:8080/hook", true)).toBe("ok");
    expect(reason("https://localhost/hook", true)).toBe("ok");
    expect(reason("http://[::1]:9/hook", true)).toBe("ok");
    expect(reason("http://hooks.example.com/x", true)).toBe("https_required");
    expect(reason("http://10.0.0.1/x", true)).toBe("non_public_address");
  });
});

describe("checkDeliveryTarget", () => {
  const resolveTo = (addresses: string[]) => async () => addresses;

  it("refuses a name that resolves to any non-public address", async () => {
    const refused = await checkDeliveryTarget(
      "https://hooks.example.com/x",
      false,
      resolveTo(["8.8.8.8", "10.1.2.3"]),
    );
    expect(refused).toEqual({ ok: false, reason: "non_public_address" });
    const rebound = await checkDeliveryTarget(
      "https://hooks.example.com/x",
      false,
      resolveTo(["::ffff:127.0.0.1"]),
    );
    expect(rebound).toEqual({ ok: false, reason: "non_public_address" });
  });

  it("accepts a name whose every address is public; refuses one that does not resolve", async () => {
    expect((await checkDeliveryTarget("https://hooks.example.com/x", false, resolveTo(["8.8.8.8"]))).ok).toBe(
      true,
    );
    expect(await checkDeliveryTarget("https://hooks.example.com/x", false, resolveTo([]))).toEqual({
      ok: false,
      reason: "unresolvable_host",
    });
    const failing = async () => {
      throw new Error("ENOTFOUND");
    };
    expect(await checkDeliveryTarget("https://nx.example.com/x", false, failing)).toEqual({
      ok: false,
      reason: "unresolvable_host",
    });
  });

  it("checks the URL as written first, and without a resolver (Workers) only that", async () => {
    const never = async () => {
      throw new Error("must not resolve");
    };
    expect(await checkDeliveryTarget("https://10.0.0.1/x", false, never)).toEqual({
      ok: false,
      reason: "non_public_address",
    });
    expect((await checkDeliveryTarget("https://hooks.example.com/x", false, undefined)).ok).toBe(true);
  });
});
