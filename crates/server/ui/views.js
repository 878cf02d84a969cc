// Cryptainer console: the views. Each reads its page of the fleet through
// the API (/v1/fleet/*, authorized as the signed-in token) and returns the
// elements to show; app.js draws them and draws them again when the live
// stream says their data changed.

import { h, on, pill, ident, bytes, when, relative, emptyRow, replace } from "./dom.js";
import { api, may, navigate, redraw, confirmAction, toast, session } from "./app.js";

const PAGE = 50;
const number = new Intl.NumberFormat("en-US");
const stamp = new Intl.DateTimeFormat("sv-SE", { dateStyle: "short", timeStyle: "medium" });

/** Rows whose details are open, per view, kept across refreshes. */
const open = { nodes: new Set(), objects: new Set() };

/** The policy check form's values and last answer, kept across refreshes. */
const check = { kind: "secret", resource: "", node_id: "", image_digest: "", image: "", service: "", tenant: "", answer: null };

// ---- shared pieces ------------------------------------------------------

function heading(title, subtitle) {
  return h("div", { class: "view-head" },
    h("h1", {}, title),
    subtitle ? h("p", { class: "muted" }, subtitle) : null);
}

/** The query string of a fleet list for `params` (text, filter, page). */
function listQuery(params) {
  const query = new URLSearchParams();
  for (const name of ["q", "filter", "tenant"]) {
    const value = params.get(name);
    if (value) query.set(name, value);
  }
  const pageNumber = Math.max(1, Number(params.get("page") || 1));
  query.set("limit", String(PAGE));
  query.set("offset", String((pageNumber - 1) * PAGE));
  return query;
}

/** The search box and filter of a list view. */
function toolbar(view, params, options) {
  const search = h("input", {
    id: `${view}-q`, type: "search", name: "q", value: params.get("q") || "",
    placeholder: options.placeholder, autocomplete: "off", spellcheck: "false",
  });
  const filter = h("select", { id: `${view}-filter`, name: "filter" },
    options.filters.map(([value, label]) => {
      const option = h("option", { value }, label);
      if ((params.get("filter") || "") === value) option.selected = true;
      return option;
    }));
  const form = h("form", { class: "toolbar", role: "search", "aria-label": `Filter ${options.noun}` },
    h("div", { class: "field grow" }, h("label", { for: `${view}-q` }, "Search"), search),
    h("div", { class: "field" }, h("label", { for: `${view}-filter` }, "Show"), filter),
    h("button", { type: "submit", class: "button" }, "Apply"));
  const apply = (event) => {
    if (event) event.preventDefault();
    const next = new URLSearchParams();
    if (search.value.trim()) next.set("q", search.value.trim());
    if (filter.value) next.set("filter", filter.value);
    navigate(view, next);
  };
  on(form, "submit", apply);
  on(filter, "change", () => apply());
  return form;
}

/** "1–50 of 1,000" with previous and next. */
function pager(view, params, total) {
  const pageNumber = Math.max(1, Number(params.get("page") || 1));
  const first = total === 0 ? 0 : (pageNumber - 1) * PAGE + 1;
  const last = Math.min(total, pageNumber * PAGE);
  const go = (target) => {
    const next = new URLSearchParams(params);
    next.set("page", String(target));
    navigate(view, next);
  };
  const previous = h("button", { type: "button", class: "button", disabled: pageNumber <= 1, "aria-label": "Previous page" }, "‹ Previous");
  const following = h("button", { type: "button", class: "button", disabled: last >= total, "aria-label": "Next page" }, "Next ›");
  on(previous, "click", () => go(pageNumber - 1));
  on(following, "click", () => go(pageNumber + 1));
  return h("nav", { class: "pager", "aria-label": "Pages" },
    h("span", { class: "muted", "data-test": "range" }, `${number.format(first)}–${number.format(last)} of ${number.format(total)}`),
    h("div", { class: "pager-buttons" }, previous, following));
}

/** A table with a caption (for screen readers), headers and rows. */
function table(caption, headers, rows, options) {
  return h("div", { class: "table-wrap" },
    h("table", { class: `table ${(options && options.class) || ""}` },
      h("caption", { class: "sr-only" }, caption),
      h("thead", {}, h("tr", {}, headers.map((name) => h("th", { scope: "col" }, name)))),
      h("tbody", {}, rows)));
}

/** A cell with its column's name, which narrow screens show beside the value. */
function cell(label, ...content) {
  return h("td", { "data-label": label }, content);
}

function labels(map) {
  const entries = Object.entries(map || {});
  if (!entries.length) return h("span", { class: "muted" }, "—");
  return h("ul", { class: "chips" }, entries.map(([key, value]) => h("li", { class: "chip" }, `${key}=${value}`)));
}

function list(items, empty) {
  if (!items.length) return h("span", { class: "muted" }, empty || "—");
  return h("ul", { class: "plain" }, items.map((item) => h("li", {}, item)));
}

const LIVENESS = {
  live: ["Live", "good"],
  late: ["Late", "warn"],
  lost: ["Not seen", "bad"],
  decommissioned: ["Decommissioned", "neutral"],
};

function containerName(container) {
  return container.container_name || (container.container_id ? container.container_id.slice(0, 12) : "no container named");
}

function basisText(basis) {
  switch (basis.kind) {
    case "policy": return `policy ${basis.policy}`;
    case "creator": return "creator node (no policy names it)";
    case "role": return "token role";
    case "lease": return "lease held before the server started";
    default: return basis.kind;
  }
}

// ---- overview -----------------------------------------------------------

const ATTENTION = {
  node_not_seen: ["Node not seen", "bad"],
  volume_fenced: ["Volume fenced", "bad"],
  certificate_expiring: ["Certificate", "warn"],
  version_in_use: ["Old version in use", "warn"],
  release_refused: ["Release refused", "bad"],
  container_unbound: ["No policy", "warn"],
};

function card(label, value, detail, tone, href) {
  const body = [h("span", { class: "card-label" }, label), h("span", { class: "card-value" }, value), detail ? h("span", { class: "card-detail" }, detail) : null];
  return h(href ? "a" : "div", { class: `card card-${tone || "neutral"}`, href }, body);
}

async function overview() {
  const data = await api("GET", "/v1/fleet/overview");
  const sealDetail = (summary) => {
    if (!summary.seal) return "";
    if (summary.device === "unreachable") return `${summary.seal} seal · device not answering`;
    if (summary.device === "reachable") return `${summary.seal} seal · device answers`;
    return `${summary.seal} seal`;
  };
  const c = data.counts;
  const seal = data.seal.sealed ? ["Sealed", "bad"] : ["Unsealed", "good"];
  const cards = h("section", { class: "cards", "aria-label": "Counts" },
    card("Key manager", seal[0], sealDetail(data.seal), data.seal.device === "unreachable" ? "warn" : seal[1]),
    card("Nodes", `${number.format(c.nodes_live)} / ${number.format(c.nodes)}`, "live / active", c.nodes_live < c.nodes ? "warn" : "good", "#/nodes"),
    card("Volumes", number.format(c.volumes), `${number.format(c.volumes_held)} held`, "neutral", "#/volumes"),
    card("Keys", number.format(c.keys), "active", "neutral", "#/objects?filter=keys"),
    card("Secrets", number.format(c.secrets), "active", "neutral", "#/objects?filter=secrets"),
    card("Containers", number.format(c.containers), "running with Cryptainer", "neutral", "#/workloads?filter=running"),
    card("Policies", number.format(c.policies), "", "neutral", "#/policies"),
    card("Refused", number.format(data.refused_last_hour), "releases, last hour", data.refused_last_hour ? "bad" : "good", "#/audit?result=refused&operation=policy.decide"));
  const attention = data.attention.length
    ? h("ul", { class: "attention", "data-test": "attention" }, data.attention.map((item) => {
      const [label, tone] = ATTENTION[item.kind] || [item.kind, "warn"];
      const query = item.view === "audit" ? "?operation=policy.decide&result=refused" : `?q=${encodeURIComponent(item.reference)}`;
      return h("li", { class: "attention-item" },
        pill(label, tone),
        h("span", { class: "attention-message" }, item.message),
        h("a", { href: `#/${item.view}${query}`, class: "attention-link" }, "Show"));
    }))
    : h("p", { class: "notice notice-good" }, "Nothing needs attention: every node reports, no volume is fenced, no certificate is about to expire, no container holds a rotated secret version, no release was refused in the last hour, the seal's device (if any) answers.");
  const refusals = table("Refused releases in the last hour", ["When", "Node", "Resource", "Container", "Why"],
    data.recent_refusals.length
      ? data.recent_refusals.map((refusal) => h("tr", {},
        cell("When", when(refusal.at)),
        cell("Node", refusal.node_name),
        cell("Resource", `${refusal.resource_kind} ${refusal.resource}`),
        cell("Container", refusal.workload),
        cell("Why", h("span", { class: "reason" }, refusal.reason))))
      : [emptyRow(5, "No release was refused in the last hour.")]);
  return [
    heading("Overview", `As of ${new Date(data.generated_at).toLocaleTimeString()}`),
    cards,
    h("section", { class: "panel", "aria-labelledby": "attention-title" }, h("h2", { id: "attention-title" }, "Needs attention"), attention),
    h("section", { class: "panel", "aria-labelledby": "refusals-title" }, h("h2", { id: "refusals-title" }, "Refused releases"), refusals),
  ];
}

// ---- nodes --------------------------------------------------------------

function decommission(node) {
  const typed = h("input", { id: "confirm-name", type: "text", autocomplete: "off", spellcheck: "false" });
  const volumes = node.volumes.length ? node.volumes.join(", ") : "none";
  const containers = node.containers.length ? node.containers.map(containerName).join(", ") : "none reported";
  const body = [
    h("p", {}, "From the moment you confirm, the key manager refuses node ", h("strong", {}, node.name), ` (${node.id}):`),
    h("ul", { class: "consequences" },
      h("li", {}, "its certificate, at every TLS handshake and on every request, on HTTPS and KMIP;"),
      h("li", {}, `the renewal of its volume leases, which end now (volumes: ${volumes}); its agent fences them and other nodes can take them;`),
      h("li", {}, `every volume secret and secret value for its containers (running: ${containers});`),
      h("li", {}, "its liveness reports and certificate renewals. It must join again with a new join token to come back.")),
    h("label", { for: "confirm-name" }, "Type the node's name to confirm"),
    typed,
  ];
  confirmAction(`Decommission ${node.name}?`, body, "Decommission node", async () => {
    if (typed.value.trim() !== node.name) throw new Error(`type ${node.name} to confirm`);
    const answer = await api("POST", `/v1/nodes/${encodeURIComponent(node.id)}/decommission`, { shred: false });
    toast(`Node ${node.name} is decommissioned; ${answer.leases_ended} lease(s) ended.`, "good");
  });
}

function nodeDetails(node) {
  const containers = table(`Containers on ${node.name}`, ["Container", "Image", "Volumes", "Secrets", "Policy"],
    node.containers.length
      ? node.containers.map((container) => h("tr", { class: container.flag ? "flagged" : null },
        cell("Container", containerName(container)),
        cell("Image", container.image || "—", h("br", {}), ident(container.image_digest, 24)),
        cell("Volumes", list(container.volumes)),
        cell("Secrets", list(container.secrets.map((secret) => `${secret.name} v${secret.version}`))),
        cell("Policy", container.flag ? [pill("Flagged", "warn"), " ", container.flag] : pill("Granted", "good"))))
      : [emptyRow(5, node.reports_containers ? "No container runs with Cryptainer volumes or secrets." : "This node's agent does not report its containers (an older agent).")],
    { class: "table-inner" });
  const canAct = may("decommission");
  const button = h("button", {
    type: "button", class: "button button-danger", id: `decommission-${node.id}`,
    disabled: !canAct || node.state === "decommissioned",
    "aria-describedby": canAct ? null : `decommission-why-${node.id}`,
  }, "Decommission…");
  on(button, "click", () => decommission(node));
  const fenced = Object.entries(node.fenced);
  return h("div", { class: "details" },
    h("dl", { class: "facts" },
      h("dt", {}, "Node id"), h("dd", {}, ident(node.id, 40)),
      h("dt", {}, "Tenant"), h("dd", {}, node.tenant),
      h("dt", {}, "Role"), h("dd", {}, node.role),
      h("dt", {}, "Joined"), h("dd", {}, when(node.joined_at)),
      h("dt", {}, "Certificate expires"), h("dd", {}, when(node.cert_expires_at)),
      h("dt", {}, "Labels"), h("dd", {}, labels(node.labels)),
      h("dt", {}, "Volumes held"), h("dd", {}, list(node.volumes, "none")),
      h("dt", {}, "Fenced"), h("dd", {}, list(fenced.map(([name, why]) => `${name}: ${why}`), "none")),
      h("dt", {}, "Secrets delivered"), h("dd", {}, list(node.secrets.map((secret) => `${secret.name} v${secret.version}${secret.version < secret.current ? ` (current v${secret.current})` : ""}`), "none"))),
    containers,
    h("div", { class: "details-actions" },
      button,
      canAct ? null : h("span", { class: "muted", id: `decommission-why-${node.id}` },
        `Your role (${session().role}) cannot decommission nodes; an admin token can.`)));
}

async function nodes(params) {
  const data = await api("GET", `/v1/fleet/nodes?${listQuery(params)}`);
  const rows = [];
  for (const node of data.nodes) {
    const [label, tone] = LIVENESS[node.liveness] || [node.liveness, "neutral"];
    const flagged = node.containers.filter((container) => container.flag).length;
    const expanded = open.nodes.has(node.id);
    const toggle = h("button", {
      type: "button", class: "button button-small", id: `toggle-${node.id}`,
      "aria-expanded": expanded ? "true" : "false", "aria-controls": `details-${node.id}`,
      "aria-label": `${expanded ? "Hide" : "Show"} details of ${node.name}`,
    }, expanded ? "Hide" : "Details");
    on(toggle, "click", () => {
      if (open.nodes.has(node.id)) open.nodes.delete(node.id);
      else open.nodes.add(node.id);
      redraw();
    });
    rows.push(h("tr", { "data-id": node.id, class: node.state === "decommissioned" ? "dim" : null },
      cell("Node", h("strong", {}, node.name), h("br", {}), ident(node.id, 22)),
      cell("State", pill(label, tone)),
      cell("Labels", labels(node.labels)),
      cell("Last report", when(node.last_seen)),
      cell("Certificate", when(node.cert_expires_at)),
      cell("Volumes", node.volumes.length ? number.format(node.volumes.length) : "—"),
      cell("Secrets", node.secrets.length ? number.format(node.secrets.length) : "—"),
      cell("Containers", node.containers.length ? number.format(node.containers.length) : "—", flagged ? [" ", pill(`${flagged} flagged`, "warn")] : null),
      cell("", toggle)));
    if (expanded) {
      rows.push(h("tr", { class: "details-row", id: `details-${node.id}` }, h("td", { colspan: 9 }, nodeDetails(node))));
    }
  }
  return [
    heading("Nodes", "Container hosts that joined, what each holds, and what runs there."),
    toolbar("nodes", params, { placeholder: "Name, id, label, tenant", noun: "nodes", filters: [["", "All nodes"], ["attention", "Needing attention"]] }),
    table("Nodes", ["Node", "State", "Labels", "Last report", "Certificate", "Volumes", "Secrets", "Containers", ""],
      rows.length ? rows : [emptyRow(9, "No node matches.")]),
    pager("nodes", params, data.total),
  ];
}

// ---- volumes ------------------------------------------------------------

async function volumes(params) {
  const data = await api("GET", `/v1/fleet/volumes?${listQuery(params)}`);
  const rows = data.volumes.map((volume) => {
    const state = volume.fenced ? pill("Fenced", "bad") : volume.state === "held" ? pill("Held", "good") : pill("Free", "neutral");
    return h("tr", { "data-id": volume.name },
      cell("Volume", h("strong", {}, volume.name), h("br", {}), h("span", { class: "muted" }, volume.tenant)),
      cell("Size", bytes(volume.size_bytes)),
      cell("State", state, volume.fenced ? h("div", { class: "reason" }, volume.fenced) : null),
      cell("Holder", volume.holder_name || (volume.holder ? ident(volume.holder, 22) : h("span", { class: "muted" }, "—"))),
      cell("Held since", when(volume.held_since)),
      cell("Lease ends", volume.lease_expires_at ? h("time", { datetime: volume.lease_expires_at, title: new Date(volume.lease_expires_at).toLocaleString() }, relative(volume.lease_expires_at)) : h("span", { class: "muted" }, "—")),
      cell("Engine", volume.engine || h("span", { class: "muted" }, "—")),
      cell("Containers", list(volume.containers.map(containerName))));
  });
  return [
    heading("Volumes", "Encrypted volumes, the node holding each lease, and the containers using it."),
    toolbar("volumes", params, { placeholder: "Volume, tenant, holder", noun: "volumes", filters: [["", "All volumes"], ["held", "Held"], ["free", "Free"], ["attention", "Fenced"]] }),
    table("Volumes", ["Volume", "Size", "State", "Holder", "Held since", "Lease ends", "Engine", "Containers"],
      rows.length ? rows : [emptyRow(8, "No volume matches.")]),
    pager("volumes", params, data.total),
  ];
}

// ---- keys and secrets ---------------------------------------------------

const KIND = { key: ["Key", "neutral"], secret: ["Secret", "info"], volume_key: ["Volume key", "neutral"] };

function recipients(object) {
  const withRecipients = object.versions.filter((version) => version.recipients.length);
  if (!withRecipients.length) {
    return h("p", { class: "muted" }, object.kind === "key" ? "Keys are read by API tokens and KMIP clients; the audit log lists each read." : "No release of this object is recorded since the server started.");
  }
  return withRecipients.map((version) => h("div", { class: "version" },
    h("h3", {}, `Version ${version.version}`, version.version === object.version ? [" ", pill("current", "good")] : [" ", pill("older", "warn")]),
    table(`Recipients of version ${version.version} of ${object.name || object.id}`, ["Node", "Container", "Image digest", "Under", "First", "Latest", "Times", "Now"],
      version.recipients.map((recipient) => h("tr", {},
        cell("Node", recipient.node_name),
        cell("Container", containerName(recipient.container)),
        cell("Image digest", ident(recipient.container.image_digest, 22)),
        cell("Under", basisText(recipient.basis)),
        cell("First", when(recipient.first_at)),
        cell("Latest", when(recipient.last_at)),
        cell("Times", number.format(recipient.count)),
        cell("Now", recipient.current ? pill("holds it", "good") : pill("no longer", "neutral")))),
      { class: "table-inner" })));
}

async function objects(params) {
  const data = await api("GET", `/v1/fleet/objects?${listQuery(params)}`);
  const rows = [];
  for (const object of data.objects) {
    const [label, tone] = KIND[object.kind] || [object.kind, "neutral"];
    const count = object.versions.reduce((sum, version) => sum + version.recipients.length, 0);
    const expanded = open.objects.has(object.id);
    const toggle = h("button", {
      type: "button", class: "button button-small", id: `toggle-${object.id}`,
      "aria-expanded": expanded ? "true" : "false", "aria-controls": `versions-${object.id}`,
      "aria-label": `${expanded ? "Hide" : "Show"} recipients of ${object.name || object.id}`,
    }, expanded ? "Hide" : "Recipients");
    on(toggle, "click", () => {
      if (open.objects.has(object.id)) open.objects.delete(object.id);
      else open.objects.add(object.id);
      redraw();
    });
    rows.push(h("tr", { "data-id": object.id },
      cell("Name", h("strong", {}, object.name || "(unnamed)"), h("br", {}), ident(object.id, 22)),
      cell("Kind", pill(label, tone), object.volume ? h("div", { class: "muted" }, `opens ${object.volume}`) : null),
      cell("Tenant", object.tenant),
      cell("Algorithm", object.algorithm),
      cell("State", pill(object.state, object.state === "active" ? "good" : object.state === "destroyed" || object.state === "compromised" ? "bad" : "neutral")),
      cell("Version", number.format(object.version)),
      cell("Recipients", count ? number.format(count) : "—"),
      cell("", toggle)));
    if (expanded) rows.push(h("tr", { class: "details-row", id: `versions-${object.id}` }, h("td", { colspan: 8 }, h("div", { class: "details" }, recipients(object)))));
  }
  return [
    heading("Keys & secrets", "Every version, and which node and container received it, when, under which policy."),
    toolbar("objects", params, { placeholder: "Name, id, volume", noun: "keys and secrets", filters: [["", "All objects"], ["keys", "Keys"], ["secrets", "Secrets"], ["volume_keys", "Volume keys"]] }),
    table("Keys and secrets", ["Name", "Kind", "Tenant", "Algorithm", "State", "Version", "Recipients", ""],
      rows.length ? rows : [emptyRow(8, "Nothing matches.")]),
    pager("objects", params, data.total),
  ];
}

// ---- workloads ----------------------------------------------------------

async function workloads(params) {
  const data = await api("GET", `/v1/fleet/workloads?${listQuery(params)}`);
  const rows = data.workloads.map((workload) => h("tr", { class: workload.flag ? "flagged" : null, "data-id": workload.container_id || "" },
    cell("Container", h("strong", {}, containerName(workload)), h("br", {}), ident(workload.container_id, 12)),
    cell("Image", workload.image || "—", h("br", {}), ident(workload.image_digest, 22)),
    cell("Node", workload.node_name),
    cell("Status", workload.running ? pill("Running", "good") : pill("Not running", "neutral"), workload.flag ? [" ", pill("Flagged", "warn")] : null),
    cell("Received", list(workload.received.map((item) => `${item.resource_kind} ${item.resource} v${item.version} · ${basisText(item.basis)} · ${relative(item.at)}`), "nothing recorded")),
    cell("Why flagged", workload.flag ? h("span", { class: "reason" }, workload.flag) : h("span", { class: "muted" }, "—"))));
  return [
    heading("Workloads", "Containers that received a volume or secret, and containers running with them; those no policy names are flagged."),
    toolbar("workloads", params, { placeholder: "Container, image, digest, node, secret", noun: "workloads", filters: [["", "All workloads"], ["running", "Running"], ["flagged", "Flagged"]] }),
    table("Workloads", ["Container", "Image", "Node", "Status", "Received", "Why flagged"],
      rows.length ? rows : [emptyRow(6, "No workload matches.")]),
    pager("workloads", params, data.total),
  ];
}

// ---- policies -----------------------------------------------------------

function subject(selector) {
  const parts = [];
  const add = (label, values) => {
    if (Array.isArray(values) && values.length) parts.push(`${label}: ${values.join(", ")}`);
    else if (values && typeof values === "object" && Object.keys(values).length) {
      parts.push(`${label}: ${Object.entries(values).map(([key, value]) => `${key}=${value}`).join(", ")}`);
    }
  };
  add("node", selector.node_ids);
  add("role", selector.node_roles);
  add("node labels", selector.node_labels);
  add("image digest", selector.image_digests);
  add("image", selector.images);
  add("service", selector.services);
  add("container labels", selector.container_labels);
  return h("ul", { class: "plain" }, parts.map((part) => h("li", {}, part)));
}

function field(id, label, value, update, attributes) {
  const input = h("input", Object.assign({ id, name: id, type: "text", value, autocomplete: "off", spellcheck: "false" }, attributes || {}));
  on(input, "input", () => update(input.value));
  return h("div", { class: "field" }, h("label", { for: id }, label), input);
}

function checkForm() {
  const kind = h("select", { id: "check-kind", name: "kind" },
    [["secret", "Secret"], ["volume", "Volume"]].map(([value, label]) => {
      const option = h("option", { value }, label);
      if (check.kind === value) option.selected = true;
      return option;
    }));
  on(kind, "change", () => { check.kind = kind.value; });
  const result = h("div", { id: "check-result", role: "status", "aria-live": "polite" });
  const show = () => {
    if (!check.answer) return;
    const answer = check.answer;
    if (answer.error) {
      replace(result, h("div", { class: "notice notice-error" }, answer.error));
      return;
    }
    const verdict = answer.allowed ? pill(answer.outcome === "allowed_unbound" ? "Allowed (creator)" : "Allowed", "good") : pill("Refused", "bad");
    replace(result, h("div", { class: `notice ${answer.allowed ? "notice-good" : "notice-error"}`, "data-test": "check-answer" },
      verdict, " ", answer.policy ? h("strong", {}, `policy ${answer.policy}: `) : null, h("span", { class: "reason" }, answer.reason)));
  };
  show();
  const form = h("form", { class: "check-form", "aria-labelledby": "check-title" },
    h("div", { class: "field" }, h("label", { for: "check-kind" }, "Resource"), kind),
    field("check-resource", "Name", check.resource, (value) => { check.resource = value; }, { required: true }),
    field("check-node", "Node id", check.node_id, (value) => { check.node_id = value; }, { placeholder: "node-…" }),
    field("check-digest", "Image digest", check.image_digest, (value) => { check.image_digest = value; }, { placeholder: "sha256:…" }),
    field("check-image", "Image", check.image, (value) => { check.image = value; }),
    field("check-service", "Service", check.service, (value) => { check.service = value; }),
    field("check-tenant", "Tenant", check.tenant, (value) => { check.tenant = value; }, { placeholder: "default" }),
    h("div", { class: "field field-button" }, h("button", { type: "submit", class: "button button-primary", id: "check-submit", disabled: !may("check") }, "Check")));
  on(form, "submit", async (event) => {
    event.preventDefault();
    const workload = { node_id: check.node_id.trim() };
    if (check.image_digest.trim()) workload.image_digest = check.image_digest.trim();
    if (check.image.trim()) workload.image = check.image.trim();
    if (check.service.trim()) workload.service = check.service.trim();
    const body = { workload };
    body[check.kind] = check.resource.trim();
    if (check.tenant.trim()) body.tenant = check.tenant.trim();
    try {
      check.answer = await api("POST", "/v1/policies/check", body);
    } catch (failure) {
      check.answer = { error: failure.message };
    }
    show();
  });
  return h("section", { class: "panel", "aria-labelledby": "check-title" },
    h("h2", { id: "check-title" }, "Would this workload get that?"),
    h("p", { class: "muted" }, "Runs the server's real decision for a workload, releasing nothing. The node's role and labels come from the inventory."),
    form, result);
}

async function policies(params) {
  const data = await api("GET", `/v1/fleet/policies?${listQuery(params)}`);
  const rows = data.policies.map((entry) => h("tr", { "data-id": entry.policy.name },
    cell("Policy", h("strong", {}, entry.policy.name), h("br", {}), h("span", { class: "muted" }, entry.policy.tenant)),
    cell("Grants to", subject(entry.policy.subject)),
    cell("Volumes", list(entry.policy.volumes)),
    cell("Secrets", list(entry.policy.secrets)),
    cell("Selects now", `${number.format(entry.selects_running)} running`)));
  return [
    heading("Policies", "What each policy grants to whom. Deny by default: anything no policy grants is refused."),
    toolbar("policies", params, { placeholder: "Policy, image, label, secret", noun: "policies", filters: [["", "All policies"]] }),
    table("Policies", ["Policy", "Grants to", "Volumes", "Secrets", "Selects now"], rows.length ? rows : [emptyRow(5, "No policy matches.")]),
    pager("policies", params, data.total),
    checkForm(),
  ];
}

// ---- audit --------------------------------------------------------------

/** The `before` cursors of the pages seen, to go back to newer ones. */
const auditCursors = [];

/**
 * An audit record's principal (`token:tok_…`, `node:node-…`): whole, on one
 * line where it fits, else broken after its kind, never inside the id.
 */
function principal(text) {
  if (!text) return h("span", { class: "muted" }, "—");
  const colon = text.indexOf(":");
  if (colon < 0) return h("span", { class: "mono principal" }, text);
  return h("span", { class: "mono principal" }, text.slice(0, colon + 1), h("wbr", {}), text.slice(colon + 1));
}
let auditVerdict = null;

async function audit(params) {
  if (!may("audit")) {
    return [heading("Audit"), h("p", { class: "notice notice-error", role: "alert" }, `Your role (${session().role}) cannot read the audit log; an auditor or admin token for all tenants can.`)];
  }
  const query = new URLSearchParams();
  for (const name of ["operation", "principal", "result", "q", "before"]) {
    if (params.get(name)) query.set(name, params.get(name));
  }
  query.set("limit", String(PAGE));
  const data = await api("GET", `/v1/fleet/audit?${query}`);
  const filters = {};
  const input = (name, label, placeholder) => {
    const element = h("input", { id: `audit-${name}`, name, type: "text", value: params.get(name) || "", placeholder, autocomplete: "off", spellcheck: "false" });
    filters[name] = element;
    return h("div", { class: "field" }, h("label", { for: `audit-${name}` }, label), element);
  };
  const result = h("select", { id: "audit-result", name: "result" },
    [["", "Any result"], ["ok", "Allowed"], ["refused", "Refused or failed"]].map(([value, label]) => {
      const option = h("option", { value }, label);
      if ((params.get("result") || "") === value) option.selected = true;
      return option;
    }));
  const form = h("form", { class: "toolbar", role: "search", "aria-label": "Filter audit records" },
    input("operation", "Operation", "node. or policy.decide"),
    input("principal", "Principal", "token:… or node:…"),
    h("div", { class: "field" }, h("label", { for: "audit-result" }, "Result"), result),
    input("q", "Object or tenant", ""),
    h("button", { type: "submit", class: "button" }, "Apply"));
  on(form, "submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [name, element] of Object.entries(filters)) if (element.value.trim()) next.set(name, element.value.trim());
    if (result.value) next.set("result", result.value);
    auditCursors.length = 0;
    navigate("audit", next);
  });
  const verify = h("button", { type: "button", class: "button", id: "audit-verify" }, "Verify the chain");
  const verdict = h("div", { id: "audit-verdict", role: "status", "aria-live": "polite" });
  const showVerdict = () => {
    if (!auditVerdict) return;
    replace(verdict, h("div", { class: `notice ${auditVerdict.ok ? "notice-good" : "notice-error"}`, "data-test": "audit-verdict" },
      auditVerdict.ok ? pill("Intact", "good") : pill("Tampered", "bad"), " ", auditVerdict.message));
  };
  showVerdict();
  on(verify, "click", async () => {
    verify.disabled = true;
    replace(verdict, h("span", { class: "muted" }, "Verifying every record…"));
    try {
      auditVerdict = await api("POST", "/v1/audit/verify");
    } catch (failure) {
      auditVerdict = { ok: false, message: failure.message };
    }
    verify.disabled = false;
    showVerdict();
  });
  const rows = data.records.map((record) => {
    if (record.undecodable) {
      return h("tr", { class: "flagged" }, cell("Seq", String(record.seq)), h("td", { colspan: 7 }, "This record no longer decodes: verify the chain."));
    }
    return h("tr", {},
      cell("Seq", h("span", { class: "mono" }, String(record.seq))),
      cell("Time", h("time", { class: "nowrap", datetime: record.time, title: record.time }, stamp.format(new Date(record.time)))),
      cell("Principal", principal(record.principal)),
      cell("Operation", h("span", { class: "mono" }, record.operation)),
      cell("Tenant", record.tenant || "—"),
      cell("Object", ident(record.object_id, 14)),
      cell("Result", record.result === "ok" ? pill("ok", "good") : pill(record.result, "bad")),
      cell("From", h("span", { class: "mono nowrap" }, record.remote || "—")));
  });
  const newer = h("button", { type: "button", class: "button", disabled: !params.get("before") }, "‹ Newer");
  const older = h("button", { type: "button", class: "button", disabled: !data.next_before }, "Older ›");
  on(newer, "click", () => {
    const next = new URLSearchParams(params);
    const previous = auditCursors.pop();
    if (previous) next.set("before", previous);
    else next.delete("before");
    navigate("audit", next);
  });
  on(older, "click", () => {
    const next = new URLSearchParams(params);
    auditCursors.push(params.get("before") || "");
    next.set("before", String(data.next_before));
    navigate("audit", next);
  });
  return [
    heading("Audit", `${number.format(data.head)} records in the hash-chained log, newest first.`),
    h("div", { class: "panel panel-row" }, verify, verdict),
    form,
    table("Audit records", ["Seq", "Time", "Principal", "Operation", "Tenant", "Object", "Result", "From"],
      rows.length ? rows : [emptyRow(8, `No record matches among the ${number.format(data.scanned)} read.`)], { class: "table-dense" }),
    h("nav", { class: "pager", "aria-label": "Pages" }, h("span", { class: "muted" }, `${number.format(data.scanned)} records read for this page`), h("div", { class: "pager-buttons" }, newer, older)),
  ];
}

export const VIEWS = {
  overview: { title: "Overview", render: overview, topics: ["overview", "nodes", "volumes", "objects", "workloads", "policies"] },
  nodes: { title: "Nodes", render: nodes, topics: ["nodes"] },
  volumes: { title: "Volumes", render: volumes, topics: ["volumes"] },
  objects: { title: "Keys & secrets", render: objects, topics: ["objects"] },
  workloads: { title: "Workloads", render: workloads, topics: ["workloads"] },
  policies: { title: "Policies", render: policies, topics: ["policies"] },
  audit: { title: "Audit", render: audit, topics: ["audit"] },
};
