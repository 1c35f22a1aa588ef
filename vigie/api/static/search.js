// The search page: the state lives in the URL (?q=…&lang=fr&topic=…), so a search can be shared,
// bookmarked and gone back to. GET /api/search and GET /api/facets take the same parameters.
"use strict";

(function () {
  const { el, marked, api, query, formatDate, hostOf, showError } = window.Vigie;
  const LIMIT = 10;
  // Facet → the filter parameter a click on one of its buckets adds.
  const FACETS = [
    ["topics", "Topics", "topic"],
    ["languages", "Languages", "lang"],
    ["people", "People", "entity"],
    ["places", "Places", "entity"],
    ["organizations", "Organisations", "entity"],
    ["feeds", "Feeds", "feed"],
  ];
  const FILTERS = ["lang", "topic", "entity", "feed"];
  const SVG = "http://www.w3.org/2000/svg";
  let inFlight = null;

  function stateFromUrl() {
    const params = new URLSearchParams(location.search);
    const state = {
      q: params.get("q") || "",
      since: params.get("since") || "",
      until: params.get("until") || "",
      sort: params.get("sort") || "",
      collapse: params.get("collapse") === "true",
      offset: Math.max(0, parseInt(params.get("offset") || "0", 10) || 0),
    };
    for (const name of FILTERS) state[name] = params.getAll(name);
    return state;
  }

  function filled(state) {
    return state.q.trim() || FILTERS.some((name) => state[name].length) || state.since || state.until;
  }

  // Unless the reader picks one, the API's own rule (auto), the CLI's too: relevance when the query
  // has words, newest first when it is empty or only filters.
  function apiParams(state) {
    const sort = state.sort || "auto";
    const params = { q: state.q, since: state.since, until: state.until, sort, collapse: state.collapse };
    for (const name of FILTERS) params[name] = state[name];
    return params;
  }

  function urlFor(state) {
    const params = { q: state.q, since: state.since, until: state.until, sort: state.sort,
      collapse: state.collapse ? "true" : "", offset: state.offset || "" };
    for (const name of FILTERS) params[name] = state[name];
    const text = query(params);
    return text ? `/search?${text}` : "/search";
  }

  function go(state, push = true) {
    if (push) history.pushState(null, "", urlFor(state));
    fillForm(state);
    run(state);
  }

  function fillForm(state) {
    document.getElementById("q").value = state.q;
    document.getElementById("since").value = state.since;
    document.getElementById("until").value = state.until;
    document.getElementById("sort").value = state.sort || "";
    document.getElementById("collapse").checked = state.collapse;
    const chips = [];
    for (const name of FILTERS) {
      for (const value of state[name]) {
        chips.push(el("button", {
          type: "button", class: "chip", title: "Remove this filter",
          onclick: () => go({ ...stateFromUrl(), [name]: state[name].filter((item) => item !== value), offset: 0 }),
        }, `${name}: ${value}`, el("span", { class: "remove", "aria-hidden": "true", text: "×" })));
      }
    }
    document.getElementById("filters").replaceChildren(...chips);
  }

  function readForm() {
    const state = stateFromUrl();
    return {
      ...state,
      q: document.getElementById("q").value,
      since: document.getElementById("since").value.trim(),
      until: document.getElementById("until").value.trim(),
      sort: document.getElementById("sort").value,
      collapse: document.getElementById("collapse").checked,
      offset: 0,
    };
  }

  async function run(state) {
    if (inFlight) inFlight.abort();
    inFlight = new AbortController();
    const signal = inFlight.signal;
    const params = apiParams(state);
    const summary = document.getElementById("summary");
    const results = document.getElementById("results");
    summary.textContent = "Searching…";
    // the volume is asked for at once, beside the results: it draws when it comes, in its kept room
    volume(state, params, signal);
    try {
      const [found, facets] = await Promise.all([
        api(`/api/search?${query({ ...params, limit: LIMIT, offset: state.offset })}`, { signal }),
        api(`/api/facets?${query({ q: params.q, since: params.since, until: params.until, lang: params.lang,
          topic: params.topic, entity: params.entity, feed: params.feed, top: 8 })}`, { signal }),
      ]);
      renderResults(state, found);
      renderFacets(state, facets);
    } catch (error) {
      if (error.name === "AbortError") return;
      summary.textContent = "";
      showError(results, error);
      document.getElementById("pager").replaceChildren();
    }
  }

  function renderResults(state, found) {
    const words = found.total === 1 ? "article" : "articles";
    const what = state.q.trim() ? ` for “${state.q.trim()}”` : filled(state) ? "" : ", newest first";
    // past VIGIE_SEARCH_TOTAL_LIMIT the total is a lower bound: "10,000+", as the command line says it
    const counted = found.total_relation === "gte" ? `${found.total.toLocaleString()}+` : found.total.toLocaleString();
    document.getElementById("summary").textContent = `${counted} ${words}${what} · ${found.took_ms} ms`;
    document.getElementById("results").replaceChildren(...found.hits.map(renderHit));
    const pager = [];
    if (state.offset > 0) {
      pager.push(el("button", { type: "button", class: "plain", text: "← Newer results",
        onclick: () => go({ ...state, offset: Math.max(0, state.offset - LIMIT) }) }));
    }
    if (found.total > 0) {
      pager.push(el("span", { class: "muted", text: `${state.offset + 1}–${state.offset + found.hits.length} of ${counted}` }));
    }
    if (state.offset + LIMIT < found.total && state.offset + LIMIT < 10000) {
      pager.push(el("button", { type: "button", class: "plain", text: "More results →",
        onclick: () => go({ ...state, offset: state.offset + LIMIT }) }));
    }
    document.getElementById("pager").replaceChildren(...pager);
  }

  // Hours between `since` (7d, 12h, 30m or an ISO date) and now; null when it cannot be read here.
  function spanHours(since) {
    const relativeSpan = /^(\d+)\s*([dhm])$/.exec(since.trim());
    if (relativeSpan) return Number(relativeSpan[1]) * { d: 24, h: 1, m: 1 / 60 }[relativeSpan[2]];
    const moment = Date.parse(since);
    return Number.isNaN(moment) ? null : (Date.now() - moment) / 3600000;
  }

  // The query's volume over time (GET /api/volume, same query and filters): per hour over the last 48 h,
  // or per day when `since` reaches further back than 3 days; spikes are the API's (the trend test).
  async function volume(state, params, signal) {
    const figure = document.getElementById("volume");
    const span = params.since ? spanHours(params.since) : null;
    const interval = span !== null && span > 72 ? "day" : "hour";
    try {
      const data = await api(`/api/volume?${query({ q: params.q, since: params.since, until: params.until,
        lang: params.lang, topic: params.topic, entity: params.entity, feed: params.feed, interval })}`, { signal });
      renderVolume(figure, data);
    } catch (error) {
      if (error.name === "AbortError") return;
      showError(figure, error);
    }
  }

  function bucketLabel(key, interval) {
    const moment = new Date(key);
    return interval === "day" ? moment.toLocaleDateString(undefined, { month: "short", day: "numeric" })
      : moment.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  }

  function renderVolume(figure, data) {
    const buckets = data.buckets;
    const width = 4 * Math.max(1, buckets.length);
    const top = Math.max(1, ...buckets.map((bucket) => bucket.count));
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "volume-chart");
    svg.setAttribute("viewBox", `0 0 ${width} 40`);
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", `articles per ${data.interval}: ${buckets.map((bucket) => bucket.count).join(", ")}`);
    buckets.forEach((bucket, i) => {
      const bar = document.createElementNS(SVG, "rect");
      const height = bucket.count ? Math.max(2, (38 * bucket.count) / top) : 0;
      bar.setAttribute("x", String(i * 4));
      bar.setAttribute("y", String(40 - height));
      bar.setAttribute("width", "3");
      bar.setAttribute("height", String(height));
      if (bucket.level) bar.setAttribute("class", `spike ${bucket.level}`);
      const tip = document.createElementNS(SVG, "title");
      tip.textContent = `${bucketLabel(bucket.key, data.interval)}: ${bucket.count}`;
      bar.appendChild(tip);
      svg.appendChild(bar);
    });
    const spikes = buckets.filter((bucket) => bucket.level);
    const first = buckets.length ? bucketLabel(buckets[0].key, data.interval) : "";
    figure.replaceChildren(svg, el("figcaption", { class: "muted" },
      el("span", { text: `${data.total.toLocaleString()} article(s) per ${data.interval} since ${first}` }),
      ...spikes.map((bucket) => el("span", { class: `badge ${bucket.level}`, data: { key: bucket.key },
        text: `${bucket.level} ${bucketLabel(bucket.key, data.interval)}: ${bucket.count} (expected ${bucket.expected.toFixed(1)})` })),
      spikes.length ? el("span", { class: "why", title: data.rule, text: "why a spike?" }) : null));
    figure.dataset.spikes = String(spikes.length);
  }

  function renderHit(hit) {
    const titleHighlight = hit.highlights.title && hit.highlights.title[0];
    const title = titleHighlight ? marked(titleHighlight) : (hit.title || "(no title)");
    const meta = [
      el("span", { text: hit.language }),
      el("span", { text: formatDate(hit.published || hit.indexed_at) }),
      hit.feed_title || hit.url ? el("span", { class: "source", text: hit.feed_title || hostOf(hit.url) }) : null,
      ...hit.topics.map((topic) => el("span", { class: "chip", text: `${topic.name} ${Math.round(topic.score * 100)}%` })),
    ];
    const snippets = (hit.highlights.text || []).map((fragment) => el("p", { class: "snippet" }, "… ", marked(fragment), " …"));
    const people = hit.entities.slice(0, 6).map((entity) =>
      el("a", { class: `chip ${entity.label}`, title: `${entity.label}: what Vigie knows of ${entity.text}`,
        href: `/entities/${encodeURIComponent(entity.text)}`, text: entity.text }));
    return el("article", { class: "result", data: { id: hit.id } },
      el("h2", { class: "result-title" }, el("a", { href: `/articles/${encodeURIComponent(hit.id)}` }, title)),
      el("div", { class: "meta" }, meta),
      snippets,
      people.length ? el("div", { class: "chips" }, people) : null);
  }

  // A feed URL is long: its host and path say enough in a narrow column (the title has it whole).
  function feedName(url) {
    try {
      const parsed = new URL(url);
      return parsed.host + parsed.pathname;
    } catch (_) {
      return url;
    }
  }

  function renderFacets(state, facets) {
    const plural = (count, word) => `${count.toLocaleString()} ${word}${count === 1 ? "" : "s"}`;
    const blocks = [el("p", { class: "muted", text: `${plural(facets.total, "article")} · ${plural(facets.stories, "story").replace(/storys$/, "stories")}` })];
    for (const [key, label, filter] of FACETS) {
      const buckets = facets[key] || [];
      if (!buckets.length) continue;
      blocks.push(el("h3", { text: label }), el("ul", { data: { facet: key } }, buckets.map((bucket) =>
        el("li", {}, el("button", {
          type: "button", title: `Only ${filter}: ${bucket.key}`, disabled: state[filter].includes(bucket.key),
          onclick: () => go({ ...stateFromUrl(), [filter]: [...state[filter], bucket.key], offset: 0 }),
        }, el("span", { text: key === "feeds" ? (bucket.title || bucket.feed_title || feedName(bucket.key)) : bucket.key }),
        el("span", { class: "count", text: bucket.count.toLocaleString() }))))));
    }
    document.getElementById("facets").replaceChildren(...blocks);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const toggle = document.getElementById("filters-toggle");
    toggle.addEventListener("click", () => {
      const open = document.body.classList.toggle("filters-open");
      toggle.setAttribute("aria-expanded", String(open));
    });
    document.getElementById("search-form").addEventListener("submit", (event) => {
      event.preventDefault();
      go(readForm());
    });
    window.addEventListener("popstate", () => go(stateFromUrl(), false));
    go(stateFromUrl(), false);
  });
})();
