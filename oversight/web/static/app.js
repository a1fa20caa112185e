// agent-oversight review: small progressive touches; every page works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Filters that are lists apply as soon as one is chosen.
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form && select.form.submit());
  }

  // Expand or collapse every step on the page.
  for (const button of document.querySelectorAll("[data-details]")) {
    button.addEventListener("click", () => {
      const open = button.dataset.details === "open";
      for (const details of document.querySelectorAll(".step > details")) {
        details.open = open;
      }
    });
  }

  // A step linked from the chart or another page opens when it is the target.
  const openTarget = () => {
    const id = decodeURIComponent(location.hash.slice(1));
    const step = id && document.getElementById(id);
    const details = step && step.querySelector(":scope > details");
    if (details) details.open = true;
  };
  window.addEventListener("hashchange", openTarget);
  openTarget();

  // A slow action (verification) says it is under way.
  for (const link of document.querySelectorAll("a[data-busy]")) {
    link.addEventListener("click", () => {
      link.setAttribute("aria-busy", "true");
      link.textContent = link.dataset.busy;
    });
  }

  // Times are written in UTC; the local time shows on hover.
  for (const time of document.querySelectorAll("time[datetime]")) {
    const when = new Date(time.getAttribute("datetime"));
    if (!Number.isNaN(when.getTime())) time.title = when.toLocaleString();
  }
});

// -- passkeys: the browser signs, the server only relays ------------------------------------
// Binary fields travel as base64url text; the server builds every challenge (a vote's is
// SHA-256 of the exact vote), and the authenticator asks for the reviewer's PIN or biometric.
const passkeys = (() => {
  const decode = (text) => {
    const base = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base + "=".repeat((4 - (base.length % 4)) % 4);
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)).buffer;
  };
  const encode = (buffer) => {
    let text = "";
    for (const byte of new Uint8Array(buffer)) text += String.fromCharCode(byte);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  const descriptors = (list) => (list || []).map((c) => ({ ...c, id: decode(c.id) }));
  const creation = (o) => ({
    ...o,
    challenge: decode(o.challenge),
    user: { ...o.user, id: decode(o.user.id) },
    excludeCredentials: descriptors(o.excludeCredentials),
  });
  const request = (o) => ({
    ...o,
    challenge: decode(o.challenge),
    allowCredentials: descriptors(o.allowCredentials),
  });
  const asJSON = (credential) => {
    const r = credential.response;
    const response = { clientDataJSON: encode(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = encode(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = encode(r.authenticatorData);
      response.signature = encode(r.signature);
      response.userHandle = r.userHandle ? encode(r.userHandle) : null;
    }
    return {
      id: credential.id,
      rawId: encode(credential.rawId),
      type: credential.type,
      response,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults(),
    };
  };
  return { creation, request, asJSON };
})();

const csrfToken = () => {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
};

async function postJSON(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      "X-CSRF-Token": csrfToken(),
    },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) throw new Error(data.error || `${response.status} ${response.statusText}`);
  return data;
}

// Ask the server what to sign, let the passkey sign it, send the assertion back.
async function signWithPasskey(optionsUrl, answerUrl, fields, extra = {}) {
  const asked = await postJSON(optionsUrl, fields);
  const credential = await navigator.credentials.get({
    publicKey: passkeys.request(asked.publicKey),
  });
  if (!credential) throw new Error("no passkey answered");
  return postJSON(answerUrl, {
    challenge_id: asked.challenge_id,
    credential: passkeys.asJSON(credential),
    ...extra,
  });
}

function say(form, text, level) {
  const status = form.querySelector(".form-status");
  if (!status) return;
  status.textContent = text;
  status.className = `form-status ${level ? `is-${level}` : ""}`;
}

function explain(error) {
  if (error && error.name === "NotAllowedError") {
    return "The passkey prompt was cancelled or timed out; nothing was signed.";
  }
  if (error && error.name === "InvalidStateError") {
    return "This device already holds a passkey for this app.";
  }
  return (error && error.message) || String(error);
}

async function busyWhile(form, work) {
  if (form.dataset.busy) return;
  form.dataset.busy = "1";
  for (const b of form.querySelectorAll("button")) b.disabled = true;
  try {
    await work();
  } catch (error) {
    say(form, explain(error), "error");
  } finally {
    delete form.dataset.busy;
    for (const b of form.querySelectorAll("button")) b.disabled = false;
  }
}

const passkeyForms = {
  signin: async (form) => {
    say(form, "Waiting for your passkey…", "info");
    const done = await signWithPasskey("/signin/options", "/signin/verify", {}, {
      next: form.dataset.next || "/",
    });
    location.assign(done.next);
  },
  register: async (form) => {
    const name = form.elements.name.value.trim();
    const role = (form.querySelector('input[name="role"]:checked') || {}).value || "approver";
    say(form, "Creating your passkey…", "info");
    const asked = await postJSON("/register/options", { name, role });
    const credential = await navigator.credentials.create({
      publicKey: passkeys.creation(asked.publicKey),
    });
    const done = await postJSON("/register/verify", {
      challenge_id: asked.challenge_id,
      credential: passkeys.asJSON(credential),
    });
    location.assign(done.next);
  },
};

async function vote(form, decision) {
  const id = form.dataset.vote;
  const fields = { decision, reason: "" };
  if (decision === "deny") {
    fields.reason = form.elements.reason_deny.value.trim();
    if (!fields.reason) {
      say(form, "Say why it is denied: the agent is told the reason.", "error");
      form.elements.reason_deny.focus();
      return;
    }
  } else if (decision === "modify") {
    fields.reason = form.elements.reason_modify.value.trim();
    fields.args = form.elements.args.value;
  }
  say(form, "Sign with your passkey…", "info");
  const done = await signWithPasskey(`/approvals/${encodeURIComponent(id)}/vote/options`,
    `/approvals/${encodeURIComponent(id)}/vote`, fields);
  say(form, done.message, "success");
  const card = form.closest("article.approval");
  if (card) {
    card.classList.add("voted");
    const name = card.querySelector(".call-name");
    live.note(`${name ? `${name.textContent}: ` : ""}${done.message}`, decision);
  }
  live.refresh(id);
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  const kind = form.dataset.passkey;
  if (kind && passkeyForms[kind]) {
    event.preventDefault();
    busyWhile(form, () => passkeyForms[kind](form));
  } else if (form.dataset.vote) {
    event.preventDefault();
    const decision = (event.submitter && event.submitter.value) || "approve";
    busyWhile(form, () => vote(form, decision));
  } else if (form.dataset.endorse) {
    event.preventDefault();
    const id = form.dataset.endorse;
    busyWhile(form, async () => {
      say(form, "Sign with your passkey…", "info");
      const done = await signWithPasskey(
        `/reviewers/pending/${encodeURIComponent(id)}/endorse/options`,
        `/reviewers/pending/${encodeURIComponent(id)}/endorse`,
        { role: form.elements.role.value });
      location.assign(done.next);
    });
  } else if (form.hasAttribute("data-grant")) {
    event.preventDefault();
    busyWhile(form, async () => {
      const e = form.elements;
      say(form, "Sign with your passkey…", "info");
      const done = await signWithPasskey("/grants/options", "/grants", {
        kind: e.kind.value, session_id: e.session_id.value, hours: e.hours.value,
        max_gpu_hours: e.max_gpu_hours.value, reason: e.reason.value,
      });
      say(form, done.message, "success");
      setTimeout(() => location.reload(), 1500);
    });
  }
});

// Modify… and Deny… open their panel (and close the other one).
document.addEventListener("click", (event) => {
  const opener = event.target.closest && event.target.closest("[data-panel-open]");
  if (!opener) return;
  const form = opener.closest("form");
  for (const panel of form.querySelectorAll("[data-panel]")) {
    const open = panel.dataset.panel === opener.dataset.panelOpen && panel.hidden;
    panel.hidden = !open;
    if (open) {
      const field = panel.querySelector("input, textarea");
      if (field) field.focus();
    }
  }
});

// -- the live approvals queue ------------------------------------------------------------------
// The server sends the waiting approvals (id, version) whenever they change; cards are added,
// refreshed or marked decided to match. A card being edited is left alone until it is done.
const live = (() => {
  const list = document.querySelector("[data-live]");
  const empty = document.querySelector("[data-empty]");
  const cardOf = (id) => list && [...list.querySelectorAll("article.approval")]
    .find((card) => card.dataset.approval === id);
  const editing = (card) => card.querySelector("form[data-busy]") ||
    [...card.querySelectorAll("[data-panel]")].some((panel) => !panel.hidden);

  const fetchCard = async (id) => {
    const response = await fetch(`/approvals/${encodeURIComponent(id)}/card`, {
      credentials: "same-origin", headers: { Accept: "text/html" },
    });
    if (response.status === 404) return null;
    if (!response.ok) throw new Error(response.statusText);
    const holder = document.createElement("template");
    holder.innerHTML = (await response.text()).trim();
    return holder.content.querySelector("article.approval");
  };

  const settle = () => {
    if (!list || !empty) return;
    empty.hidden = list.querySelector("article.approval:not(.closing)") !== null;
  };

  const close = (card) => {
    if (card.classList.contains("closing")) return;
    card.classList.add("closing");
    const note = document.createElement("p");
    note.className = "closed-note";
    note.textContent = card.classList.contains("voted")
      ? "Decided: the agent has its answer."
      : "No longer waiting: decided, expired or withdrawn.";
    card.prepend(note);
    setTimeout(() => { card.remove(); settle(); }, 2500);
  };

  const refresh = async (id) => {
    if (!list) return;
    const card = cardOf(id);
    const fresh = await fetchCard(id).catch(() => undefined);
    if (fresh === undefined) return;
    if (fresh === null) {
      if (card) close(card);
    } else if (card) {
      if (card.classList.contains("voted")) fresh.classList.add("voted");
      if (!editing(card)) card.replaceWith(fresh);
    } else {
      fresh.classList.add("arriving");
      list.append(fresh);
    }
    settle();
  };

  const count = (pending) => {
    const link = document.querySelector('.nav a[href="/approvals"]');
    if (!link) return;
    let badge = link.querySelector(".count");
    if (!pending) { if (badge) badge.remove(); return; }
    if (!badge) { badge = document.createElement("span"); badge.className = "count"; link.append(badge); }
    badge.textContent = String(pending);
  };

  const reconcile = (data) => {
    const wanted = new Map(data.approvals.map((a) => [a.id, a.version]));
    for (const card of list.querySelectorAll("article.approval:not(.closing)")) {
      const id = card.dataset.approval;
      if (!wanted.has(id)) close(card);
      else if (wanted.get(id) !== card.dataset.version && !editing(card)) refresh(id);
    }
    for (const id of wanted.keys()) if (!cardOf(id)) refresh(id);
    count(data.pending);
    settle();
  };

  if (list && window.EventSource) {
    const badge = document.querySelector("[data-live-badge]");
    const source = new EventSource(list.dataset.live);
    source.addEventListener("approvals", (event) => reconcile(JSON.parse(event.data)));
    source.addEventListener("open", () => { if (badge) badge.hidden = false; });
    source.addEventListener("error", () => { if (badge) badge.hidden = true; });
    window.addEventListener("pagehide", () => source.close());
  }
  // What this reviewer just did stays said after its card leaves the queue.
  const note = (text, decision) => {
    const activity = document.querySelector("[data-activity]");
    if (!activity) return;
    const item = document.createElement("li");
    item.textContent = text;
    if (decision === "deny") item.className = "is-deny";
    activity.prepend(item);
  };
  return { refresh, note };
})();
