// Cryptainer console: sign-in, the API client, the router and live updates.
// The views themselves are in views.js; building the page in dom.js.

import { h, replace, on } from "./dom.js";
import { VIEWS } from "./views.js";

const CSRF_HEADER = "X-CSRF-Token";

/** What the page knows: who is signed in, and where the user is. */
const state = {
  session: null,
  route: { view: "overview", params: new URLSearchParams() },
  rendering: 0,
  stream: null,
  streamHealthy: false,
  pendingTopics: new Set(),
  refreshTimer: null,
};

/** An error answer of the API. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * Calls the API with the session cookie (same origin only); actions carry
 * the session's CSRF token. Resolves to the JSON answer (or null for 204).
 */
export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET" && state.session) headers[CSRF_HEADER] = state.session.csrf_token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
      redirect: "error",
    });
  } catch (error) {
    throw new ApiError(0, "unreachable", "the server cannot be reached; the console retries when the connection comes back");
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let answer = null;
  try {
    answer = text ? JSON.parse(text) : null;
  } catch (error) {
    answer = null;
  }
  if (!response.ok) {
    const failure = answer && answer.error ? answer.error : { code: "internal", message: `the server answered ${response.status}` };
    if (response.status === 401 && path !== "/v1/console/session") signedOut(failure.message);
    throw new ApiError(response.status, failure.code, failure.message);
  }
  return answer;
}

/** Whether the signed-in role may do `ability` (`decommission`, `check`, `audit`). */
export function may(ability) {
  return Boolean(state.session && state.session.may.includes(ability));
}

/** The session's role and token, for the views. */
export function session() {
  return state.session;
}

/** A short message at the bottom of the page. */
export function toast(message, tone) {
  const toasts = document.getElementById("toasts");
  const item = h("div", { class: `toast toast-${tone || "info"}` }, message);
  toasts.append(item);
  setTimeout(() => item.remove(), 6000);
}

/**
 * Asks for confirmation in the dialog: `title`, the body's elements, the
 * confirm button's text. `action` runs on confirm; its error is shown in
 * the dialog, which stays open.
 */
export function confirmAction(title, body, confirmText, action) {
  const dialog = document.getElementById("dialog");
  const error = document.getElementById("dialog-error");
  const confirm = document.getElementById("dialog-confirm");
  replace(document.getElementById("dialog-title"), title);
  replace(document.getElementById("dialog-body"), body);
  replace(confirm, confirmText);
  replace(error);
  confirm.disabled = false;
  const form = document.getElementById("dialog-form");
  form.onsubmit = async (event) => {
    event.preventDefault();
    confirm.disabled = true;
    replace(error);
    try {
      await action();
      dialog.close();
    } catch (failure) {
      replace(error, failure.message);
      confirm.disabled = false;
    }
  };
  document.getElementById("dialog-cancel").onclick = () => dialog.close();
  dialog.showModal();
  document.getElementById("dialog-cancel").focus();
}

/** Parses `#/view?query` into the route. */
function parseRoute() {
  const hash = window.location.hash.replace(/^#\/?/, "");
  const [path, query] = hash.split("?");
  const view = VIEWS[path] ? path : "overview";
  return { view, params: new URLSearchParams(query || "") };
}

/** Goes to `view` with `params` (a new history entry, the view renders). */
export function navigate(view, params) {
  const query = params && [...params].length ? `?${params.toString()}` : "";
  const target = `#/${view}${query}`;
  if (window.location.hash === target) render();
  else window.location.hash = target;
}

/** Draws the current view again (its data read anew), keeping the focus. */
export function redraw() {
  return render({ refresh: true });
}

/** Renders the current route's view. */
async function render(options) {
  const refresh = Boolean(options && options.refresh);
  state.route = parseRoute();
  const { view, params } = state.route;
  const main = document.getElementById("main");
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.view === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const ticket = ++state.rendering;
  const started = performance.now();
  main.setAttribute("aria-busy", "true");
  if (!refresh) main.dataset.ready = "";
  try {
    const content = await VIEWS[view].render(params, { refresh });
    if (ticket !== state.rendering) return;
    // A refresh keeps the keyboard focus where it was, if the element is
    // drawn again (same id).
    const focused = refresh && document.activeElement && document.activeElement.id;
    replace(main, content);
    if (focused) {
      const again = document.getElementById(focused);
      if (again) again.focus();
    } else if (!refresh && options && options.focus) {
      // For keyboard and screen reader users the new view starts here;
      // the page does not jump.
      main.focus({ preventScroll: true });
    }
    document.title = `${VIEWS[view].title} · Cryptainer console`;
    main.dataset.ready = view;
    performance.measure(`view:${view}${refresh ? ":refresh" : ""}`, { start: started, end: performance.now() });
  } catch (failure) {
    if (ticket !== state.rendering) return;
    if (failure.status === 401) return;
    replace(main, h("div", { class: "notice notice-error", role: "alert" },
      h("strong", {}, "This view could not be loaded. "), failure.message));
    main.dataset.ready = `${view}:error`;
  } finally {
    if (ticket === state.rendering) main.setAttribute("aria-busy", "false");
  }
}

/** Refreshes the current view if a change touched it (several changes in a row: once). */
function changed(topics) {
  for (const topic of topics) state.pendingTopics.add(topic);
  if (state.refreshTimer) return;
  state.refreshTimer = setTimeout(() => {
    state.refreshTimer = null;
    const topics = state.pendingTopics;
    state.pendingTopics = new Set();
    const view = VIEWS[state.route.view];
    const wanted = view.topics || [state.route.view];
    if (topics.has("*") || wanted.some((topic) => topics.has(topic))) {
      if (view.live === false) view.stale && view.stale();
      else render({ refresh: true });
    }
  }, 150);
}

/** Shows the state of the live-update stream. */
function setLive(stateName, text) {
  const live = document.getElementById("live");
  live.dataset.state = stateName;
  replace(live, text);
}

/**
 * Opens the live-update stream. The browser reconnects by itself after a
 * drop, sending the last event's id; the server then replays what changed
 * meanwhile, or sends `reset`, after which every view is read again.
 */
function connectEvents() {
  if (state.stream) state.stream.close();
  const stream = new EventSource("/v1/console/events");
  state.stream = stream;
  stream.addEventListener("hello", () => {
    // A stream that came back after a drop without an id the server can
    // replay from starts with hello: refresh to be sure nothing was missed.
    if (state.streamHealthy === false && state.everConnected) changed(["*"]);
    state.streamHealthy = true;
    state.everConnected = true;
    setLive("live", "Live");
  });
  stream.addEventListener("change", (event) => {
    state.streamHealthy = true;
    state.everConnected = true;
    setLive("live", "Live");
    try {
      changed(JSON.parse(event.data).topics || []);
    } catch (error) {
      changed(["*"]);
    }
  });
  stream.addEventListener("reset", () => {
    state.streamHealthy = true;
    state.everConnected = true;
    setLive("live", "Live");
    changed(["*"]);
  });
  stream.onerror = async () => {
    state.streamHealthy = false;
    setLive("reconnecting", "Reconnecting…");
    if (stream.readyState === EventSource.CLOSED) {
      // Closed for good (the server refused it, e.g. the session ended):
      // check the session, then try again.
      stream.close();
      try {
        await api("GET", "/v1/console/session");
        setTimeout(connectEvents, 2000);
      } catch (error) {
        if (error.status !== 401) setTimeout(connectEvents, 5000);
      }
    }
  };
}

/** Shows who is signed in. */
function showWho() {
  const who = document.getElementById("who");
  const current = state.session;
  replace(who,
    h("span", { class: "who-name" }, current.display_name || current.token_id),
    h("span", { class: `pill pill-role` }, current.role),
    h("span", { class: "muted who-tenants" }, current.tenants.includes("*") ? "all tenants" : current.tenants.join(", ")));
}

/** Enters the console with `current` (the session's answer). */
function enter(current) {
  state.session = current;
  document.getElementById("signin").hidden = true;
  document.getElementById("shell").hidden = false;
  showWho();
  connectEvents();
  render({ focus: false });
}

/** Back to the sign-in form, saying why. */
function signedOut(reason) {
  state.session = null;
  if (state.stream) {
    state.stream.close();
    state.stream = null;
  }
  document.getElementById("shell").hidden = true;
  document.getElementById("signin").hidden = false;
  replace(document.getElementById("signin-error"), reason || "");
  replace(document.getElementById("main"));
  document.getElementById("token").focus();
}

/** Shows whether the server is sealed, on the sign-in form. */
async function showServerState() {
  const target = document.getElementById("server-state");
  try {
    const status = await fetch("/v1/sys/status", { credentials: "same-origin" }).then((r) => r.json());
    if (!status.initialized) replace(target, h("span", { class: "pill pill-warn" }, "Not initialized"), " Initialize the server first (cryptainer operator init).");
    else if (status.sealed) replace(target, h("span", { class: "pill pill-bad" }, "Sealed"), " Unseal the server before signing in.");
    else replace(target, h("span", { class: "pill pill-good" }, "Unsealed"), ` ${status.seal || ""} seal · server ${status.version}`);
  } catch (error) {
    replace(target, h("span", { class: "pill pill-bad" }, "Unreachable"));
  }
}

async function start() {
  on(document.getElementById("signin-form"), "submit", async (event) => {
    event.preventDefault();
    const input = document.getElementById("token");
    const button = document.getElementById("signin-submit");
    button.disabled = true;
    replace(document.getElementById("signin-error"));
    try {
      const current = await api("POST", "/v1/console/session", { token: input.value.trim() });
      input.value = "";
      enter(current);
    } catch (failure) {
      replace(document.getElementById("signin-error"), failure.message);
    } finally {
      button.disabled = false;
    }
  });
  on(document.getElementById("sign-out"), "click", async () => {
    try {
      await api("DELETE", "/v1/console/session");
    } catch (error) {
      // Signed out either way.
    }
    signedOut("You are signed out.");
  });
  window.addEventListener("hashchange", () => {
    if (state.session) render({ focus: true });
  });
  try {
    const current = await api("GET", "/v1/console/session");
    enter(current);
  } catch (error) {
    signedOut("");
    showServerState();
  }
}

start();
