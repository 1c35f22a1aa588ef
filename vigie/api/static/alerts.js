// The alerts page: the alerts (GET /api/alerts) with buttons to test, pause, resume and remove each,
// a form to create one (POST /api/alerts, topics from GET /api/topics), and the live notifications
// (GET /api/notifications/stream, Server-Sent Events; the browser resumes it by itself after a cut).
"use strict";

(function () {
  const { el, marked, api, query, formatDate, relative, hostOf, showError, explain, token, setToken, subscribe } = window.Vigie;
  const BACKLOG = 20;
  const KEEP = 100; // notifications kept on the page

  function message(text, kind, ...extra) {
    document.getElementById("alert-message").replaceChildren(
      el("div", { class: kind, role: kind === "error" ? "alert" : null }, el("p", { text }), ...extra));
  }

  function list(text) {
    return text.split(",").map((item) => item.trim()).filter(Boolean);
  }

  // The rule in words, as index.alert_feed.describe says it.
  function describe(alert) {
    const parts = [];
    if (alert.topics.length) {
      parts.push(alert.topics.join(alert.all_topics ? " and " : " or ") + (alert.min_score !== null ? ` (score ≥ ${alert.min_score})` : ""));
    }
    if (alert.query) parts.push(`“${alert.query}”`);
    if (alert.entities.length) parts.push(`naming ${alert.entities.join(" and ")}`);
    if (alert.languages.length) parts.push(`in ${alert.languages.join(", ")}`);
    if (alert.feeds.length) parts.push(`from ${alert.feeds.join(", ")}`);
    if (alert.tags && alert.tags.length) parts.push(`from feeds tagged ${alert.tags.join(" or ")}`);
    return parts.join("; ");
  }

  function deliveryText(delivery) {
    const mode = delivery.mode === "immediate" ? "each match" : `${delivery.mode} digest`;
    if (delivery.email) return [`${mode} → e-mail ${delivery.email}`, `e-mailed to ${delivery.email}`];
    if (!delivery.webhook) return ["stored only", "no webhook: listed here and in the Atom feed"];
    return [`${mode} → ${hostOf(delivery.webhook) || "webhook"}`, delivery.webhook];
  }

  // How often the alert fired: "3 matches, last 5 min ago" (the API's matches and last_match).
  function firedText(alert) {
    const fired = alert.fired;
    if (!fired) return null;
    if (!fired.matches) return "no match yet";
    return `${fired.matches.toLocaleString()} match${fired.matches === 1 ? "" : "es"}, last ${relative(fired.last_match)}`;
  }

  // -- the alerts ------------------------------------------------------------------------------------

  function row(alert) {
    const [delivery, where] = deliveryText(alert.delivery);
    const path = `/api/alerts/${encodeURIComponent(alert.alert_id)}`;
    return el("tr", { data: { id: alert.alert_id, state: alert.paused ? "paused" : "active" } },
      el("td", { "data-label": "Alert" }, el("strong", { text: alert.name }), el("div", { class: "rule", text: describe(alert) })),
      el("td", { "data-label": "State" }, el("span", { class: `status ${alert.paused ? "quiet" : "ok"}`, text: alert.paused ? "paused" : "active" }),
        firedText(alert) ? el("div", { class: "fired", title: alert.fired.last_match ? formatDate(alert.fired.last_match) : null, text: firedText(alert) }) : null),
      el("td", { "data-label": "Delivery", title: where, class: "why-text", text: delivery }),
      el("td", { class: "actions" },
        el("button", { type: "button", class: "plain test", text: "Test", onclick: () => backtest(alert) }),
        el("button", { type: "button", class: "plain toggle", text: alert.paused ? "Resume" : "Pause",
          onclick: () => change(alert, alert.paused ? "resume" : "pause") }),
        el("a", { class: "feed", href: `${path}/feed`, title: "Atom feed of this alert's matches", text: "Atom feed" }),
        el("button", { type: "button", class: "danger remove", text: "Remove", onclick: () => remove(alert) })));
  }

  async function refresh() {
    const body = document.querySelector("#alerts-table tbody");
    try {
      let alerts;
      let countsError = null;
      try {
        alerts = await api("/api/alerts?counts=true");
      } catch (error) {
        // The alerts without how often they fired beat no alerts at all: the counts need one more search.
        if (error.status !== 503) throw error;
        countsError = error;
        alerts = await api("/api/alerts");
      }
      const rows = alerts.length ? alerts.map(row)
        : [el("tr", {}, el("td", { colspan: 4, class: "muted", text: "No alert yet: create one above." }))];
      if (countsError) {
        const cell = el("td", { colspan: 4, class: "counts-unavailable" });
        showError(cell, countsError);
        cell.prepend(el("p", { class: "muted", text: "How often each alert fired is not shown:" }));
        rows.push(el("tr", {}, cell));
      }
      body.replaceChildren(...rows);
    } catch (error) {
      const cell = el("td", { colspan: 4 });
      showError(cell, error);
      body.replaceChildren(el("tr", {}, cell));
    }
  }

  async function change(alert, action) {
    try {
      const changed = await api(`/api/alerts/${encodeURIComponent(alert.alert_id)}/${action}`, { method: "POST", write: true });
      message(`Alert “${changed.name}” ${action === "pause" ? "paused: it matches nothing until resumed" : "resumed: it matches the next articles"}.`, "notice");
    } catch (error) {
      message(explain(error), "error");
    }
    refresh();
  }

  async function remove(alert) {
    if (!confirm(`Remove the alert “${alert.name}”? Its notifications are kept.`)) return;
    try {
      await api(`/api/alerts/${encodeURIComponent(alert.alert_id)}`, { method: "DELETE", write: true });
      message(`Alert “${alert.name}” removed.`, "notice");
    } catch (error) {
      message(explain(error), "error");
    }
    refresh();
  }

  async function add(event) {
    event.preventDefault();
    setToken(document.getElementById("api-token").value.trim());
    const value = (id) => document.getElementById(id).value.trim();
    const body = {
      name: value("alert-name"),
      topics: [...document.querySelectorAll("#topic-choices input:checked")].map((box) => box.value),
      all_topics: document.querySelector("input[name='topic-mode']:checked").value === "all",
      query: value("alert-query"),
      entities: list(value("alert-entities")),
      languages: list(value("alert-languages")),
      tags: list(value("alert-tags")),
    };
    if (value("alert-min-score")) body.min_score = Number(value("alert-min-score"));
    if (value("alert-webhook")) body.webhook = value("alert-webhook");
    if (value("alert-email")) body.email = value("alert-email");
    if (value("alert-digest")) body.digest = value("alert-digest");
    try {
      const alert = await api("/api/alerts", { method: "POST", body, write: true });
      const secret = alert.delivery.webhook
        ? el("p", {}, "Webhook secret, shown this once (it signs every POST): ", el("code", { class: "secret", text: alert.delivery.secret }))
        : null;
      message(`Alert “${alert.name}” created: it applies to the next articles indexed.`, "notice", secret);
      document.getElementById("add-alert").reset();
      document.getElementById("api-token").value = token();
    } catch (error) {
      message(explain(error), "error");
    }
    refresh();
  }

  async function loadTopics() {
    const box = document.getElementById("topic-choices");
    try {
      const topics = await api("/api/topics");
      box.replaceChildren(...topics.map((topic) => el("label", { class: "inline chip", title: topic.label },
        el("input", { type: "checkbox", name: "topic", value: topic.name }), topic.name)));
    } catch (error) {
      showError(box, error);
    }
  }

  // -- backtest --------------------------------------------------------------------------------------

  function renderHit(hit) {
    const titleHighlight = hit.highlights.title && hit.highlights.title[0];
    return el("article", { class: "result", data: { id: hit.id } },
      el("h3", { class: "result-title" }, el("a", { href: `/articles/${encodeURIComponent(hit.id)}` },
        titleHighlight ? marked(titleHighlight) : (hit.title || "(no title)"))),
      el("div", { class: "meta" }, el("span", { text: hit.language }), el("span", { text: formatDate(hit.published || hit.indexed_at) }),
        hit.url ? el("span", { text: hostOf(hit.url) }) : null,
        ...hit.topics.map((topic) => el("span", { class: "chip", text: `${topic.name} ${Math.round(topic.score * 100)}%` }))),
      (hit.highlights.text || []).slice(0, 2).map((fragment) => el("p", { class: "snippet" }, "… ", marked(fragment), " …")));
  }

  async function backtest(alert) {
    const out = document.getElementById("backtest-results");
    const since = document.getElementById("backtest-since").value.trim();
    out.replaceChildren(el("p", { class: "muted", text: `Testing “${alert.name}”…` }));
    try {
      const found = await api(`/api/alerts/${encodeURIComponent(alert.alert_id)}/test?${query({ since, limit: 20 })}`);
      const when = found.since ? `since ${formatDate(found.since)}` : "at any date";
      const words = found.total === 1 ? "article" : "articles";
      out.replaceChildren(
        el("p", { class: "summary", text: `“${found.alert}” would have matched ${found.total.toLocaleString()} ${words} published ${when}` +
          (found.hits.length < found.total ? ` (the newest ${found.hits.length} below)` : "") }),
        ...found.hits.map(renderHit));
    } catch (error) {
      showError(out, error);
    }
    document.getElementById("backtest").scrollIntoView({ block: "nearest" });
  }

  // -- live notifications ----------------------------------------------------------------------------

  function stateChip(item) {
    const attempts = item.attempts > 1 ? ` (${item.attempts} attempts)` : "";
    return el("span", { class: `state ${item.state}`, title: item.last_error || null, text: item.state + attempts });
  }

  function notification(item) {
    const matched = item.matched;
    const why = [
      ...matched.topics.map((topic) => el("span", { class: "chip topic", title: `topic (evidence: ${topic.evidence.join(", ")})`,
        text: `${topic.name} ${Math.round(topic.score * 100)}%` })),
      ...matched.terms.map((term) => el("span", { class: "chip term", title: "word of the query", text: term })),
      // A query word that is also a name in the article is shown once, as a word of the query.
      ...matched.entities.filter((entity) => !matched.terms.includes(entity)).map((entity) => el("span", { class: "chip entity", title: "name in the article", text: entity })),
    ];
    return el("li", { data: { id: item.notification_id, state: item.state, created: item.created_at } },
      el("div", { class: "meta" }, el("strong", { class: "alert-name", text: item.alert_name }),
        el("time", { datetime: item.created_at, title: formatDate(item.created_at), text: relative(item.created_at) }),
        stateChip(item)),
      el("a", { class: "title", href: `/articles/${encodeURIComponent(item.article_id)}`, text: item.title || item.article_id }),
      why.length ? el("div", { class: "chips why", "aria-label": "Why it matched" }, why) : null);
  }

  // Newest first; a notification that arrives late goes where its time puts it.
  function show(item) {
    const listNode = document.getElementById("notifications");
    const existing = listNode.querySelector(`li[data-id="${CSS.escape(item.notification_id)}"]`);
    if (existing) {
      existing.replaceWith(notification(item));
      return;
    }
    const node = notification(item);
    const made = new Date(item.created_at);
    const after = [...listNode.children].find((li) => new Date(li.dataset.created) < made);
    listNode.insertBefore(node, after || null);
    while (listNode.children.length > KEEP) listNode.lastElementChild.remove();
  }

  function setLive(text, kind) {
    const badge = document.getElementById("live-state");
    badge.textContent = text;
    badge.className = `status ${kind}`;
  }

  function listen() {
    subscribe(`/api/notifications/stream?${query({ backlog: BACKLOG })}`, ["notification", "notification-update", "status"],
      (type, data) => {
        if (type === "status") {
          if (data.elasticsearch === "ok") setLive("live", "ok");
          else setLive("notifications cannot be read: retrying", "failing");
        } else {
          show(data);
        }
      },
      (state) => setLive(state === "live" ? "live" : state === "closed" ? "closed" : "reconnecting…", state === "live" ? "ok" : "quiet"));
    // Times such as “2 min ago” stay true.
    setInterval(() => {
      for (const time of document.querySelectorAll("#notifications time")) time.textContent = relative(time.getAttribute("datetime"));
    }, 30000);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const field = document.getElementById("api-token");
    field.value = token();
    field.addEventListener("change", () => setToken(field.value.trim()));
    document.getElementById("add-alert").addEventListener("submit", add);
    loadTopics();
    refresh();
    listen();
  });
})();
