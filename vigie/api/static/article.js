// The article page: the text with each entity mention marked (from the entity spans the analysis
// stored), the topics with their evidence, the entities by kind. GET /api/articles/{id}.
"use strict";

(function () {
  const { el, api, query, formatDate, hostOf, showError } = window.Vigie;
  const LABELS = ["PERSON", "LOCATION", "ORGANIZATION", "MISC"];
  const LABEL_NAMES = { PERSON: "People", LOCATION: "Places", ORGANIZATION: "Organisations", MISC: "Other" };

  // The text as nodes: plain text between mentions, <mark class="entity LABEL" data-label="LABEL">
  // around each mention. Spans are [start, end) offsets into the text; overlapping ones are skipped
  // (the first, longest wins), out-of-range ones ignored.
  function markedText(text, entities) {
    const spans = [];
    for (const entity of entities) {
      for (const [start, end] of entity.spans || []) {
        if (Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end <= text.length && start < end) {
          spans.push({ start, end, entity });
        }
      }
    }
    spans.sort((a, b) => a.start - b.start || b.end - a.end);
    const out = document.createDocumentFragment();
    let at = 0;
    for (const span of spans) {
      if (span.start < at) continue;
      if (span.start > at) out.append(document.createTextNode(text.slice(at, span.start)));
      const label = LABELS.includes(span.entity.label) ? span.entity.label : "MISC";
      out.append(el("mark", {
        class: `entity ${label}`, data: { label, key: span.entity.key }, title: `${label}: ${span.entity.text}`,
        text: text.slice(span.start, span.end),
      }));
      at = span.end;
    }
    if (at < text.length) out.append(document.createTextNode(text.slice(at)));
    return out;
  }

  function renderTopics(topics) {
    const section = document.getElementById("topics");
    const items = topics.length ? topics.map((topic) => el("div", { class: "topic", data: { topic: topic.name } },
      el("div", { class: "meta" },
        el("a", { href: `/search?${query({ topic: topic.name })}`, text: topic.name }),
        el("span", { text: `${Math.round(topic.score * 100)}%` })),
      el("div", { class: "bar", "aria-hidden": "true" }, barOf(topic.score)),
      el("div", { class: "chips evidence", title: "Evidence: what in the text made this topic" },
        topic.evidence.map((item) => el("span", { class: "chip", text: item })))))
      : [el("p", { class: "muted", text: "No topic found." })];
    section.replaceChildren(el("h3", { text: "Topics" }), ...items);
  }

  function barOf(score) {
    const bar = el("span");
    bar.style.width = `${Math.max(0, Math.min(1, score)) * 100}%`; // a CSSOM property, allowed by the CSP
    return bar;
  }

  function renderEntities(entities) {
    const section = document.getElementById("entities");
    const blocks = [el("h3", { text: "Entities" })];
    for (const label of LABELS) {
      const group = entities.filter((entity) => entity.label === label);
      if (!group.length) continue;
      blocks.push(el("h3", { text: LABEL_NAMES[label] }), el("ul", {}, group.map((entity) =>
        el("li", {},
          el("a", { href: `/entities/${encodeURIComponent(entity.text)}`, class: `chip ${label}`, text: entity.text,
            title: `What Vigie knows of ${entity.text}` }),
          el("span", { class: "muted", text: ` ×${entity.mentions} · ` }),
          el("a", { href: `/search?${query({ entity: entity.key || entity.text })}`, class: "muted", text: "articles" })))));
    }
    if (blocks.length === 1) blocks.push(el("p", { class: "muted", text: "No entity found." }));
    section.replaceChildren(...blocks);
  }

  async function load() {
    const id = decodeURIComponent(location.pathname.slice("/articles/".length));
    if (document.referrer && new URL(document.referrer).origin === location.origin && new URL(document.referrer).pathname === "/search") {
      document.getElementById("back").setAttribute("href", new URL(document.referrer).pathname + new URL(document.referrer).search);
    }
    try {
      const article = await api(`/api/articles/${encodeURIComponent(id)}`);
      document.title = `Vigie · ${article.title || article.id}`;
      document.getElementById("article-title").textContent = article.title || "(no title)";
      document.getElementById("article-meta").replaceChildren(
        el("span", { text: `language ${article.language}` }),
        el("span", { text: `published ${formatDate(article.published)}` }),
        el("span", { text: `indexed ${formatDate(article.indexed_at)}` }),
        article.url ? el("a", { href: article.url, rel: "noopener noreferrer", target: "_blank", text: `source: ${article.feed_title || hostOf(article.url)}` }) : null,
        ...article.warnings.map((warning) => el("span", { class: "chip", text: warning })));
      document.getElementById("article-text").replaceChildren(markedText(article.text, article.entities));
      renderTopics(article.topics);
      renderEntities(article.entities);
    } catch (error) {
      document.getElementById("article-title").textContent = error.status === 404 ? "No such article" : "Cannot show this article";
      showError(document.getElementById("article-text"), error);
    }
  }

  document.addEventListener("DOMContentLoaded", load);
})();
