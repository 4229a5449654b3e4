/* 批次: an upload's files, which record came from which page of which file, and the pages
 * the reader refused, with what the clerk can do about them. */
"use strict";

(() => {
  const { el, api, fmtTime, badge } = FD;
  const batchId = document.getElementById("batch-root").dataset.batchId;
  const box = document.getElementById("batch-files");

  const pagesOf = (r) => (r.file_pages || []).map((p) => p + 1).join("、") || "—";

  function kv(r) {
    const v = r.key_values || {};
    const parts = [];
    if (v.vin) parts.push(`VIN ${v.vin}`);
    if (v.plate) parts.push(`车牌 ${v.plate}`);
    if (v.claim_no) parts.push(`索赔单 ${v.claim_no}`);
    if (v.repair_date) parts.push(`日期 ${v.repair_date}`);
    if (v.month) parts.push(`月份 ${v.month}`);
    return parts.join(" · ");
  }

  /** A file's state in words: read, being read, failed as a whole, or read with pages that
   * wait for a person (待处理) or were all dealt with. */
  function fileBadge(f) {
    const open = f.refusals.filter((r) => r.state === "open" || r.state === "requeued").length;
    if (f.refusals.length) {
      return open
        ? badge("check", { check: `${open} 页待处理` })
        : badge("done", { done: "已处理" });
    }
    if (f.state === "failed") return badge("failed", { failed: "识读失败" });
    return badge(f.state === "done" ? "done" : "reading", { done: "已识读", reading: "识读中" });
  }

  function recordsTable(records) {
    return el(
      "table",
      { class: "grid hover compact batch-records cards" },
      el("thead", {}, el("tr", {}, ["页", "表单", "文档号", "联", "主要内容", "维修站", "状态", "原因", ""].map((h) => el("th", { text: h })))),
      el(
        "tbody",
        {},
        records.map((r) =>
          el(
            "tr",
            { dataset: { recordId: r.record_id } },
            el("td", { text: pagesOf(r) }),
            el("td", { text: FD.templateName ? FD.templateName(r.template) : r.template }),
            el("td", { class: "mono", text: r.document_id }),
            el("td", { text: r.copy_index }),
            el("td", { class: "kv", text: kv(r) || "—" }),
            el("td", { text: r.station || "—" }),
            el("td", {}, badge(r.status, FD.RECORD_STATUS), r.duplicate_of ? el("span", { class: "small muted", text: " 重复扫描" }) : null),
            el("td", { class: "small", text: (r.reasons || []).join(";") || "—" }),
            el("td", {}, el("a", { href: `/review/${encodeURIComponent(r.record_id)}`, text: "打开" }))
          )
        )
      )
    );
  }

  async function load() {
    let view;
    try {
      view = await api("GET", `/api/batches/${encodeURIComponent(batchId)}/view`);
    } catch (err) {
      box.replaceChildren(el("p", { class: "refused", text: err.message }));
      document.getElementById("batch-meta").textContent = "";
      return;
    }
    const b = view.batch;
    document.getElementById("batch-meta").replaceChildren(
      `${fmtTime(b.created_at)} · ${b.created_by} 上传 · 维修站 ${b.station || "售后服务部"} · `,
      badge(b.state, FD.BATCH_STATE),
      ` · 已识读 ${b.pages_done} / ${b.pages_total} 页`
    );
    const records = view.files.reduce((n, f) => n + f.records.length, 0);
    const refused = view.files.reduce((n, f) => n + f.refusals.filter((r) => r.state === "open").length, 0);
    document.getElementById("batch-count").textContent =
      `${view.files.length} 个文件 · ${records} 条记录` + (refused ? ` · ${refused} 页待处理` : "");
    box.replaceChildren(
      ...view.files.map((f) =>
        el(
          "div",
          { class: "batch-file", dataset: { scanId: f.scan_id } },
          el(
            "h3",
            {},
            el("a", { href: `/api/scans/${encodeURIComponent(f.scan_id)}`, text: f.filename }),
            el("span", { class: "muted small", text: `${f.pages || "?"} 页` }),
            fileBadge(f),
            el("a", { class: "small", href: `/records?batch=${encodeURIComponent(batchId)}&file=${encodeURIComponent(f.filename)}`, text: "在记录中查看" })
          ),
          el(
            "div",
            { class: "thumbs" },
            Array.from({ length: Math.min(f.pages || 1, 8) }, (_, i) =>
              el(
                "figure",
                {},
                el("img", {
                  loading: "lazy",
                  alt: `${f.filename} 第 ${i + 1} 页`,
                  src: `/api/scans/${encodeURIComponent(f.scan_id)}/pages/${i}/thumb.png`,
                }),
                el("figcaption", { class: "small muted", text: `第 ${i + 1} 页` })
              )
            ),
            (f.pages || 0) > 8 ? el("span", { class: "small muted", text: `…共 ${f.pages} 页` }) : null
          ),
          f.error ? el("p", { class: "refused", text: f.error }) : null,
          f.records.length ? recordsTable(f.records) : el("p", { class: "muted small", text: "这个文件没有识读出表单。" }),
          f.refusals.length
            ? el("div", {}, el("h4", { text: "未能识读的页面" }), el("div", { class: "refusals" }, f.refusals.map((r) => FD.refusalCard(r, load))))
            : null
        )
      )
    );
    if (b.state !== "done" || view.files.some((f) => f.refusals.some((r) => r.state === "requeued"))) setTimeout(load, 1500);
  }

  const voidForm = document.getElementById("void-batch");
  if (voidForm) {
    voidForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      const reason = document.getElementById("void-batch-reason").value;
      if (!confirm(`作废本批读出的全部记录吗?(原因:${reason})记录会保留,但不再计入任何统计。`)) return;
      try {
        const done = await api("POST", `/api/batches/${encodeURIComponent(batchId)}/void`, { reason });
        FD.toast(`已作废 ${done.voided} 条记录`, "ok");
        load();
      } catch (err) {
        FD.toast(err.message, "error");
      }
    });
  }
  load();
})();
