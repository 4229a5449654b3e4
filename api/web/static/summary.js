/* 月报: a month's warranty, paid repairs and maintenance in figures, tables and bars drawn
 * here as SVG (no chart library). */
"use strict";

(() => {
  const { el, api, query, toast } = FD;
  const form = document.getElementById("sm-filters");
  const monthInput = document.getElementById("sm-month");
  const stationSelect = document.getElementById("sm-station"); // absent for station users
  const bd24Button = document.getElementById("dl-bd24"); // absent for auditors
  const initial = new URLSearchParams(location.search);
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";
  const PARTS_SHOWN = 30;

  // the three kinds of business, in the order and colours the chart uses
  const KINDS = [
    { key: "warranty", label: "三包", cls: "bar-warranty" },
    { key: "paid", label: "收费维修", cls: "bar-paid" },
    { key: "maintenance", label: "保养", cls: "bar-maintenance" },
  ];
  const amount = (r, k) => Number(k === "warranty" ? r.warranty_total : k === "paid" ? r.paid_total : r.maintenance_total);

  let summary = null;

  function params() {
    return { station: stationSelect ? stationSelect.value : "", month: monthInput.value };
  }

  const money = (v) => Number(v).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const int = (v) => Number(v).toLocaleString("zh-CN");

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const c of children) {
      if (c === null || c === undefined) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  /** BD-24 is one station's report: with none chosen there is nothing to prefill. */
  function setBd24() {
    if (!bd24Button) return;
    const can = FD.role === "station" || !!params().station;
    bd24Button.disabled = !can;
    bd24Button.title = can ? "按本月汇总预填,下载后打印、签字盖章" : "需先选择维修站";
  }

  async function load() {
    const p = params();
    history.replaceState(null, "", location.pathname + query(p));
    setBd24();
    $("sm-cards").replaceChildren(el("span", { class: "muted", text: "加载中…" }));
    try {
      summary = await api("GET", "/api/summary" + query(p));
    } catch (err) {
      summary = null;
      $("sm-cards").replaceChildren(el("span", { class: "refused", text: err.message }));
      for (const id of ["sm-split", "sm-split-chart", "sm-chart", "sm-tables", "sm-legend"]) $(id).replaceChildren();
      $("sm-notice").hidden = true;
      $("sm-head").textContent = "";
      return;
    }
    const who = summary.station ? `${summary.station} ${summary.station_name}` : "全部维修站";
    $("sm-head").textContent = `${who} · ${summary.period_start} 至 ${summary.period_end}`;
    renderNotice();
    renderCards(summary.totals);
    renderSplit(summary.totals);
    renderChart();
    renderTables();
  }

  function renderNotice() {
    const notes = [];
    if (summary.orders_to_check) notes.push(`有 ${summary.orders_to_check} 张本月维修委托书待复核,金额可能变化`);
    if (summary.orders_undated) notes.push(`${summary.orders_undated} 张维修委托书读不出日期,未计入任何月份`);
    $("sm-notice").textContent = notes.join(";");
    $("sm-notice").hidden = !notes.length;
  }

  function renderCards(t) {
    const card = (label, value, note) =>
      el("div", { class: "sm-card" }, el("div", { class: "muted small", text: label }), el("div", { class: "sm-value", text: value }), note ? el("div", { class: "muted small", text: note }) : null);
    $("sm-cards").replaceChildren(
      card("进站台次", int(t.vehicles)),
      card("三包维修台次", int(t.warranty_visits)),
      card("三包索赔单", int(t.warranty_claims), `${int(t.claimed_qty)} 件`),
      card("返厂件数", int(t.returned_qty), t.returned_unclaimed_qty ? `其中无索赔 ${int(t.returned_unclaimed_qty)} 件` : ""),
      card("收费维修台次", int(t.paid_repairs)),
      card("保养台次", int(t.maintenance), `首保 ${int(t.maintenance_first)} · 定保 ${int(t.maintenance_periodic)}`),
      card("营业额合计(元)", money(t.total))
    );
  }

  function renderSplit(t) {
    const rows = [
      ["三包", t.warranty_visits, t.warranty_labor, t.warranty_material, t.warranty_total],
      ["收费维修", t.paid_repairs, t.paid_labor, t.paid_material, t.paid_total],
      ["保养", t.maintenance, t.maintenance_labor, t.maintenance_material, t.maintenance_total],
    ];
    $("sm-split").replaceChildren(
      el("thead", {}, el("tr", {}, ...["", "台次", "工时费(元)", "材料费(元)", "合计(元)"].map((h) => el("th", { class: h ? "num" : "", text: h })))),
      el(
        "tbody",
        {},
        ...rows.map(([label, n, labor, material, total], i) =>
          el("tr", {}, el("td", {}, el("span", { class: `sw ${KINDS[i].cls}` }), label), el("td", { class: "num", text: int(n) }), el("td", { class: "num", text: money(labor) }), el("td", { class: "num", text: money(material) }), el("td", { class: "num", text: money(total) }))
        ),
        el("tr", { class: "sum" }, el("td", { text: "合计" }), el("td", { class: "num", text: int(t.vehicles) }), el("td"), el("td"), el("td", { class: "num", text: money(t.total) }))
      )
    );
    // one bar, the month's money split three ways
    const total = KINDS.reduce((s, k) => s + amount(t, k.key), 0);
    const width = Math.max(240, $("sm-split-chart").clientWidth || 600); // drawn 1:1, text unscaled
    const chart = svg("svg", { viewBox: `0 0 ${width} 24`, class: "sm-svg", role: "img", "aria-label": "三包、收费维修、保养金额占比" });
    let x = 0;
    for (const k of KINDS) {
      const share = total ? amount(t, k.key) / total : 0;
      const w = share * width;
      if (w > 0) {
        chart.append(svg("rect", { x, y: 0, width: w, height: 24, class: k.cls }, svg("title", {}, `${k.label} ${money(amount(t, k.key))} 元`)));
        if (w > 70) chart.append(svg("text", { x: x + 6, y: 16, class: "bar-in" }, `${k.label} ${(share * 100).toFixed(0)}%`));
      }
      x += w;
    }
    if (!total) chart.append(svg("text", { x: 0, y: 16, class: "bar-label" }, "本月没有金额"));
    $("sm-split-chart").replaceChildren(chart);
  }

  /** Horizontal bars, one per station (or vehicle model for one station), stacked by kind. */
  function renderChart() {
    const byStation = !summary.station && summary.stations.length > 1;
    const rows = (byStation ? summary.stations : summary.models)
      .map((r) => ({ r, total: KINDS.reduce((s, k) => s + amount(r, k.key), 0) }))
      .filter((x) => x.total > 0)
      .sort((a, b) => b.total - a.total)
      .slice(0, 15);
    $("sm-chart-title").textContent = byStation ? "各维修站金额" : "各车型金额";
    $("sm-legend").replaceChildren(...KINDS.map((k) => el("span", {}, el("span", { class: `sw ${k.cls}` }), k.label)));
    if (!rows.length) {
      $("sm-chart").replaceChildren(el("p", { class: "muted", text: "本月没有金额。" }));
      return;
    }
    const labelW = 190;
    const valueW = 110;
    const width = Math.max(520, $("sm-chart").clientWidth || 900);
    const barH = 20;
    const gap = 8;
    const max = rows[0].total;
    const scale = (width - labelW - valueW) / max;
    const chart = svg("svg", { viewBox: `0 0 ${width} ${rows.length * (barH + gap)}`, class: "sm-svg", role: "img", "aria-label": $("sm-chart-title").textContent });
    rows.forEach(({ r, total }, i) => {
      const y = i * (barH + gap);
      const name = byStation ? `${r.key} ${r.label}` : r.label;
      chart.append(svg("text", { x: labelW - 8, y: y + barH - 5, class: "bar-label", "text-anchor": "end" }, name.length > 16 ? name.slice(0, 15) + "…" : name));
      let x = labelW;
      for (const k of KINDS) {
        const w = amount(r, k.key) * scale;
        if (w > 0) chart.append(svg("rect", { x, y, width: w, height: barH, class: k.cls }, svg("title", {}, `${name} ${k.label} ${money(amount(r, k.key))} 元`)));
        x += w;
      }
      chart.append(svg("text", { x: x + 6, y: y + barH - 5, class: "bar-label" }, money(total)));
    });
    $("sm-chart").replaceChildren(chart);
  }

  const COLUMNS = {
    full: [
      ["进站台次", (r) => int(r.vehicles)],
      ["三包索赔单", (r) => int(r.warranty_claims)],
      ["索赔件数", (r) => int(r.claimed_qty)],
      ["返厂件数", (r) => int(r.returned_qty)],
      ["三包金额", (r) => money(r.warranty_total)],
      ["收费维修", (r) => int(r.paid_repairs)],
      ["收费金额", (r) => money(r.paid_total)],
      ["保养", (r) => int(r.maintenance)],
      ["保养金额", (r) => money(r.maintenance_total)],
      ["合计(元)", (r) => money(r.total)],
    ],
    parts: [
      ["三包索赔单", (r) => int(r.warranty_claims)],
      ["索赔件数", (r) => int(r.claimed_qty)],
      ["返厂件数", (r) => int(r.returned_qty)],
      ["其中无索赔", (r) => int(r.returned_unclaimed_qty)],
      ["三包工时费", (r) => money(r.warranty_labor)],
      ["三包材料费", (r) => money(r.warranty_material)],
    ],
  };

  const idle = (r) => !(r.vehicles || r.warranty_claims || r.returned_qty || r.paid_repairs || r.maintenance);

  function table(title, rows, nameHeads, names, columns, limit) {
    const section = el("div", { class: "sm-table", dataset: { table: title } }, el("h2", { text: title }));
    if (!rows.length) {
      section.append(el("p", { class: "muted small", text: "本月没有。" }));
      return section;
    }
    const tbody = el("tbody");
    const fill = (all) =>
      tbody.replaceChildren(
        ...(all ? rows : rows.slice(0, limit)).map((r) => el("tr", {}, ...names(r).map((n) => el("td", { text: n })), ...columns.map(([, f]) => el("td", { class: "num", text: f(r) }))))
      );
    fill(false);
    section.append(el("table", { class: "grid compact" }, el("thead", {}, el("tr", {}, ...nameHeads.map((h) => el("th", { text: h })), ...columns.map(([h]) => el("th", { class: "num", text: h })))), tbody));
    if (limit && rows.length > limit) {
      const more = el("button", { type: "button", class: "small-button", text: `显示全部 ${rows.length} 项` });
      more.addEventListener("click", () => {
        fill(true);
        more.remove();
      });
      section.append(more);
    }
    return section;
  }

  function renderTables() {
    const s = summary;
    $("sm-tables").replaceChildren(
      table("按维修站", s.stations, ["代码", "维修站"], (r) => [r.key || "—", r.label], COLUMNS.full),
      table("按车型", s.models.filter((r) => !idle(r)), ["车型"], (r) => [r.label], COLUMNS.full),
      table("按零件", s.parts.filter((r) => !idle(r)), ["零件编号", "零件名称"], (r) => [r.key || "—", r.label], COLUMNS.parts, PARTS_SHOWN),
      table("按故障类别", s.categories.filter((r) => !idle(r)), ["故障类别"], (r) => [r.label || r.key], COLUMNS.full)
    );
  }

  // -- downloads --------------------------------------------------------------------------------
  async function save(button, url, fallback, method = "GET") {
    button.disabled = true;
    try {
      await FD.fetchDownload(url + query(params()), fallback, method);
    } catch (err) {
      toast(err.message, "error");
    } finally {
      button.disabled = false;
      setBd24();
    }
  }
  $("dl-summary").addEventListener("click", (e) => save(e.currentTarget, "/api/summary.xlsx", "summary.xlsx"));
  if (bd24Button) bd24Button.addEventListener("click", () => save(bd24Button, "/api/summary/bd24.pdf", "bd24.pdf", "POST"));

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    load();
  });
  monthInput.addEventListener("change", () => monthInput.value && load());
  if (stationSelect) stationSelect.addEventListener("change", load);

  if (stationSelect && initial.get("station")) stationSelect.value = initial.get("station");
  (async () => {
    monthInput.value = initial.get("month") || (await FD.openingMonth(params().station));
    load();
  })();
})();
