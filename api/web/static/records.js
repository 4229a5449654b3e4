/* 记录: filter, page through and export the records. */
"use strict";

(() => {
  const { el, api, query, fmtTime, badge, confText, confClass, RECORD_STATUS } = FD;
  const LIMIT = 50;
  const form = document.getElementById("record-filters");
  const tbody = document.querySelector("#records-table tbody");
  const pager = document.getElementById("pager");
  const NAMES = ["template", "station", "status", "date_from", "date_to", "q", "batch", "file"];
  let titles = {};
  const titlesReady = api("GET", "/api/templates")
    .then((list) => {
      titles = Object.fromEntries(list.map((t) => [t.code, t.title]));
    })
    .catch(() => {});

  /** The values that tell records apart (RecordSummary.key_values), in a few words. */
  function keyValues(r) {
    const v = r.key_values || {};
    return [
      v.vin && `VIN ${v.vin}`,
      v.plate && `车牌 ${v.plate}`,
      v.claim_no && `索赔单 ${v.claim_no}`,
      v.part_no && `零件 ${v.part_no}`,
      v.repair_date && `日期 ${v.repair_date}`,
      v.month && `月份 ${v.month}`,
    ]
      .filter(Boolean)
      .join(" · ");
  }
  const initial = new URLSearchParams(location.search);
  let offset = Number(initial.get("offset") || 0);

  function filters() {
    const out = {};
    for (const name of NAMES) {
      const input = form.elements[name];
      if (input && input.value.trim()) out[name] = input.value.trim();
    }
    return out;
  }

  function setExports(f) {
    for (const fmt of ["csv", "xlsx", "json"]) {
      document.getElementById(`export-${fmt}`).href = `/api/export.${fmt}${query(f)}`;
    }
  }

  async function load() {
    const f = filters();
    history.replaceState(null, "", location.pathname + query({ ...f, offset: offset || "" }));
    setExports(f);
    tbody.replaceChildren(el("tr", {}, el("td", { colspan: 10, class: "muted", text: "加载中…" })));
    let list;
    try {
      list = await api("GET", "/api/records" + query({ ...f, offset, limit: LIMIT }));
    } catch (err) {
      tbody.replaceChildren(el("tr", {}, el("td", { colspan: 10, class: "refused", text: err.message })));
      pager.replaceChildren();
      return;
    }
    if (!list.items.length) {
      tbody.replaceChildren(el("tr", {}, el("td", { colspan: 10, class: "muted", text: "没有符合条件的记录。" })));
    } else {
      tbody.replaceChildren(
        ...list.items.map((r) => {
          const href = `/review/${encodeURIComponent(r.record_id)}`;
          const tr = el(
            "tr",
            { class: "row-link", dataset: { recordId: r.record_id } },
            el("td", {}, el("a", { href, text: r.template }), el("div", { class: "small muted", text: titles[r.template] || "" })),
            el("td", { class: "mono", text: r.document_id }),
            el("td", { text: r.copy_index }),
            el("td", { class: "kv", text: keyValues(r) || "—" }),
            el("td", { text: r.station || "—" }),
            el("td", {}, badge(r.status, RECORD_STATUS)),
            el("td", { class: `num ${confClass(r.min_confidence)}`, text: confText(r.min_confidence) }),
            el("td", { class: "num", text: r.fields_to_check }),
            el("td", { text: fmtTime(r.created_at) }),
            el("td", { class: "small", text: r.verified_by ? `${r.verified_by} ${fmtTime(r.verified_at)}` : "—" })
          );
          tr.addEventListener("click", (e) => {
            if (e.target.tagName !== "A") location.href = href;
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

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    offset = 0;
    load();
  });
  form.addEventListener("reset", () =>
    setTimeout(() => {
      offset = 0;
      load();
    })
  );
  for (const name of ["template", "station", "status", "date_from", "date_to"]) {
    const input = form.elements[name];
    if (input)
      input.addEventListener("change", () => {
        offset = 0;
        load();
      });
  }

  for (const name of NAMES) {
    const input = form.elements[name];
    if (input && name !== "template" && initial.get(name)) input.value = initial.get(name);
  }
  FD.fillTemplateSelect(form.elements.template, initial.get("template"))
    .then(() => titlesReady)
    .then(load, load);
})();
