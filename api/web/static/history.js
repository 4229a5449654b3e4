/* 识读词库 (back office, issue 10): a form's text fields' values people confirmed in
 * reviews, which the reader reads those fields against; 停用 takes a slip out of it,
 * 恢复 puts it back.  The chosen form is kept in the address (?form=…). */
"use strict";

(() => {
  const { el, api, toast } = FD;
  const $ = (id) => document.getElementById(id);
  const select = $("hs-template");
  const tbody = $("hs-table").querySelector("tbody");

  function message(text, cls) {
    tbody.replaceChildren(el("tr", {}, el("td", { colspan: 5, class: cls || "muted", text })));
  }

  async function load() {
    const form = select.value;
    if (!form) return message("请选择表单");
    history.replaceState(null, "", FD.query({ form }));
    let h;
    try {
      h = await api("GET", `/api/history${FD.query({ form })}`);
    } catch (err) {
      return message(err.message, "refused");
    }
    const off = h.values.filter((v) => v.excluded_by).length;
    $("hs-count").textContent = `${h.values.length} 条${off ? `(${off} 条已停用)` : ""}`;
    if (!h.values.length) return message("这种表单的文字栏还没有经人工确认的填写");
    tbody.replaceChildren(
      ...h.values.map((v, i) => {
        const same = i && h.values[i - 1].field === v.field;
        const state = v.excluded_by
          ? el("td", { class: "refused", text: `已停用(${v.excluded_by},${FD.fmtTime(v.excluded_at)})` })
          : el("td", { class: "ok", text: "识读时参照" });
        const button = v.excluded_by
          ? el("button", { type: "button", class: "hs-restore", text: "恢复", onclick: () => change("restore", h, v) })
          : el("button", { type: "button", class: "hs-exclude", text: "停用", onclick: () => change("exclude", h, v) });
        return el(
          "tr",
          { dataset: { field: v.field, value: v.value } },
          el("td", { text: same ? "" : v.label }),
          el("td", { class: "hs-value", text: v.value }),
          el("td", { text: String(v.times) }),
          state,
          el("td", { class: "actions" }, button)
        );
      })
    );
  }

  async function change(action, h, v) {
    const verb = action === "exclude" ? "停用" : "恢复";
    if (action === "exclude" && !confirm(`停用“${v.value}”(${h.template} ${v.label})?识读这一栏时将不再参照它。`)) return;
    try {
      await api("POST", `/api/history/${action}`, { form: h.template, field: v.field, value: v.value });
      toast(`已${verb}“${v.value}”`, "ok");
    } catch (err) {
      toast(err.message, "error");
    }
    load();
  }

  select.append(el("option", { value: "", text: "请选择表单…" }));
  FD.fillTemplateSelect(select, new URLSearchParams(location.search).get("form") || "").then(load);
  select.addEventListener("change", load);
})();
