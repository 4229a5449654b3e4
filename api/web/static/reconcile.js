/* 核对: a station's month of claims against returned parts; chips filter by kind, a row
 * opens its evidence (the crops of the scans it rests on). */
"use strict";

(() => {
  const { el, api, query, badge, confText, confClass, toast, FIELD_STATUS } = FD;
  const LIMIT = 50;
  const form = document.getElementById("rc-filters");
  const monthInput = document.getElementById("rc-month");
  const stationSelect = document.getElementById("rc-station"); // absent for station users
  const tbody = document.querySelector("#rc-table tbody");
  const pager = document.getElementById("rc-pager");
  const chips = document.getElementById("rc-chips");
  const figures = document.getElementById("rc-figures");
  const head = document.getElementById("rc-head");
  const initial = new URLSearchParams(location.search);

  let rec = null; // the reconciliation shown
  let kind = initial.get("kind") || ""; // "" all, "diff" every difference, or one kind
  let offset = 0;
  const open = new Set(); // indexes (in rec.outcomes) of rows whose evidence is shown

  function params() {
    return { station: stationSelect ? stationSelect.value : "", month: monthInput.value };
  }

  function shown() {
    const all = rec.outcomes.map((o, i) => ({ o, i }));
    if (kind === "diff") return all.filter(({ o }) => o.kind !== "matched");
    if (kind === "doubtful") return all.filter(({ o }) => o.doubtful);
    return kind ? all.filter(({ o }) => o.kind === kind) : all;
  }

  function message(text, cls = "muted") {
    tbody.replaceChildren(el("tr", {}, el("td", { colspan: 6, class: cls, text })));
  }

  async function load() {
    const p = params();
    history.replaceState(null, "", location.pathname + query({ ...p, kind }));
    open.clear();
    offset = 0;
    message("正在核对…");
    chips.replaceChildren();
    figures.replaceChildren();
    head.textContent = "";
    try {
      rec = await api("GET", "/api/reconcile" + query(p));
    } catch (err) {
      rec = null;
      message(err.message, "refused");
      pager.replaceChildren();
      return;
    }
    head.textContent = `${rec.station} ${rec.station_name} · ${rec.period_start} 至 ${rec.period_end}`;
    renderFigures();
    renderChips();
    renderTable();
  }

  function renderFigures() {
    const diffs = rec.outcomes.filter((o) => o.kind !== "matched");
    const held = diffs.filter((o) => o.doubtful).length;
    const item = (label, value, figure, title) =>
      el("span", { dataset: figure ? { figure } : {}, title }, label, " ", el("b", { text: value }));
    const items = [
      item("索赔单", `${rec.claims} 张 / ${rec.claimed_quantity} 件`),
      item("返厂件", `${rec.returned_parts} 件`, "returned_parts", "同一零件列入返厂清单并挂鉴别标签、故障标签,只计一件;与月报的返厂件数相同"),
      item("返厂清单", `${rec.manifest_lines} 行 / ${rec.returned_quantity} 件`),
      item("标签", `${rec.tags} 张`),
      ...rec.manifests.map((m) => manifestFigure(m, item)),
      item("差异", `${diffs.length} 项`),
    ];
    if (held) items.push(item("其中待核实", `${held} 项`));
    const undated = diffs.filter((o) => o.undated).length;
    if (undated) items.push(item("其中日期未识别", `${undated} 项`));
    figures.replaceChildren(...items);
  }

  /** A manifest's 合计 as written beside what its read lines add up to. */
  function manifestFigure(m, item) {
    const total = m.written_total === null ? "合计未识别" : `合计 ${m.written_total} 件`;
    const counted = m.counted_lines < m.lines ? `,本月计入 ${m.counted_lines} 行` : "";
    const span = item(`清单 ${m.manifest_no || m.document_id}`, `${total} · 明细 ${m.lines} 行 ${m.listed_quantity} 件${counted}`, "manifest");
    if (!m.agrees) {
      span.classList.add("conf-low");
      span.append(" ", el("span", { class: "badge st-check", text: "合计与明细不符" }));
    }
    return span;
  }

  function renderChips() {
    const diffs = rec.outcomes.filter((o) => o.kind !== "matched").length;
    const doubtful = rec.outcomes.filter((o) => o.doubtful).length;
    const chip = (value, label, count, cls = "") =>
      el(
        "button",
        {
          type: "button",
          class: `chip ${cls} ${value === kind ? "active" : ""}`.trim(),
          dataset: { kind: value },
          "aria-pressed": value === kind ? "true" : "false",
          disabled: count === 0 && value !== kind && value !== "",
          onclick: () => {
            kind = value;
            offset = 0;
            history.replaceState(null, "", location.pathname + query({ ...params(), kind }));
            renderChips();
            renderTable();
          },
        },
        label,
        el("span", { class: "count", text: count })
      );
    chips.replaceChildren(
      chip("", "全部", rec.outcomes.length),
      chip("diff", "全部差异", diffs),
      ...Object.entries(rec.kind_labels).map(([k, label]) => chip(k, label, rec.counts[k] || 0, `k-${k}`)),
      chip("doubtful", "待核实", doubtful, "k-doubtful")
    );
  }

  function renderTable() {
    const rows = shown();
    if (offset >= rows.length) offset = Math.max(0, rows.length - LIMIT);
    const page = rows.slice(offset, offset + LIMIT);
    if (!rows.length) {
      message(rec.outcomes.length ? "没有这一类的核对结果。" : "本月无索赔、无返厂件。");
    } else {
      tbody.replaceChildren(...page.flatMap(({ o, i }) => outcomeRows(o, i)));
    }
    FD.renderPager(pager, { total: rows.length, items: page }, offset, LIMIT, (next) => {
      offset = next;
      renderTable();
    });
  }

  function outcomeRows(o, i) {
    const part = [o.part_no, o.part_name].filter(Boolean).join(" ");
    const tr = el(
      "tr",
      { class: `row-link rc-row ${open.has(i) ? "open" : ""}`, dataset: { index: i, kind: o.kind }, tabindex: 0 },
      el("td", {}, el("span", { class: `badge k-${o.kind}`, text: o.label })),
      el("td", { class: "mono", text: o.claim_no || "—" }),
      el("td", { class: "mono", text: o.vin || "—" }),
      el("td", { text: part || "—" }),
      el("td", { class: "rc-message", text: o.message }),
      el(
        "td",
        {},
        o.doubtful ? el("span", { class: "badge st-check", text: "待核实", title: "所依据的读数尚未确认,请先看扫描件" }) : "",
        o.undated ? el("span", { class: "badge st-check", text: "日期未识别", title: "表单上的日期无法识别,按扫描件上传月份核对" }) : ""
      )
    );
    const toggle = () => {
      if (open.has(i)) open.delete(i);
      else open.add(i);
      renderTable();
    };
    tr.addEventListener("click", toggle);
    tr.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        toggle();
      }
    });
    return open.has(i) ? [tr, drillRow(o)] : [tr];
  }

  function cropUrl(e) {
    return `/api/records/${encodeURIComponent(e.record_id)}/crop.png` + query({ key: e.field_key, row: e.row, column: e.column });
  }

  function reviewUrl(e) {
    return `/review/${encodeURIComponent(e.record_id)}` + query({ field: e.field_key, row: e.row, column: e.column });
  }

  function scanText(e) {
    const page = e.scan_page ? ` 第${e.scan_page}页` : "";
    const day = e.received_on ? `,${e.received_on} 上传` : "";
    return `扫描件 ${e.scan_file}${page}${day}`;
  }

  function evidenceCard(e) {
    const img = el("img", { src: cropUrl(e), alt: e.label, loading: "lazy" });
    const frame = el("div", { class: "ev-crop" }, img);
    img.addEventListener("error", () => frame.replaceChildren(el("span", { class: "muted small", text: "截图无法显示" })));
    return el(
      "div",
      { class: `ev st-${e.status}` },
      el("div", { class: "ev-label", text: e.label }),
      e.scan_file ? el("div", { class: "muted small ev-scan", text: scanText(e) }) : null,
      frame,
      el(
        "div",
        { class: "ev-meta small" },
        el("span", {}, "读数:", el("b", { class: "mono", text: e.value ?? "(整行)" })),
        el("span", { class: confClass(e.confidence) }, `置信度 ${confText(e.confidence)}`),
        badge(e.status, FIELD_STATUS),
        el("a", { href: reviewUrl(e), text: "打开复核页 →" })
      )
    );
  }

  function drillRow(o) {
    const compare = [];
    if (o.claim_value) compare.push(el("span", {}, "索赔单:", el("b", { text: o.claim_value })));
    if (o.returned_values.length) compare.push(el("span", {}, "返回件:", el("b", { text: o.returned_values.join("、") })));
    const evidence = o.evidence.length
      ? el("div", { class: "ev-list" }, ...o.evidence.map(evidenceCard))
      : el("p", {
          class: "muted small",
          // only a part not returned is seen nowhere; other findings without a scan rest on the claims
          text: o.kind === "missing" || o.kind === "outside_warranty" ? "没有扫描件证据(返厂清单和标签上均未见这个零件)。" : "这一项依据索赔单,没有扫描件证据。",
        });
    return el(
      "tr",
      { class: "rc-drill" },
      el("td", { colspan: 6 }, compare.length ? el("div", { class: "rc-compare small" }, ...compare) : null, evidence)
    );
  }

  // -- downloads: fetched with the session so a refusal shows its reason --------------------------
  for (const button of document.querySelectorAll("[data-file]")) {
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await FD.fetchDownload(`/api/reconcile/${button.dataset.file}` + query(params()), button.dataset.file);
      } catch (err) {
        toast(err.message, "error");
      } finally {
        button.disabled = false;
      }
    });
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    load();
  });
  monthInput.addEventListener("change", () => monthInput.value && load());
  if (stationSelect) stationSelect.addEventListener("change", load);

  if (stationSelect && initial.get("station")) stationSelect.value = initial.get("station");
  if (stationSelect && !stationSelect.value) {
    monthInput.value = initial.get("month") || FD.previousMonth();
    message("还没有登记维修站。");
  } else {
    (async () => {
      monthInput.value = initial.get("month") || (await FD.openingMonth(params().station));
      load();
    })();
  }

  // importing the warranty system's claims (back office): claims_import.js; a new import
  // reconciles the month again
  document.addEventListener("claims-imported", () => {
    if (monthInput.value) form.requestSubmit();
  });
})();
