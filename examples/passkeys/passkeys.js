// Passkeys with the API from a plain page: no framework, no library. The API hands out
// WebAuthn options as JSON (binary fields base64url); navigator.credentials wants ArrayBuffers,
// and its answers go back as JSON with base64url fields.

const state = { token: null, aal: null, challengeToken: null };
const $ = (id) => document.getElementById(id);

function toBase64Url(buffer) {
  const bytes = new Uint8Array(buffer);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0)).buffer;
}

function show(status, detail) {
  $("status").textContent = status;
  $("session").textContent = state.token ? `aal ${state.aal}` : "none";
  if (detail !== undefined) $("log").textContent = JSON.stringify(detail, null, 2);
}

async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (state.token) headers.authorization = `Bearer ${state.token}`;
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!res.ok) throw Object.assign(new Error(json?.code ?? `HTTP ${res.status}`), { problem: json });
  return json;
}

function signedIn(answer) {
  state.token = answer.session.token;
  state.aal = answer.session.aal;
  state.challengeToken = null;
}

// ---- WebAuthn JSON <-> browser objects ----

function creationOptions(json) {
  return {
    ...json,
    challenge: fromBase64Url(json.challenge),
    user: { ...json.user, id: fromBase64Url(json.user.id) },
    excludeCredentials: (json.excludeCredentials ?? []).map((c) => ({ ...c, id: fromBase64Url(c.id) })),
  };
}

function requestOptions(json) {
  return {
    ...json,
    challenge: fromBase64Url(json.challenge),
    allowCredentials: (json.allowCredentials ?? []).map((c) => ({ ...c, id: fromBase64Url(c.id) })),
  };
}

function registrationJSON(credential) {
  const r = credential.response;
  return {
    id: credential.id,
    rawId: toBase64Url(credential.rawId),
    type: credential.type,
    response: {
      clientDataJSON: toBase64Url(r.clientDataJSON),
      attestationObject: toBase64Url(r.attestationObject),
      transports: typeof r.getTransports === "function" ? r.getTransports() : [],
    },
    clientExtensionResults: credential.getClientExtensionResults(),
    authenticatorAttachment: credential.authenticatorAttachment ?? undefined,
  };
}

function assertionJSON(credential) {
  const r = credential.response;
  return {
    id: credential.id,
    rawId: toBase64Url(credential.rawId),
    type: credential.type,
    response: {
      clientDataJSON: toBase64Url(r.clientDataJSON),
      authenticatorData: toBase64Url(r.authenticatorData),
      signature: toBase64Url(r.signature),
      userHandle: r.userHandle ? toBase64Url(r.userHandle) : undefined,
    },
    clientExtensionResults: credential.getClientExtensionResults(),
    authenticatorAttachment: credential.authenticatorAttachment ?? undefined,
  };
}

async function assert(optionsJSON) {
  const credential = await navigator.credentials.get({ publicKey: requestOptions(optionsJSON) });
  return assertionJSON(credential);
}

// ---- the flows ----

const flows = {
  async "sign-up"() {
    const email = $("email").value;
    const password = $("password").value;
    await api("POST", "/v1/auth/register", { email, password });
    // Development only: the verification link's token from the dev outbox.
    const outbox = await api("GET", `/v1/dev/outbox?to=${encodeURIComponent(email)}`);
    const message = outbox.messages.find((m) => m.kind === "email_verification");
    await api("POST", "/v1/auth/email/verify", { token: message.token });
    await flows["log-in"]();
    show("signed up", { email });
  },

  async "log-in"() {
    const answer = await api("POST", "/v1/auth/login", {
      email: $("email").value,
      password: $("password").value,
    });
    if (answer.status === "mfa_required") {
      state.challengeToken = answer.challenge.token;
      show("mfa required", answer.challenge.methods);
      return;
    }
    signedIn(answer);
    show("logged in");
  },

  async "register-passkey"() {
    const { options } = await api("POST", "/v1/mfa/webauthn/registration/options", {});
    const credential = await navigator.credentials.create({ publicKey: creationOptions(options) });
    const done = await api("POST", "/v1/mfa/webauthn/registration/verify", {
      response: registrationJSON(credential),
      label: "example page",
    });
    // The first factor raises this session to aal 2.
    state.aal = 2;
    show("passkey registered", { factor: done.factor, recoveryCodes: done.recoveryCodes?.length ?? 0 });
  },

  async "mfa-passkey"() {
    const challengeToken = state.challengeToken;
    const { options } = await api("POST", "/v1/auth/mfa/webauthn/options", { challengeToken });
    const webauthn = await assert(options);
    signedIn(await api("POST", "/v1/auth/mfa/verify", { challengeToken, webauthn }));
    show("logged in with passkey as second factor");
  },

  async "passkey-sign-in"() {
    const { options, passkeyChallengeId } = await api("POST", "/v1/auth/passkey/options");
    const response = await assert(options);
    signedIn(await api("POST", "/v1/auth/passkey/verify", { passkeyChallengeId, response }));
    const me = await api("GET", "/v1/me");
    show("signed in with passkey", { email: me.user.email });
  },

  async "sign-out"() {
    if (state.token) await api("POST", "/v1/auth/logout");
    state.token = null;
    state.aal = null;
    show("signed out");
  },
};

for (const [id, run] of Object.entries(flows)) {
  $(id).addEventListener("click", async () => {
    show(`${id}…`);
    try {
      await run();
    } catch (err) {
      show(`error: ${err.message}`, err.problem);
    }
  });
}
