/* 上传: drag and drop or pick files, upload with per-file progress, then follow the reading. */
"use strict";

(() => {
  const { el, api, fmtBytes, fmtTime, badge, toast } = FD;
  const MAX_GROUP_BYTES = 150 * 1024 * 1024; // one request stays under the service's 200 MB
  const POLL_MS = 700;

  const drop = document.getElementById("dropzone");
  const input = document.getElementById("file-input");
  const stationSelect = document.getElementById("upload-station");
  const filesPanel = document.getElementById("files-panel");
  const filesBody = document.querySelector("#files-table tbody");
  const filesSummary = document.getElementById("files-summary");
  const batchesPanel = document.getElementById("batches-panel");
  const batchesBox = document.getElementById("batches");
  const recentBody = document.querySelector("#recent-table tbody");

  const rows = []; // {file, tr, bar, pct, result, state}
  let queue = Promise.resolve();

  // -- picking files ----------------------------------------------------------------------------
  if (drop) {
    drop.addEventListener("click", (e) => {
      if (e.target.tagName !== "LABEL") input.click();
    });
    drop.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        input.click();
      }
    });
    for (const type of ["dragenter", "dragover"]) {
      drop.addEventListener(type, (e) => {
        e.preventDefault();
        drop.classList.add("over");
      });
    }
    for (const type of ["dragleave", "drop"]) {
      drop.addEventListener(type, (e) => {
        e.preventDefault();
        drop.classList.remove("over");
      });
    }
    drop.addEventListener("drop", (e) => addFiles(e.dataTransfer.files));
    input.addEventListener("change", () => {
      addFiles(input.files);
      input.value = "";
    });
    // a file dropped beside the zone must not make the browser open it
    window.addEventListener("dragover", (e) => e.preventDefault());
    window.addEventListener("drop", (e) => e.preventDefault());
  }

  function addFiles(fileList) {
    const files = Array.from(fileList || []);
    if (!files.length) return;
    filesPanel.hidden = false;
    const added = files.map((file) => {
      const bar = el("span");
      const pct = el("span", { class: "pct", text: "0%" });
      const result = el("td", { class: "result muted", text: "等待上传" });
      const tr = el(
        "tr",
        {},
        el("td", { class: "fname", text: file.name }),
        el("td", { class: "num", text: fmtBytes(file.size) }),
        el("td", {}, el("div", { class: "progress-cell" }, el("div", { class: "progress" }, bar), pct)),
        result
      );
      filesBody.append(tr);
      const row = { file, tr, bar, pct, result, state: "waiting" };
      rows.push(row);
      return row;
    });
    // groups of files, each one request (one batch), sent one after the other
    let group = [];
    let size = 0;
    const groups = [];
    for (const row of added) {
      if (group.length && size + row.file.size > MAX_GROUP_BYTES) {
        groups.push(group);
        group = [];
        size = 0;
      }
      group.push(row);
      size += row.file.size;
    }
    if (group.length) groups.push(group);
    for (const g of groups) queue = queue.then(() => send(g));
    summarise();
  }

  function setProgress(row, fraction) {
    const p = Math.max(0, Math.min(1, fraction));
    row.bar.style.width = `${(p * 100).toFixed(1)}%`;
    row.pct.textContent = `${Math.round(p * 100)}%`;
  }

  function finish(row, state, text) {
    row.state = state;
    row.result.className = "result " + (state === "refused" ? "refused" : "");
    row.result.replaceChildren(...(Array.isArray(text) ? text : [text]));
    row.bar.parentElement.classList.toggle("done", state === "accepted");
    row.bar.parentElement.classList.toggle("failed", state === "refused");
    if (state === "accepted") setProgress(row, 1);
    summarise();
  }

  function summarise() {
    const n = (s) => rows.filter((r) => r.state === s).length;
    const parts = [`共 ${rows.length} 个文件`];
    if (n("accepted")) parts.push(`已接收 ${n("accepted")}`);
    if (n("refused")) parts.push(`被拒 ${n("refused")}`);
    if (n("sending") + n("waiting")) parts.push(`上传中 ${n("sending") + n("waiting")}`);
    filesSummary.textContent = parts.join(" · ");
  }

  // -- uploading --------------------------------------------------------------------------------
  async function send(group) {
    const me = await FD.me();
    return new Promise((resolve) => {
      const form = new FormData();
      for (const row of group) {
        form.append("files", row.file, row.file.name);
        row.state = "sending";
        row.result.textContent = "上传中…";
      }
      if (stationSelect && stationSelect.value) form.append("station", stationSelect.value);
      const total = group.reduce((s, r) => s + r.file.size, 0) || 1;
      const xhr = new XMLHttpRequest();
      xhr.open("POST", "/api/uploads");
      xhr.setRequestHeader("X-CSRF-Token", me.csrf || "");
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = (e) => {
        if (!e.lengthComputable) return;
        // the files travel in order inside one multipart body: spread the bytes sent over them
        const sent = (e.loaded / e.total) * total;
        let start = 0;
        for (const row of group) {
          setProgress(row, row.file.size ? (sent - start) / row.file.size : 1);
          start += row.file.size;
        }
      };
      xhr.onerror = () => {
        for (const row of group) finish(row, "refused", "网络错误,上传失败,请重试");
        resolve();
      };
      xhr.onload = () => {
        let data = {};
        try {
          data = JSON.parse(xhr.responseText || "{}");
        } catch (_) {
          data = { reason: `上传失败(${xhr.status})` };
        }
        if (xhr.status === 401) {
          location.href = "/login?next=/";
          return;
        }
        const open = group.slice();
        const take = (name) => {
          const i = open.findIndex((r) => r.file.name === name);
          return i < 0 ? null : open.splice(i, 1)[0];
        };
        for (const a of data.accepted || []) {
          const row = take(a.filename);
          if (row) {
            const pages = `${a.pages} 页`;
            finish(row, "accepted", a.new ? `已接收 · ${pages}` : `已接收 · ${pages}(此前上传过,不重复保存)`);
          }
        }
        for (const r of data.refused || []) {
          const row = take(r.filename);
          if (row) finish(row, "refused", `被拒:${r.reason}`);
        }
        for (const row of open) {
          finish(row, "refused", data.reason ? `被拒:${data.reason}` : `上传失败(${xhr.status})`);
        }
        if (data.batch_id) followBatch(data.batch_id);
        else if (xhr.status >= 400) toast(data.reason || "上传失败", "error");
        resolve();
      };
      xhr.send(form);
    });
  }

  // -- following the reading -----------------------------------------------------------------------
  function followBatch(batchId) {
    batchesPanel.hidden = false;
    const bar = el("span");
    const progress = el("div", { class: "progress" }, bar);
    const state = el("span", { class: "badge st-queued", text: "排队中" });
    const count = el("span", { class: "count", text: "" });
    const errors = el("ul", { class: "errors", hidden: true });
    const records = el("div", { class: "batch-records" });
    const card = el(
      "div",
      { class: "batch", dataset: { batchId } },
      el(
        "div",
        { class: "batch-head" },
        el("a", { href: `/batches/${encodeURIComponent(batchId)}`, class: "batch-link" }, el("b", { text: `批次 ${batchId}` })),
        state,
        progress,
        count
      ),
      errors,
      records
    );
    batchesBox.prepend(card);

    const poll = async () => {
      let batch;
      try {
        batch = await api("GET", `/api/batches/${encodeURIComponent(batchId)}`);
      } catch (err) {
        count.textContent = err.message;
        setTimeout(poll, POLL_MS * 3);
        return;
      }
      // progress by files (a file sent twice counts twice; a file that failed is done too)
      const files = batch.files_total || 0;
      const filesDone = batch.files_done || 0;
      const total = batch.pages_total || 0;
      const done = batch.pages_done || 0;
      const share = files ? filesDone / files : total ? done / total : 0;
      bar.style.width = `${100 * share}%`;
      count.textContent = files
        ? `已处理 ${filesDone} / ${files} 个文件 · 已识读 ${done} / ${total} 页`
        : `已识读 ${done} / ${total} 页`;
      state.className = `badge st-${batch.state}`;
      state.textContent = FD.BATCH_STATE[batch.state] || batch.state;
      card.dataset.state = batch.state;
      errors.replaceChildren(...batch.errors.map((e) => el("li", { text: e })));
      errors.hidden = !batch.errors.length;
      if (batch.state === "done") {
        progress.classList.add("done");
        bar.style.width = "100%";
        await showRecords(batch, records);
        loadRecent();
        return;
      }
      setTimeout(poll, POLL_MS);
    };
    poll();
  }

  async function showRecords(batch, box) {
    let items = [];
    try {
      const list = await api("GET", "/api/records?limit=500");
      const scans = new Set(batch.scan_ids);
      items = list.items.filter((r) => scans.has(r.scan_id));
    } catch (err) {
      box.replaceChildren(el("p", { class: "refused", text: err.message }));
      return;
    }
    const needs = items.filter((r) => r.status === "needs_review");
    const table = el(
      "table",
      { class: "grid hover compact cards" },
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          ["表单", "文档号", "联", "状态", "最低置信度", "待核栏数", ""].map((h, i) =>
            el("th", { text: h, class: i === 4 || i === 5 ? "num" : undefined })
          )
        )
      ),
      el(
        "tbody",
        {},
        items.map((r) =>
          el(
            "tr",
            {},
            el("td", { text: r.template }),
            el("td", { class: "mono", text: r.document_id }),
            el("td", { text: r.copy_index }),
            el("td", {}, badge(r.status, FD.RECORD_STATUS)),
            el("td", { class: `num ${FD.confClass(r.min_confidence)}`, text: FD.confText(r.min_confidence) }),
            el("td", { class: "num", text: r.fields_to_check }),
            el("td", {}, el("a", { href: `/review/${r.record_id}`, text: r.status === "needs_review" ? "复核" : "查看" }))
          )
        )
      )
    );
    const summary = items.length
      ? `识读出 ${items.length} 份表单,其中 ${needs.length} 份需要复核。`
      : "这一批没有识读出表单。";
    const links = el(
      "div",
      { class: "links" },
      el("span", { text: summary }),
      needs.length ? el("a", { href: `/review/${needs[0].record_id}`, text: "开始复核本批 →" }) : null,
      el("a", { href: `/batches/${encodeURIComponent(batch.batch_id)}`, text: "批次详情" }),
      el("a", { href: "/review", text: "复核队列" }),
      el("a", { href: "/records", text: "全部记录" })
    );
    box.replaceChildren(links, items.length ? table : "");
  }

  async function loadRecent() {
    let list;
    try {
      list = await api("GET", "/api/batches");
    } catch (err) {
      recentBody.replaceChildren(el("tr", {}, el("td", { colspan: 8, class: "refused", text: err.message })));
      return;
    }
    if (!list.length) {
      recentBody.replaceChildren(el("tr", {}, el("td", { colspan: 8, class: "muted", text: "还没有上传过扫描件。" })));
      return;
    }
    recentBody.replaceChildren(
      ...list.slice(0, 10).map((b) =>
        el(
          "tr",
          {},
          el("td", { class: "mono" }, el("a", { href: `/batches/${encodeURIComponent(b.batch_id)}`, text: b.batch_id })),
          el("td", { text: fmtTime(b.created_at) }),
          el("td", { text: b.created_by }),
          el("td", { text: b.station || "—" }),
          el("td", {}, badge(b.state, FD.BATCH_STATE)),
          el("td", { class: "num", text: b.files_total ? `${b.files_done} / ${b.files_total}` : "—" }),
          el("td", { class: "num", text: `${b.pages_done} / ${b.pages_total}` }),
          el("td", { class: b.errors.length ? "refused small" : "muted small", text: b.errors.join(";") || "—" })
        )
      )
    );
  }

  // files picked before this script ran (the page still loading: the picker answered
  // first, and its change event found no listener) are taken now
  if (drop && input.files && input.files.length) {
    addFiles(input.files);
    input.value = "";
  }

  loadRecent();
})();
