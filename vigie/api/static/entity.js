// An entity's page (GET /api/entities/{name}): one identity whatever the spelling or the script, with the
// forms the articles wrote it in, its languages, its articles per day, the entities named with it and
// its latest articles. Every name on it links on: company to their own page, articles to the article page.
"use strict";

(function () {
  const { el, api, query, formatDate, hostOf, showError } = window.Vigie;
  const SVG = "http://www.w3.org/2000/svg";
  const LABEL_NAMES = { PERSON: "person", LOCATION: "place", ORGANIZATION: "organisation" };

  // One bar per day from the first day it was named to the last (days without articles included).
  function daysChart(days) {
    const counts = new Map(days.map((day) => [day.day, day.articles]));
    const keys = [...counts.keys()].sort();
    const values = [];
    const labels = [];
    if (keys.length) {
      const last = new Date(`${keys[keys.length - 1]}T00:00:00Z`);
      for (let at = new Date(`${keys[0]}T00:00:00Z`); at <= last && values.length < 400; at = new Date(at.getTime() + 86400000)) {
        const key = at.toISOString().slice(0, 10);
        labels.push(key);
        values.push(counts.get(key) || 0);
      }
    }
    const top = Math.max(1, ...values);
    const width = Math.max(40, values.length * 6);
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "volume-chart");
    svg.setAttribute("viewBox", `0 0 ${width} 40`);
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", `articles per day: ${values.join(", ")}`);
    values.forEach((value, i) => {
      const bar = document.createElementNS(SVG, "rect");
      const height = value ? Math.max(2, (38 * value) / top) : 0;
      bar.setAttribute("x", String(i * 6));
      bar.setAttribute("y", String(40 - height));
      bar.setAttribute("width", "5");
      bar.setAttribute("height", String(height));
      const tip = document.createElementNS(SVG, "title");
      tip.textContent = `${labels[i]}: ${value}`;
      bar.appendChild(tip);
      svg.appendChild(bar);
    });
    return [svg, el("figcaption", { class: "muted",
      text: keys.length ? `articles per day, ${keys[0]} to ${keys[keys.length - 1]}` : "no dated article" })];
  }

  function render(profile) {
    document.title = `Vigie · ${profile.name}`;
    document.getElementById("entity-name").textContent = profile.name;
    document.getElementById("entity-meta").replaceChildren(
      el("span", { class: `chip ${profile.label}`, text: LABEL_NAMES[profile.label] || profile.label || "entity" }),
      el("span", { text: `${profile.articles} article(s)` }),
      el("span", { class: "muted", title: "Wikidata QID where known, else a Vigie id", text: profile.id }),
      el("a", { href: `/search?${query({ entity: profile.name })}`, text: "search its articles →" }));
    document.getElementById("entity-days").replaceChildren(...daysChart(profile.days));
    document.getElementById("entity-variants").replaceChildren(el("h3", { text: "Written as" }),
      el("ul", {}, profile.variants.map((variant) =>
        el("li", { data: { variant: variant.text } }, el("span", { text: variant.text }),
          el("span", { class: "muted", text: ` · ${variant.articles} article(s)` })))));
    document.getElementById("entity-languages").replaceChildren(el("h3", { text: "Languages" }),
      el("ul", {}, profile.languages.map((item) =>
        el("li", { data: { language: item.language } },
          el("a", { href: `/search?${query({ entity: profile.name, lang: item.language })}`, text: item.language }),
          el("span", { class: "muted", text: ` · ${item.articles} article(s)` })))));
    const company = profile.co_occurring.map((other) =>
      el("li", {}, el("a", { class: "chip", href: `/entities/${encodeURIComponent(other.id || other.name)}`, text: other.name }),
        el("span", { class: "muted", text: ` · ${other.articles} together` })));
    document.getElementById("entity-company").replaceChildren(el("h3", { text: "Named with" }),
      company.length ? el("ul", {}, company) : el("p", { class: "muted", text: "No other entity." }));
    document.getElementById("entity-latest").replaceChildren(el("h3", { text: "Latest articles" }),
      el("ol", { class: "plain-list" }, profile.latest.map((article) =>
        el("li", { data: { id: article.id } },
          el("a", { href: `/articles/${encodeURIComponent(article.id)}`, text: article.title || "(no title)" }),
          el("div", { class: "meta" }, el("span", { text: article.language || "" }),
            el("span", { text: formatDate(article.published) }),
            article.url ? el("span", { text: hostOf(article.url) }) : null)))));
  }

  async function load() {
    const name = decodeURIComponent(location.pathname.slice("/entities/".length));
    try {
      render(await api(`/api/entities/${encodeURIComponent(name)}?latest=20`));
    } catch (error) {
      document.getElementById("entity-name").textContent = error.status === 404 ? `No article names ${name}` : "Cannot show this entity";
      showError(document.getElementById("entity-meta"), error);
    }
  }

  document.addEventListener("DOMContentLoaded", load);
})();
