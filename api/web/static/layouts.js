/* 表单版式 (back office, issue 13): the registered layouts (导出, 删除, 导入), and a new one
 * from a scan: the proposal's boxes over the reference image, moved by dragging, resized by
 * the corner handle, a field not found placed by drawing a rectangle; 保存 with a name.
 * Boxes are [x, y, w, h] in mm of the reference image (the page's paper size); the image
 * is shown scaled, so a pointer's pixels are turned into mm by the stage's width. */
"use strict";

(() => {
  const { el, api, toast } = FD;
  const $ = (id) => document.getElementById(id);
  const MIN_MM = 2; // the smallest box the server takes

  function show(node, text) {
    node.textContent = text || "";
    node.hidden = !text;
  }

  async function postFile(url, form) {
    const res = await fetch(url, {
      method: "POST",
      body: form,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": (await FD.me()).csrf || "" },
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new FD.ApiError(data.reason || `请求失败(${res.status})`, res.status, data);
    return data;
  }

  // -- the list ---------------------------------------------------------------------------------
  async function load() {
    const tbody = $("lt-table").querySelector("tbody");
    let list;
    try {
      list = await api("GET", "/api/layouts");
    } catch (err) {
      tbody.replaceChildren(el("tr", {}, el("td", { colspan: 6, class: "refused", text: err.message })));
      return;
    }
    if (!list.length) {
      tbody.replaceChildren(el("tr", {}, el("td", { colspan: 6, class: "muted", text: "还没有登记任何版式" })));
      return;
    }
    tbody.replaceChildren(
      ...list.map((v, i) =>
        el(
          "tr",
          { dataset: { template: v.template, name: v.name } },
          // one form's variants under one heading cell
          el("td", { text: i && list[i - 1].template === v.template ? "" : `${v.template} ${v.title}` }),
          el("td", { class: "lt-variant", text: v.name }),
          el("td", {
            text:
              `${v.fields.length + (v.columns.length ? 1 : 0)} 个栏目有框` +
              (v.missing.length ? `,${v.missing.length} 个没有:${v.missing.map((m) => m.label).join("、")}` : ""),
          }),
          el("td", { text: v.created_by }),
          el("td", { text: FD.fmtTime(v.created_at) }),
          el(
            "td",
            { class: "actions" },
            el("a", { href: v.preview_url, target: "_blank", rel: "noopener", text: "预览" }),
            el("button", {
              type: "button",
              class: "lt-export",
              text: "导出",
              onclick: () => FD.fetchDownload(v.export_url, "layout.json").catch((e) => toast(e.message, "error")),
            }),
            el("button", { type: "button", class: "lt-remove", text: "删除", onclick: () => remove(v) })
          )
        )
      )
    );
  }

  async function remove(v) {
    if (!confirm(`删除 ${v.template} 的版式“${v.name}”?此后这种版式的扫描件将无法识读(已读出的记录不受影响)。`)) return;
    try {
      await api("DELETE", `/api/layouts/${encodeURIComponent(v.slug)}/${encodeURIComponent(v.name)}`);
      toast(`已删除版式“${v.name}”`, "ok");
    } catch (err) {
      toast(err.message, "error");
    }
    load();
  }

  $("lt-import").addEventListener("submit", async (e) => {
    e.preventDefault();
    const file = $("lt-import-file").files[0];
    if (!file) return;
    const form = new FormData();
    form.append("file", file);
    if ($("lt-import-name").value.trim()) form.append("name", $("lt-import-name").value.trim());
    show($("lt-import-error"), "");
    try {
      const v = await postFile("/api/layouts/import", form);
      toast(`已导入 ${v.template} 的版式“${v.name}”`, "ok");
      $("lt-import").reset();
      load();
    } catch (err) {
      show($("lt-import-error"), err.message);
    }
  });

  // -- the editor -------------------------------------------------------------------------------
  let draft = null; // the server's draft
  const boxes = new Map(); // key → {label, box: [x, y, w, h] mm, source}
  let missing = []; // [{key, label, assignable}] not boxed yet
  let selected = null;
  let drawing = null; // the key of the field being drawn

  const stage = $("lt-stage");
  const pct = (v, of) => `${(v / of) * 100}%`;
  const round1 = (v) => Math.round(v * 10) / 10;
  const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);

  /** mm per CSS pixel of the stage as shown now. */
  function mmPerPx() {
    return draft.paper_mm[0] / stage.getBoundingClientRect().width;
  }

  /** The stage no taller than most of the window (a small tag is not blown up wide). */
  function fitStage() {
    if (!draft) return;
    const [pw, ph] = draft.paper_mm;
    stage.style.width = `${Math.round((Math.max(window.innerHeight - 120, 400) * pw) / ph)}px`;
  }
  window.addEventListener("resize", fitStage);

  function place(node, box) {
    const [pw, ph] = draft.paper_mm;
    node.style.left = pct(box[0], pw);
    node.style.top = pct(box[1], ph);
    node.style.width = pct(box[2], pw);
    node.style.height = pct(box[3], ph);
  }

  function render() {
    stage.querySelectorAll(".lt-box, .lt-col").forEach((n) => n.remove());
    for (const c of draft.columns) {
      const node = el("div", { class: "lt-col", title: `明细表列:${c.label}` }, el("span", { text: c.label }));
      place(node, c.box);
      stage.append(node);
    }
    for (const [key, b] of boxes) {
      const node = el(
        "div",
        {
          class: `lt-box${b.source === "manual" ? " manual" : ""}${key === selected ? " selected" : ""}`,
          dataset: { key },
          title: `${b.label}:${b.box.map(round1).join(", ")} mm`,
        },
        el("span", { text: b.label }),
        el("i", { class: "lt-handle", title: "拖动调整大小" })
      );
      place(node, b.box);
      node.addEventListener("pointerdown", (e) => startDrag(e, key, e.target.classList.contains("lt-handle")));
      stage.append(node);
    }
    renderLists();
  }

  function renderLists() {
    $("lt-missing").replaceChildren(
      ...missing.map((m) =>
        el(
          "li",
          { dataset: { key: m.key }, class: drawing === m.key ? "selected" : "" },
          el("span", { text: m.label }),
          m.assignable
            ? el("button", { type: "button", class: "lt-assign", text: "画框", onclick: () => startDrawing(m.key) })
            : el("span", { class: "muted small", text: "由表格线确定" })
        )
      )
    );
    $("lt-missing-none").hidden = missing.length > 0;
    $("lt-found").replaceChildren(
      ...[...boxes].map(([key, b]) =>
        el(
          "li",
          { dataset: { key }, class: key === selected ? "selected" : "" },
          el("span", { text: b.label, onclick: () => select(key) }),
          el("span", { class: "mono", text: b.box.map((v) => v.toFixed(1)).join(", ") }),
          el("button", { type: "button", class: "lt-clear", text: "清除", title: "去掉这个框,重新画", onclick: () => clear(key) })
        )
      )
    );
    $("lt-summary").textContent =
      `${boxes.size} 个栏目有框` + (missing.length ? `,${missing.length} 个未找到` : "") +
      (draft.columns.length ? `;明细表 ${draft.columns.length} 列` : "");
  }

  function select(key) {
    selected = key;
    render();
  }

  function clear(key) {
    const b = boxes.get(key);
    boxes.delete(key);
    missing.push({ key, label: b.label, assignable: true });
    if (selected === key) selected = null;
    render();
  }

  /** Moves (or, from the handle, resizes) box `key` with the pointer, within the page. */
  function startDrag(e, key, resize) {
    if (drawing || e.button !== 0) return;
    e.preventDefault();
    e.stopPropagation();
    const node = e.currentTarget;
    node.setPointerCapture(e.pointerId);
    selected = key;
    stage.querySelectorAll(".lt-box.selected").forEach((n) => n.classList.remove("selected"));
    node.classList.add("selected");
    const b = boxes.get(key);
    const start = [...b.box];
    const [pw, ph] = draft.paper_mm;
    const scale = mmPerPx();
    const x0 = e.clientX;
    const y0 = e.clientY;
    const move = (ev) => {
      const dx = (ev.clientX - x0) * scale;
      const dy = (ev.clientY - y0) * scale;
      if (resize) {
        b.box = [start[0], start[1], clamp(start[2] + dx, MIN_MM, pw - start[0]), clamp(start[3] + dy, MIN_MM, ph - start[1])];
      } else {
        b.box = [clamp(start[0] + dx, 0, pw - start[2]), clamp(start[1] + dy, 0, ph - start[3]), start[2], start[3]];
      }
      b.source = "manual";
      node.classList.add("manual");
      place(node, b.box);
    };
    const up = () => {
      node.removeEventListener("pointermove", move);
      node.removeEventListener("pointerup", up);
      node.removeEventListener("pointercancel", up);
      render();
    };
    node.addEventListener("pointermove", move);
    node.addEventListener("pointerup", up);
    node.addEventListener("pointercancel", up);
  }

  function startDrawing(key) {
    drawing = key;
    stage.classList.add("drawing");
    const m = missing.find((x) => x.key === key);
    show($("lt-draw-hint"), `在图上按住鼠标拖出“${m.label}”的框(Esc 取消)`);
    renderLists();
  }

  function stopDrawing() {
    drawing = null;
    stage.classList.remove("drawing");
    show($("lt-draw-hint"), "");
  }

  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && drawing) {
      stopDrawing();
      renderLists();
    }
  });

  /** The point of a pointer event on the page, mm. */
  function pointMm(e) {
    const r = stage.getBoundingClientRect();
    const s = draft.paper_mm[0] / r.width;
    return [clamp((e.clientX - r.left) * s, 0, draft.paper_mm[0]), clamp((e.clientY - r.top) * s, 0, draft.paper_mm[1])];
  }

  stage.addEventListener("pointerdown", (e) => {
    if (!drawing || e.button !== 0) return;
    e.preventDefault();
    stage.setPointerCapture(e.pointerId);
    const key = drawing;
    const a = pointMm(e);
    const rubber = el("div", { class: "lt-draw" });
    stage.append(rubber);
    let box = [a[0], a[1], 0, 0];
    const move = (ev) => {
      const b = pointMm(ev);
      box = [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.abs(b[0] - a[0]), Math.abs(b[1] - a[1])];
      place(rubber, box);
    };
    const up = () => {
      stage.removeEventListener("pointermove", move);
      stage.removeEventListener("pointerup", up);
      rubber.remove();
      if (box[2] < MIN_MM || box[3] < MIN_MM) {
        toast(`框太小(至少 ${MIN_MM} × ${MIN_MM} mm),请重新拖出`, "error");
        return;
      }
      const m = missing.find((x) => x.key === key);
      missing = missing.filter((x) => x.key !== key);
      boxes.set(key, { label: m.label, box, source: "manual" });
      selected = key;
      stopDrawing();
      render();
    };
    stage.addEventListener("pointermove", move);
    stage.addEventListener("pointerup", up);
  });

  function open(d) {
    draft = d;
    boxes.clear();
    for (const f of d.fields) boxes.set(f.key, { label: f.label, box: [...f.box], source: f.source });
    missing = d.missing.map((m) => ({ ...m }));
    selected = null;
    stopDrawing();
    $("lt-title").textContent = `${d.template} ${d.title}`;
    $("lt-name").value = "";
    show($("lt-save-error"), "");
    $("lt-editor").hidden = false;
    const img = $("lt-image");
    img.onload = () => {
      stage.dataset.ready = "true";
    };
    stage.dataset.ready = "false";
    img.src = d.reference_url;
    fitStage();
    render();
    $("lt-editor").scrollIntoView({ block: "start" });
  }

  function close() {
    draft = null;
    $("lt-editor").hidden = true;
    $("lt-image").removeAttribute("src");
  }

  $("lt-propose").addEventListener("submit", async (e) => {
    e.preventDefault();
    const file = $("lt-file").files[0];
    if (!file) return;
    const form = new FormData();
    form.append("template", $("lt-template").value);
    form.append("file", file);
    const go = $("lt-propose-go");
    go.disabled = true;
    show($("lt-propose-error"), "");
    $("lt-propose-status").textContent = "正在识别各栏目的位置…(首次约需半分钟)";
    try {
      open(await postFile("/api/layout-drafts", form));
      $("lt-propose-status").textContent = "";
    } catch (err) {
      $("lt-propose-status").textContent = "";
      show($("lt-propose-error"), err.message);
    } finally {
      go.disabled = false;
    }
  });

  $("lt-save-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!draft) return;
    const name = $("lt-name").value.trim();
    const body = { name, boxes: Object.fromEntries([...boxes].map(([k, b]) => [k, b.box.map(round1)])) };
    show($("lt-save-error"), "");
    try {
      const v = await api("POST", `/api/layout-drafts/${draft.draft_id}/save`, body);
      toast(`已保存 ${v.template} 的版式“${v.name}”`, "ok");
      close();
      load();
    } catch (err) {
      show($("lt-save-error"), err.message);
    }
  });

  $("lt-discard").addEventListener("click", async () => {
    if (!draft || !confirm("放弃这个草稿?调整过的框不会保存。")) return;
    try {
      await api("DELETE", `/api/layout-drafts/${draft.draft_id}`);
    } catch (_) {
      /* gone already */
    }
    close();
  });

  FD.fillTemplateSelect($("lt-template"));
  load();
})();
