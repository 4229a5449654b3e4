/* 未能识读的页面: a refused page with its thumbnail, the reader's reason, and what the clerk
 * can do — choose the form (and page) and read it again, or discard it with a reason.
 * Used by the batch page and the 待处理页面 page: FD.refusalCard(refusal, onChange). */
"use strict";

(() => {
  const { el, api, fmtTime } = FD;
  let templates = null;

  async function templateOptions() {
    if (!templates) templates = api("GET", "/api/templates").catch(() => []);
    return templates;
  }

  function refusalCard(r, onChange) {
    const thumb = el("img", {
      alt: `${r.filename} 第 ${r.file_page + 1} 页`,
      loading: "lazy",
      src: `/api/scans/${encodeURIComponent(r.scan_id)}/pages/${r.file_page}/thumb.png`,
    });
    const head = el(
      "div",
      { class: "refusal-head" },
      el("b", { text: `${r.filename} · 第 ${r.file_page + 1} 页` }),
      " ",
      FD.badge(r.state, FD.REFUSAL_STATE)
    );
    const card = el(
      "div",
      { class: "refusal", dataset: { refusalId: r.refusal_id, state: r.state } },
      head,
      el("a", { href: `/api/scans/${encodeURIComponent(r.scan_id)}`, title: "下载原文件" }, thumb),
      el("p", { class: "why", text: r.reason })
    );
    if (r.state === "resolved") {
      card.append(
        el(
          "p",
          { class: "small" },
          `${r.settled_by || ""} 指定为 ${r.template}(第 ${r.form_page || 1} 页),已识读:`,
          ...r.record_ids.map((id) => el("a", { href: `/review/${encodeURIComponent(id)}`, text: ` 打开记录 ${id}` }))
        )
      );
    } else if (r.state === "discarded") {
      card.append(el("p", { class: "small muted", text: `${r.settled_by || ""} 于 ${fmtTime(r.updated_at)} 放弃:${r.note || ""}` }));
    } else if (r.state === "requeued") {
      card.append(el("p", { class: "small", text: `已指定为 ${r.template}(第 ${r.form_page || 1} 页),正在重新识读…` }));
    } else if (FD.canWrite) {
      const select = el("select", { name: "template", required: true }, el("option", { value: "", text: "请选择表单…" }));
      templateOptions().then((list) => {
        for (const t of list) select.append(el("option", { value: t.code, text: `${t.code} ${t.title}` }));
      });
      const pageNo = el("input", { type: "number", name: "form_page", min: 1, max: 20, value: r.form_page || 1, style: "width:4em" });
      const error = el("p", { class: "form-error", role: "alert", hidden: true });
      const classify = el(
        "form",
        { class: "classify" },
        el("label", {}, "这是哪种表单 ", select),
        el("label", {}, "第 ", pageNo, " 页"),
        el("button", { type: "submit", class: "primary", text: "重新识读" })
      );
      classify.addEventListener("submit", async (e) => {
        e.preventDefault();
        if (!select.value) return;
        try {
          await api("POST", `/api/refusals/${encodeURIComponent(r.refusal_id)}/classify`, {
            template: select.value,
            form_page: Number(pageNo.value || 1),
          });
          FD.toast("已送去重新识读", "ok");
          onChange();
        } catch (err) {
          error.textContent = err.message;
          error.hidden = false;
        }
      });
      const why = el("input", { type: "text", name: "reason", maxlength: 200, placeholder: "如:空白页、重复扫描", required: true });
      const discard = el(
        "form",
        { class: "discard" },
        el("label", { class: "grow" }, "放弃原因 ", why),
        el("button", { type: "submit", text: "放弃这一页" })
      );
      discard.addEventListener("submit", async (e) => {
        e.preventDefault();
        try {
          await api("POST", `/api/refusals/${encodeURIComponent(r.refusal_id)}/discard`, { reason: why.value });
          onChange();
        } catch (err) {
          error.textContent = err.message;
          error.hidden = false;
        }
      });
      card.append(classify, discard, error);
    }
    return card;
  }

  FD.refusalCard = refusalCard;
})();
