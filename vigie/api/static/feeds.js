// The feeds page: every followed feed with its health (GET /api/feeds, refreshed every 15 s), a form
// to follow one (POST /api/feeds) and a button to stop following one (DELETE /api/feeds/{id}).
"use strict";

(function () {
  const { el, api, relative, formatDate, showError, explain, token, setToken } = window.Vigie;
  const REFRESH_MS = 15000;

  function message(text, kind) {
    document.getElementById("feed-message").replaceChildren(el("p", { class: kind, role: kind === "error" ? "alert" : null, text }));
  }

  function row(feed) {
    const error = feed.last_error;
    return el("tr", { data: { id: feed.id, status: feed.status } },
      el("td", { "data-label": "Feed" }, el("div", { text: feed.name || feed.title || "(no name)" }),
        el("a", { class: "url", href: feed.url, rel: "noopener noreferrer", text: feed.url })),
      el("td", { "data-label": "Status" }, el("span", { class: `status ${feed.status}`, text: feed.status })),
      el("td", { "data-label": "Last success", title: formatDate(feed.last_success), text: relative(feed.last_success) }),
      el("td", { "data-label": "Last error" }, error ? [el("strong", { text: error.kind }), el("div", { class: "why-text", text: error.message || "" })] : "–"),
      el("td", { "data-label": "Failures", class: "num", text: feed.consecutive_failures }),
      el("td", { "data-label": "Next poll", title: formatDate(feed.next_poll), text: relative(feed.next_poll) }),
      el("td", { "data-label": "Items seen", class: "num", text: feed.items_seen.toLocaleString() }),
      el("td", { "data-label": "Interval", class: "num", text: `${Math.round(feed.interval)} s${feed.adaptive ? "" : " (fixed)"}` }),
      el("td", {}, el("button", { type: "button", class: "danger", text: "Remove", onclick: () => remove(feed) })));
  }

  async function refresh() {
    const body = document.querySelector("#feeds-table tbody");
    try {
      const feeds = await api("/api/feeds");
      body.replaceChildren(...(feeds.length ? feeds.map(row)
        : [el("tr", {}, el("td", { colspan: 9, class: "muted", text: "No feed followed yet." }))]));
      document.getElementById("feeds-updated").textContent = `${feeds.length} feed(s) · updated ${formatDate(new Date().toISOString())}`;
    } catch (error) {
      const cell = el("td", { colspan: 9 });
      showError(cell, error);
      body.replaceChildren(el("tr", {}, cell));
    }
  }

  async function remove(feed) {
    if (!confirm(`Stop following ${feed.url}? Its articles stay searchable.`)) return;
    try {
      await api(`/api/feeds/${encodeURIComponent(feed.id)}`, { method: "DELETE", write: true });
      message(`No longer following ${feed.url}.`, "notice");
    } catch (error) {
      message(explain(error), "error");
    }
    refresh();
  }

  async function add(event) {
    event.preventDefault();
    setToken(document.getElementById("api-token").value.trim());
    const interval = document.getElementById("feed-interval").value;
    const body = { url: document.getElementById("feed-url").value.trim() };
    const name = document.getElementById("feed-name").value.trim();
    if (name) body.name = name;
    if (interval) body.interval = Number(interval);
    try {
      const feed = await api("/api/feeds", { method: "POST", body, write: true });
      message(`Following ${feed.url}: it is polled now.`, "notice");
      document.getElementById("add-feed").reset();
      document.getElementById("api-token").value = token();
    } catch (error) {
      message(explain(error), "error");
    }
    refresh();
  }

  document.addEventListener("DOMContentLoaded", () => {
    const field = document.getElementById("api-token");
    field.value = token();
    field.addEventListener("change", () => setToken(field.value.trim()));
    document.getElementById("add-feed").addEventListener("submit", add);
    refresh();
    setInterval(refresh, REFRESH_MS);
  });
})();
