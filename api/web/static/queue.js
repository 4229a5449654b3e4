/* 复核队列: records needing review, least confident first. */
"use strict";

(() => {
  const { el, api, query, fmtTime, confText, confClass } = FD;
  const LIMIT = 50;
  const params = new URLSearchParams(location.search);
  const station = document.getElementById("f-station");
  const template = document.getElementById("f-template");
  const tbody = document.querySelector("#queue-table tbody");
  const count = document.getElementById("queue-count");
  const start = document.getElementById("start-review");
  const pager = document.getElementById("pager");
  let offset = Number(params.get("offset") || 0);

  if (station) station.value = params.get("station") || "";

  function filters() {
    return { station: station ? station.value : "", template: template.value };
  }

  function reviewLink(id) {
    return `/review/${encodeURIComponent(id)}${query(filters())}`;
  }

  async function load() {
    const f = filters();
    history.replaceState(null, "", location.pathname + query({ ...f, offset: offset || "" }));
    tbody.replaceChildren(el("tr", {}, el("td", { colspan: 10, class: "muted", text: "加载中…" })));
    let list;
    try {
      list = await api(
        "GET",
        "/api/records" + query({ ...f, status: "needs_review", order: "least_confident", offset, limit: LIMIT })
      );
    } catch (err) {
      tbody.replaceChildren(el("tr", {}, el("td", { colspan: 10, class: "refused", text: err.message })));
      return;
    }
    count.textContent = `共 ${list.total} 条待复核`;
    start.hidden = !list.items.length;
    if (list.items.length) start.href = reviewLink(list.items[0].record_id);
    if (!list.items.length) {
      tbody.replaceChildren(
        el("tr", {}, el("td", { colspan: 10, class: "muted", text: "没有需要复核的记录。" }))
      );
    } else {
      tbody.replaceChildren(
        ...list.items.map((r, i) => {
          const tr = el(
            "tr",
            { class: "row-link", dataset: { recordId: r.record_id } },
            el("td", { class: "num muted", text: offset + i + 1 }),
            el("td", { text: r.template }),
            el("td", { class: "mono", text: r.document_id }),
            el("td", { text: r.copy_index }),
            el("td", { text: r.station || "—" }),
            el("td", { class: `num ${confClass(r.min_confidence)}`, text: confText(r.min_confidence) }),
            el("td", { class: "num", text: r.fields_to_check }),
            el("td", { class: "reasons small", text: (r.reasons || []).join(";") || "—" }),
            el("td", { text: fmtTime(r.created_at) }),
            el("td", {}, el("a", { href: reviewLink(r.record_id), text: "复核 →" }))
          );
          tr.addEventListener("click", (e) => {
            if (e.target.tagName !== "A") location.href = reviewLink(r.record_id);
          });
          return tr;
        })
      );
    }
    FD.renderPager(pager, list, offset, LIMIT, (next) => {
      offset = next;
      load();
    });
  }

  for (const s of [station, template]) {
    if (s)
      s.addEventListener("change", () => {
        offset = 0;
        load();
      });
  }
  document.getElementById("queue-filters").addEventListener("submit", (e) => e.preventDefault());
  FD.fillTemplateSelect(template, params.get("template")).then(load, load);
})();
