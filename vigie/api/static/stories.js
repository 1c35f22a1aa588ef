// The Stories page: the stories of the last hours (GET /api/stories), breaking ones marked with why,
// each with a sparkline of its articles per hour and its first articles grouped by language and source
// (one GET /api/stories/articles for the whole page); "all N articles" or a click on the title opens
// every article (GET /api/stories/{id}). Refreshed every 30 s.
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

  const SHOWN = 6; // articles shown per story before "all N articles"

  function grouped(byLanguage, articles) {
    // Per language, then per source: "source · title, title" with each title linked to the article.
    const titles = Object.fromEntries(articles.map((a) => [a.id, a]));
    return Object.entries(byLanguage).sort().map(([language, sources]) =>
      el("div", { class: "story-language", data: { language } }, el("h3", { text: language }),
        el("ul", {}, ...Object.entries(sources).sort().map(([source, ids]) =>
          el("li", {}, el("span", { class: "source muted", text: source }),
            ...ids.flatMap((id, i) => [i ? ", " : " · ",
              el("a", { href: `/articles/${encodeURIComponent(id)}`, text: (titles[id] && titles[id].title) || id })]))))));
  }

  function compact(story, first, holder) {
    // The first articles, grouped; the rest behind a button (collapsed).
    holder.dataset.view = "compact";
    const shown = first ? first.articles.length : 0;
    const more = story.size - shown;
    holder.replaceChildren(
      ...(first ? grouped(first.by_language, first.articles) : []),
      more > 0 ? el("button", { type: "button", class: "more link",
        text: `all ${story.size} articles (${more} more)`, onclick: () => details(story, first, holder) }) : "");
  }

  async function details(story, first, holder) {
    if (holder.dataset.view === "all") {
      compact(story, first, holder);
      return;
    }
    try {
      const full = await api(`/api/stories/${encodeURIComponent(story.id)}`);
      holder.dataset.view = "all";
      holder.replaceChildren(...grouped(full.by_language, full.articles),
        story.size > SHOWN ? el("button", { type: "button", class: "more link", text: "fewer",
          onclick: () => compact(story, first, holder) }) : "");
    } catch (error) {
      showError(holder, error);
    }
  }

  function item(story, first) {
    const holder = el("div", { class: "story-articles" });
    compact(story, first, holder);
    const trend = story.trend;
    return el("li", { class: "story result", data: { id: story.id, level: trend ? trend.level : "none" } },
      el("div", { class: "story-head" },
        trend ? el("span", { class: `badge ${trend.level}`, text: trend.level }) : "",
        el("a", { href: "#", class: "story-title", text: story.headline || "(no title)",
          onclick: (event) => { event.preventDefault(); details(story, first, holder); } }),
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
      let firsts = {};
      if (stories.length) {
        const ids = stories.map((story) => story.id).join(",");
        firsts = (await api(`/api/stories/articles?${new URLSearchParams({ ids, limit: String(SHOWN) })}`)).stories;
      }
      list.replaceChildren(...(stories.length ? stories.map((story) => item(story, firsts[story.id]))
        : [el("li", { class: "muted", text: "No story yet." })]));
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
