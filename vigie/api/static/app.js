// Vigie's web page: what every page shares. No framework, no build step.
//
// Everything that comes from the index (titles, texts, entity names, feed errors) is untrusted: it
// reaches the page only as text nodes (el(), textContent), never through innerHTML. Search
// highlights are the one place with markup, and only their <mark> tags are turned into elements.
"use strict";

(function () {
  const NAV = [
    { href: "/", label: "Stories", current: (p) => p === "/" || p.startsWith("/stories") },
    { href: "/search", label: "Search", current: (p) => p.startsWith("/search") || p.startsWith("/articles/") || p.startsWith("/entities/") },
    { href: "/feeds", label: "Feeds", current: (p) => p.startsWith("/feeds") },
    { href: "/alerts", label: "Alerts", current: (p) => p.startsWith("/alerts") },
  ];
  const TOKEN_KEY = "vigie.apiToken";

  // el("a", { href: "/x", class: "c", text: "t", data: { id: 1 } }, child, ...)
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "text") node.textContent = String(value);
      else if (name === "class") node.className = value;
      else if (name === "data") for (const [key, item] of Object.entries(value)) node.dataset[key] = String(item);
      else if (name === "href") {
        const safe = safeHref(value);
        if (safe) node.setAttribute("href", safe);
      } else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // Links from the index may only be http(s) or this site's own paths (no javascript: URLs).
  function safeHref(url) {
    if (typeof url !== "string") return null;
    if (url.startsWith("/") && !url.startsWith("//")) return url;
    try {
      const parsed = new URL(url);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (_) {
      return null;
    }
  }

  // A highlight fragment from Elasticsearch: stored text with <mark>…</mark> around the matches.
  // Split on exactly those two tags; everything else becomes text, escaped by the DOM.
  function marked(fragment) {
    const out = document.createDocumentFragment();
    let inside = false;
    for (const part of String(fragment).split(/(<mark>|<\/mark>)/)) {
      if (part === "<mark>") inside = true;
      else if (part === "</mark>") inside = false;
      else if (part) out.append(inside ? el("mark", { text: part }) : document.createTextNode(part));
    }
    return out;
  }

  class ApiError extends Error {
    constructor(status, body, retryAfter) {
      super((body && body.message) || `HTTP ${status}`);
      this.status = status;
      this.body = body || {};
      this.retryAfter = retryAfter;
    }
  }

  // The token lives in sessionStorage: gone with the tab, never on disk for every page of the origin.
  function token() {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  }

  function setToken(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  }

  // fetch() of the JSON API; writes carry the token from sessionStorage. Throws ApiError.
  async function api(path, { method = "GET", body, write = false, signal } = {}) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (write && token()) headers.Authorization = `Bearer ${token()}`;
    const response = await fetch(path, {
      method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (!response.ok) throw new ApiError(response.status, data, response.headers.get("Retry-After"));
    return data;
  }

  function query(params) {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) {
      for (const item of Array.isArray(value) ? value : [value]) {
        if (item !== undefined && item !== null && item !== "" && item !== false) search.append(name, String(item));
      }
    }
    return search.toString();
  }

  const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

  function formatDate(iso) {
    if (!iso) return "–";
    const moment = new Date(iso);
    return Number.isNaN(moment.getTime()) ? String(iso) : dateFormat.format(moment);
  }

  function relative(iso) {
    if (!iso) return "–";
    const seconds = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
    if (Number.isNaN(seconds)) return String(iso);
    const size = Math.abs(seconds);
    const [amount, unit] = size < 60 ? [size, "s"] : size < 3600 ? [Math.round(size / 60), "min"]
      : size < 86400 ? [Math.round(size / 3600), "h"] : [Math.round(size / 86400), "d"];
    if (size < 5) return "now";
    return seconds > 0 ? `in ${amount} ${unit}` : `${amount} ${unit} ago`;
  }

  function hostOf(url) {
    try {
      return new URL(url).hostname;
    } catch (_) {
      return "";
    }
  }

  // Replace the content of `node` with a readable message for `error`.
  function showError(node, error) {
    let text = error instanceof ApiError ? error.message : `The request failed: ${error.message || error}`;
    if (error instanceof ApiError && error.status === 503) text += " (a service is down; try again in a moment)";
    node.replaceChildren(el("p", { class: "error", role: "alert", text }));
  }

  // A write's error in words for the person who made it: which field is wrong, or what to do.
  function explain(error) {
    if (error.status === 401) return `${error.message}. Paste the token in the “API token” field.`;
    if (error.status === 429) return `${error.message}.`;
    if (error.body && Array.isArray(error.body.errors)) {
      return error.body.errors.map((item) => (item.location ? `${item.location}: ${item.message}` : item.message)).join("; ");
    }
    return error.message;
  }

  // Server-Sent Events (the live notifications of the alerts page): calls onEvent(type, data) for each
  // event of `types`; the browser reconnects by itself. Returns the EventSource (close() to stop).
  function subscribe(url, types, onEvent, onState) {
    const source = new EventSource(url);
    for (const type of types) {
      source.addEventListener(type, (event) => {
        let data = null;
        try {
          data = JSON.parse(event.data);
        } catch (_) {
          return;
        }
        onEvent(type, data);
      });
    }
    if (onState) {
      source.addEventListener("open", () => onState("live"));
      source.addEventListener("error", () => onState(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting"));
    }
    return source;
  }

  function renderNav() {
    const nav = document.getElementById("nav");
    if (!nav) return;
    const path = location.pathname;
    nav.replaceChildren(el("a", { href: "/", class: "brand", text: "Vigie" }),
      ...NAV.map((item) => el("a", { href: item.href, text: item.label, "aria-current": item.current(path) ? "page" : null })));
  }

  // "/" anywhere but in a field goes to the search box (the search page's, or the search page).
  function slashToSearch(event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))) return;
    event.preventDefault();
    const box = document.getElementById("q");
    if (box) {
      box.focus();
      box.select();
    } else {
      location.assign("/search");
    }
  }

  window.Vigie = { el, marked, safeHref, api, ApiError, query, token, setToken, formatDate, relative, hostOf, showError, explain, subscribe };
  document.addEventListener("DOMContentLoaded", renderNav);
  document.addEventListener("keydown", slashToSearch);
})();
