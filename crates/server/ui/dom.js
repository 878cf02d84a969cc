// Cryptainer console: building the page. Every element is made with
// createElement and every piece of data goes in as text (textContent or an
// attribute value), never as markup, so a name, label or message that
// contains markup shows as the characters it is.

/** Attributes that may be set; anything else (event handlers above all) is refused. */
const ALLOWED_ATTRIBUTES = new Set([
  "class", "id", "href", "type", "name", "value", "placeholder", "role", "title",
  "for", "tabindex", "colspan", "scope", "autocomplete", "spellcheck", "required",
  "disabled", "hidden", "min", "max", "step", "lang", "dir", "datetime",
  "aria-label", "aria-live", "aria-expanded", "aria-controls", "aria-current",
  "aria-describedby", "aria-labelledby", "aria-hidden", "aria-busy", "aria-sort",
  "aria-disabled", "aria-invalid", "aria-modal", "data-label", "data-view",
  "data-state", "data-ready", "data-kind", "data-id", "data-test",
]);

/**
 * Makes an element: `h("td", {class: "mono"}, "text", child, ...)`. Strings
 * and numbers become text nodes; null, undefined and false are skipped;
 * arrays are flattened.
 */
export function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (!ALLOWED_ATTRIBUTES.has(name)) throw new Error(`attribute ${name} is not allowed`);
    if (name === "href" && !String(value).startsWith("#")) {
      throw new Error("links stay inside the console");
    }
    element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

/** Appends `children` (text, elements, arrays of them) to `element`. */
export function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Replaces the content of `element`. */
export function replace(element, ...children) {
  element.replaceChildren();
  return append(element, children);
}

/** Binds `handler` to `event` on `element` and returns the element. */
export function on(element, event, handler) {
  element.addEventListener(event, handler);
  return element;
}

/** A status pill: `pill("Live", "good")`. */
export function pill(text, tone) {
  return h("span", { class: `pill pill-${tone || "neutral"}` }, text);
}

/** A monospaced identifier, shortened for the eye with the full text in its title. */
export function ident(text, keep) {
  if (!text) return h("span", { class: "muted" }, "—");
  const full = String(text);
  const limit = keep || 18;
  const shown = full.length > limit ? `${full.slice(0, limit)}…` : full;
  return h("span", { class: "mono", title: full }, shown);
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** 21474836480 → "20 GiB". */
export function bytes(count) {
  let value = Number(count);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = value >= 10 || Number.isInteger(value) ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** How long ago (or until) an RFC 3339 time is: "3 min ago", "in 2 h". */
export function relative(iso, now) {
  if (!iso) return "never";
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return String(iso);
  const seconds = Math.round(((now || Date.now()) - then) / 1000);
  const magnitude = Math.abs(seconds);
  let text;
  if (magnitude < 60) text = `${magnitude} s`;
  else if (magnitude < 7200) text = `${Math.round(magnitude / 60)} min`;
  else if (magnitude < 172800) text = `${Math.round(magnitude / 3600)} h`;
  else text = `${Math.round(magnitude / 86400)} days`;
  return seconds >= 0 ? `${text} ago` : `in ${text}`;
}

/** A <time> element showing a relative time, with the exact one in its title. */
export function when(iso) {
  if (!iso) return h("span", { class: "muted" }, "—");
  return h("time", { datetime: iso, title: new Date(iso).toLocaleString() }, relative(iso));
}

/** An empty-state row spanning `columns` columns. */
export function emptyRow(columns, text) {
  return h("tr", { class: "empty" }, h("td", { colspan: columns }, text));
}
