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
    // this session's order: a record reviewed and back in the queue keeps its place
    const order = FD.stableOrder(f, list.items.map((r) => r.record_id));
    const byId = Object.fromEntries(list.items.map((r) => [r.record_id, r]));
    list.items = order.map((id) => byId[id]);
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
            el("td", { class: "reasons small", text: whyInQueue(r) }),
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

  // -- 批量确认: records whose fields are all ok, in the queue only for reasons the clerk accepts --
  const bulk = document.getElementById("bulk");
  let candidates = null;

  function acceptedReasons() {
    return [...document.querySelectorAll("#bulk-reasons input:checked")].map((i) => i.value);
  }

  function bulkCount() {
    const ok = new Set(acceptedReasons());
    return (candidates ? candidates.groups : [])
      .filter((g) => g.reasons.length && g.reasons.every((r) => ok.has(r)))
      .reduce((n, g) => n + g.records, 0);
  }

  function paintBulk() {
    const n = bulkCount();
    document.getElementById("bulk-count").textContent = n ? `将确认 ${n} 条记录` : "请勾选可以接受的原因";
    document.getElementById("bulk-confirm").disabled = !n;
  }

  // why a record waits: its own reasons (签名不符, 重复扫描 …), else how many fields need a look
  function whyInQueue(r) {
    const why = [...(r.reasons || [])];
    if (r.fields_to_check) why.push(`${r.fields_to_check} 栏需核对`);
    return why.join(";") || "需人工确认";
  }

  async function loadBulk() {
    if (!bulk) return;
    try {
      candidates = await api("GET", "/api/review/bulk" + query(filters()));
    } catch (_) {
      bulk.hidden = true;
      return;
    }
    const reasons = candidates.reasons || [];
    bulk.hidden = false;
    document.getElementById("bulk-none").hidden = !!reasons.length;
    document.getElementById("bulk-body").hidden = !reasons.length;
    document.getElementById("bulk-reasons").replaceChildren(
      ...reasons.map((r) =>
        el(
          "label",
          { class: "check" },
          el("input", { type: "checkbox", value: r.reason, onchange: paintBulk }),
          ` ${r.reason}(${r.records} 条)`
        )
      )
    );
    paintBulk();
  }

  if (bulk) {
    document.getElementById("bulk-confirm").addEventListener("click", async () => {
      const n = bulkCount();
      const accept = acceptedReasons();
      if (!n || !confirm(`确认这 ${n} 条记录无误吗?(原因:${accept.join("、")})`)) return;
      try {
        const done = await api("POST", "/api/review/bulk", { ...filters(), accept, expected: n });
        FD.toast(`已确认 ${done.verified} 条记录`, "ok");
      } catch (err) {
        FD.toast(err.message, "error");
      }
      offset = 0;
      load();
      loadBulk();
    });
  }

  for (const s of [station, template]) {
    if (s)
      s.addEventListener("change", () => {
        offset = 0;
        load();
        loadBulk();
      });
  }
  document.getElementById("queue-filters").addEventListener("submit", (e) => e.preventDefault());
  const start2 = () => {
    load();
    loadBulk();
  };
  FD.fillTemplateSelect(template, params.get("template")).then(start2, start2);
})();
