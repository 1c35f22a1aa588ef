// The Stories page: the stories of the last hours (GET /api/stories), breaking ones marked with why,
// each with a sparkline of its articles per hour; a click opens its articles grouped by language and
// source (GET /api/stories/{id}). Refreshed every 30 s.
"use strict";

(function () {
  const { el, api, relative, formatDate, showError } = window.Vigie;
  const REFRESH_MS = 30000;
  const SVG = "http://www.w3.org/2000/svg";
  const HOURS = 24;

  function sparkline(hours) {
    // The last HOURS hours, oldest first, one bar per hour (UTC keys "YYYY-MM-DDTHH").
    const now = new Date();
    const values = [];
    for (let i = HOURS - 1; i >= 0; i--) {
      const at = new Date(now.getTime() - i * 3600 * 1000);
      values.push(hours[at.toISOString().slice(0, 13)] || 0);
    }
    const top = Math.max(1, ...values);
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "sparkline");
    svg.setAttribute("viewBox", `0 0 ${HOURS * 4} 20`);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", `articles per hour over the last ${HOURS} hours: ${values.join(", ")}`);
    values.forEach((value, i) => {
      const bar = document.createElementNS(SVG, "rect");
      const height = value ? Math.max(2, (18 * value) / top) : 0;
      bar.setAttribute("x", String(i * 4));
      bar.setAttribute("y", String(20 - height));
      bar.setAttribute("width", "3");
      bar.setAttribute("height", String(height));
      svg.appendChild(bar);
    });
    return svg;
  }

  async function details(story, holder) {
    if (holder.childElementCount) {
      holder.replaceChildren();
      return;
    }
    try {
      const full = await api(`/api/stories/${encodeURIComponent(story.id)}`);
      const titles = Object.fromEntries(full.articles.map((a) => [a.id, a]));
      holder.replaceChildren(...Object.entries(full.by_language).sort().map(([language, sources]) =>
        el("div", { class: "story-language" }, el("h3", { text: language }),
          el("ul", {}, ...Object.entries(sources).sort().flatMap(([source, ids]) => ids.map((id) =>
            el("li", {}, el("span", { class: "muted", text: `${source} · ` }),
              el("a", { href: `/articles/${encodeURIComponent(id)}`, text: titles[id].title || id }))))))));
    } catch (error) {
      showError(holder, error);
    }
  }

  function item(story) {
    const holder = el("div", { class: "story-articles" });
    const trend = story.trend;
    return el("li", { class: "story result", data: { id: story.id, level: trend ? trend.level : "none" } },
      el("div", { class: "story-head" },
        trend ? el("span", { class: `badge ${trend.level}`, text: trend.level }) : "",
        el("a", { href: "#", class: "story-title", text: story.headline || "(no title)",
          onclick: (event) => { event.preventDefault(); details(story, holder); } }),
        sparkline(story.hours)),
      el("div", { class: "meta" },
        el("span", { text: `${story.size} article(s)` }),
        el("span", { text: story.languages.join(", ") }),
        el("span", { text: `${story.sources.length} source(s)` }),
        el("span", { title: formatDate(story.last_seen), text: `last ${relative(story.last_seen)}` })),
      trend ? el("div", { class: "why muted", text: trend.explanation }) : "",
      holder);
  }

  async function refresh() {
    const list = document.getElementById("stories");
    const since = document.getElementById("story-since").value;
    const breaking = document.getElementById("story-breaking").checked;
    try {
      const params = new URLSearchParams({ since, limit: "30" });
      if (breaking) params.set("breaking", "true");
      const { stories } = await api(`/api/stories?${params}`);
      list.replaceChildren(...(stories.length ? stories.map(item) : [el("li", { class: "muted", text: "No story yet." })]));
      document.getElementById("stories-updated").textContent =
        `${stories.length} stor${stories.length === 1 ? "y" : "ies"} · updated ${formatDate(new Date().toISOString())}`;
    } catch (error) {
      const holder = el("li");
      showError(holder, error);
      list.replaceChildren(holder);
    }
  }

  document.getElementById("story-since").addEventListener("change", refresh);
  document.getElementById("story-breaking").addEventListener("change", refresh);
  refresh();
  setInterval(refresh, REFRESH_MS);
})();
