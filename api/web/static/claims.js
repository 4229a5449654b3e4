/* 索赔单: the claims (a station sees its own), filtered by station, repair month and claim
 * number / VIN; the imports (back office and auditors) with each import's claims. */
"use strict";

(() => {
  const { el, api, query, renderPager } = FD;
  const $ = (id) => document.getElementById(id);
  const LIMIT = 100;
  let offset = 0;
  let importId = null;
  const stationNames = Object.fromEntries(FD.stations().map((s) => [s.code, s.name]));

  const beijing = FD.fmtTime; // Beijing time, whatever the browser's zone

  function money(c) {
    const n = Number(c.labor_fee) + Number(c.material_fee);
    return Number.isFinite(n) ? n.toFixed(2) : "";
  }

  function source(c) {
    const [kind, id] = (c.source || "").split(":");
    const line = c.source_line ? ` 第${c.source_line}行` : "";
    if (kind === "import") return `导入 ${id}${line}`;
    if (kind === "record") return el("a", { href: `/review/${encodeURIComponent(id)}`, text: `BD-25 记录${line}` });
    return c.source || "";
  }

  async function load() {
    const tbody = $("claims-table").querySelector("tbody");
    const params = {
      station: $("cl-station") ? $("cl-station").value : "",
      month: $("cl-month").value,
      q: $("cl-q").value.trim(),
      import_id: importId,
      offset,
      limit: LIMIT,
    };
    let list;
    try {
      list = await api("GET", "/api/claims" + query(params));
    } catch (err) {
      tbody.replaceChildren(el("tr", {}, el("td", { colspan: 10, class: "refused", text: err.message })));
      $("cl-pager").replaceChildren();
      return;
    }
    if (!list.items.length) {
      tbody.replaceChildren(el("tr", {}, el("td", { colspan: 10, class: "muted", text: "没有符合条件的索赔单" })));
    } else {
      tbody.replaceChildren(
        ...list.items.map((c) =>
          el(
            "tr",
            { dataset: { claimNo: c.claim_no } },
            el("td", { class: "mono", text: c.claim_no }),
            el("td", { text: `${c.station} ${stationNames[c.station] || ""}`.trim() }),
            el("td", { class: "mono", text: c.vin }),
            el("td", { text: c.vehicle_model }),
            el("td", { text: `${c.part_no} ${c.part_name}` }),
            el("td", { class: "num", text: c.quantity }),
            el("td", { text: c.repair_date }),
            el("td", { class: "num", text: c.mileage_km }),
            el("td", { class: "num", text: money(c) }),
            el("td", {}, source(c))
          )
        )
      );
    }
    renderPager($("cl-pager"), list, offset, LIMIT, (next) => {
      offset = next;
      load();
    });
  }

  function showImportFilter(imp) {
    const note = $("cl-import-filter");
    if (!imp) {
      note.hidden = true;
      return;
    }
    note.replaceChildren(
      `只显示导入 ${imp.import_id}(${imp.filename},${imp.imported_by} 于 ${beijing(imp.imported_at)})带来的索赔单。`,
      el("button", { type: "button", class: "link", id: "cl-import-clear", text: "显示全部", onclick: () => choose(null) })
    );
    note.hidden = false;
  }

  function choose(imp) {
    importId = imp ? imp.import_id : null;
    offset = 0;
    showImportFilter(imp);
    for (const tr of document.querySelectorAll("#imports-table tbody tr")) {
      tr.classList.toggle("selected", !!imp && tr.dataset.importId === imp.import_id);
    }
    load();
  }

  async function loadImports() {
    const table = $("imports-table");
    if (!table) return;
    const tbody = table.querySelector("tbody");
    let list;
    try {
      list = await api("GET", "/api/claims/imports");
    } catch (err) {
      tbody.replaceChildren(el("tr", {}, el("td", { colspan: 9, class: "refused", text: err.message })));
      return;
    }
    if (!list.length) {
      tbody.replaceChildren(el("tr", {}, el("td", { colspan: 9, class: "muted", text: "还没有导入过索赔单" })));
      return;
    }
    tbody.replaceChildren(
      ...list.map((imp) =>
        el(
          "tr",
          { dataset: { importId: imp.import_id } },
          el("td", { text: imp.filename }),
          el("td", { text: imp.imported_by }),
          el("td", { text: beijing(imp.imported_at) }),
          el("td", { class: "num", text: imp.claims }),
          el("td", { class: "num", text: imp.replaced }),
          el("td", { class: "num", text: imp.unchanged }),
          el("td", { text: (imp.stations_added || []).join("、") || "—" }),
          el("td", { class: "mono small", title: imp.sha256, text: imp.sha256.slice(0, 12) + "…" }),
          el(
            "td",
            { class: "actions" },
            imp.undone_by
              ? el("span", { class: "small muted", text: `已由 ${imp.undone_by} 于 ${beijing(imp.undone_at)} 撤销` })
              : el("button", { type: "button", class: "view-import", text: "查看", onclick: () => choose(imp) }),
            !imp.undone_by && FD.role === "back_office" && FD.canWrite
              ? el("button", { type: "button", class: "undo-import", text: "撤销", onclick: () => undo(imp) })
              : null
          )
        )
      )
    );
  }

  /** 撤销 an import: its claims taken out again, after the clerk has seen how many. */
  async function undo(imp) {
    const n = imp.claims;
    if (!confirm(`撤销这次导入(${imp.filename})吗?它导入的 ${n} 张索赔单将被删除,导入记录保留。`)) return;
    try {
      const done = await api("POST", `/api/claims/imports/${encodeURIComponent(imp.import_id)}/undo`);
      FD.toast(`已撤销:删除了 ${done.deleted} 张索赔单`, "ok");
    } catch (err) {
      FD.toast(err.message, "error");
    }
    loadImports();
    load();
  }

  const form = $("cl-filters");
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    offset = 0;
    load();
  });
  form.addEventListener("reset", () => {
    setTimeout(() => choose(null), 0);
  });
  document.addEventListener("claims-imported", () => {
    loadImports();
    load();
  });
  load();
  loadImports();
})();
