/* 打印: pick a form, fill what is known, download a prefilled (or blank) PDF. */
"use strict";

(() => {
  const { el, api, query, toast } = FD;
  const canWrite = FD.canWrite;
  const $ = (id) => document.getElementById(id);
  const groupsBox = $("form-groups");
  const form = $("print-form");
  const fieldsBox = $("form-fields");
  const errorBox = $("form-error");
  const okBox = $("form-ok");

  const GROUPS = [
    ["SH-ZH/BD 报表与标签", (t) => t.code.startsWith("SH-ZH/BD")],
    ["表格(维修站)", (t) => !t.code.startsWith("SH-ZH/BD")],
  ];
  const PAPER = { portrait: "纵向", landscape: "横向" };
  const NOTE_TYPES = new Set(["signature", "seal"]);

  let spec = null;
  let controls = []; // {key, label, get(), box, input}
  let tables = []; // {key, label, columns, tbody, rows: [{tr, cells: {col: {get, input}}}]}

  // -- the list of forms ---------------------------------------------------------------------------
  async function loadList() {
    let list;
    try {
      list = await FD.templates();
    } catch (err) {
      groupsBox.replaceChildren(el("p", { class: "refused", text: err.message }));
      return;
    }
    groupsBox.replaceChildren(
      ...GROUPS.map(([title, test]) =>
        el(
          "section",
          {},
          el("h2", { text: title }),
          list
            .filter(test)
            .map((t) =>
              el(
                "a",
                { href: `#${t.slug}`, dataset: { slug: t.slug, search: `${t.code} ${t.title}`.toLowerCase() } },
                el("span", { class: "code", text: t.code }),
                el("span", { text: t.title })
              )
            )
        )
      )
    );
    const wanted = location.hash.slice(1) || new URLSearchParams(location.search).get("form");
    if (wanted) choose(wanted);
  }

  $("form-filter").addEventListener("input", (e) => {
    const q = e.target.value.trim().toLowerCase();
    for (const a of groupsBox.querySelectorAll("a")) a.hidden = q && !a.dataset.search.includes(q);
  });
  window.addEventListener("hashchange", () => choose(location.hash.slice(1)));

  // -- one form -------------------------------------------------------------------------------------
  async function choose(slug) {
    if (!slug || (spec && spec.slug === slug)) return;
    for (const a of groupsBox.querySelectorAll("a")) a.classList.toggle("active", a.dataset.slug === slug);
    try {
      spec = await api("GET", `/api/templates/${encodeURIComponent(slug)}`);
    } catch (err) {
      toast(err.message, "error");
      return;
    }
    $("print-empty").hidden = true;
    form.hidden = false;
    if (canWrite) resetBatch();
    $("form-title").textContent = `${spec.code} ${spec.title}`;
    showPaper();
    clearMessages();
    build();
  }

  /* Small tags (A6, ganged four to an A4 sheet by default) may print one per A6 page:
   * the 纸张 choice shows for them only, and the form's line says what will come out. */
  const paperBox = $("paper");
  function tagPaper() {
    return spec && spec.per_sheet > 1 && paperBox ? paperBox.value : null;
  }

  function showPaper() {
    const tags = spec.per_sheet > 1;
    if (paperBox) {
      $("paper-choice").hidden = !tags;
      for (const n of document.querySelectorAll(".paper-note")) n.hidden = !tags;
    }
    const paper = `${spec.paper.size} ${PAPER[spec.paper.orientation] || spec.paper.orientation}`;
    const layout = !tags ? "" : tagPaper() === "a6" ? " · 每页 A6 一份" : ` · 每张 A4 排 ${spec.per_sheet} 份`;
    $("form-meta").textContent = `第 ${spec.version} 版 · ${paper}${layout} · 只需填写已知的栏目,其余打印后手写`;
  }
  if (paperBox) paperBox.addEventListener("change", () => spec && showPaper());

  /* Every typed value goes to the server as typed, in a text box: the server checks it
   * and names the field and the rule when it is refused. Native date and number boxes
   * are not used (an impossible date such as 2026-02-30 or full-width digits typed with a
   * Chinese input method leave them empty, and the value would be dropped without a
   * word), nor maxlength (it cuts pasted text silently). */
  const TEXT_TYPES = {
    integer: { inputmode: "numeric" },
    serial: { inputmode: "numeric" },
    decimal: { inputmode: "decimal" },
    money: { inputmode: "decimal", placeholder: "如 1200.50" },
    date: { placeholder: "如 2026-03-15 或 2026年3月15日" },
    month: { placeholder: "如 2026-03 或 2026年3月" },
    datetime: { placeholder: "如 2026-03-15 14:30" },
    time: { placeholder: "如 14:30" },
  };

  function inputFor(s, name) {
    const common = { name, disabled: !canWrite, autocomplete: "off" };
    if (TEXT_TYPES[s.type]) return el("input", { ...common, type: "text", ...TEXT_TYPES[s.type] });
    switch (s.type) {
      case "multiline":
        return el("textarea", { ...common, rows: 2 });
      case "choice":
      case "circle_choice":
        return el(
          "select",
          common,
          el("option", { value: "", text: "(不填)" }),
          (s.options || []).map((o) => el("option", { value: o, text: o }))
        );
      case "checkbox":
        return el("input", { ...common, type: "checkbox", value: "true" });
      case "vin":
        return el("input", { ...common, type: "text", placeholder: "17 位车架号", class: "mono upper" });
      case "phone":
        return el("input", { ...common, type: "tel" });
      default:
        return el("input", { ...common, type: "text", placeholder: s.hint || undefined });
    }
  }

  /** A box whose content the browser could not take as a value (`badInput`: it then
   * reports ""), which must be refused, never sent as empty. */
  class Unreadable extends Error {}

  function valueOf(s, input) {
    if (s.type === "checkbox") return input.checked ? true : null;
    if (input.validity && input.validity.badInput) throw new Unreadable();
    const v = input.value.trim();
    if (!v) return null;
    if (s.type === "vin" || s.type === "engine_no" || s.type === "plate") return v.toUpperCase();
    return v;
  }

  function build() {
    controls = [];
    tables = [];
    const nodes = [];
    const handwritten = [];
    for (const f of spec.fields) {
      if (NOTE_TYPES.has(f.type)) {
        handwritten.push(f.label);
        continue;
      }
      if (f.type === "table") {
        nodes.push(tableBlock(f));
        continue;
      }
      if (f.type === "money_words") {
        const of = spec.fields.find((x) => x.key === f.words_of);
        nodes.push(
          el(
            "div",
            { class: "pf" },
            el("label", { text: f.label }),
            el("div", { class: "ctl" }, el("span", { class: "note", text: `由“${of ? of.label : f.words_of}”自动生成` }))
          )
        );
        continue;
      }
      const id = `pf-${f.key}`;
      const input = inputFor(f, f.key);
      input.id = id;
      const unit = f.constraints && f.constraints.unit;
      const errorLine = el("div", { class: "pf-error", hidden: true });
      const box = el(
        "div",
        { class: "pf" + (f.type === "multiline" ? " wide" : ""), dataset: { key: f.key } },
        el("label", { for: id, text: f.label }),
        el("div", { class: "ctl" }, input, unit ? el("span", { class: "unit", text: unit }) : null),
        errorLine
      );
      input.addEventListener("input", () => unmark(box));
      prefillStation(f, input, box);
      controls.push({ key: f.key, label: f.label, get: () => read(f, f.key, input), box, input, errorLine });
      nodes.push(box);
    }
    if (handwritten.length) {
      nodes.push(el("div", { class: "section-note", text: `签字、盖章栏打印后手写:${handwritten.join("、")}` }));
    }
    fieldsBox.replaceChildren(...nodes);
    const first = fieldsBox.querySelector("input:not([disabled]), select:not([disabled]), textarea:not([disabled])");
    if (first) first.focus();
  }

  /** A station user's forms are its own: the fields holding the station (维修站, 来件单位,
   * 单位名称: its name; 站号: its code) start with it. They stay editable (a short form of
   * the name, a department); the server refuses another station's name or code. */
  function prefillStation(f, input, box) {
    if (!f.station || !FD.station || !canWrite) return;
    input.value = f.station === "code" ? FD.station : FD.stationName || FD.station;
    box.classList.add("own-station");
    input.title = "本站信息已自动填写,可修改;不能填写其他维修站";
  }

  function tableBlock(f) {
    const cols = (f.columns || []).filter((c) => c.type !== "serial" && !NOTE_TYPES.has(c.type));
    const tbody = el("tbody");
    const errorLine = el("div", { class: "pf-error", hidden: true });
    const table = { key: f.key, label: f.label, columns: cols, tbody, rows: [], errorLine };
    const addButton = el("button", {
      type: "button",
      class: "add-row",
      text: "+ 添加一行",
      disabled: !canWrite,
      onclick: () => {
        const row = addRow(table);
        const first = row.tr.querySelector("input, select");
        if (first) first.focus();
      },
    });
    const block = el(
      "div",
      { class: "pf-table", dataset: { key: f.key } },
      el(
        "div",
        { class: "tt" },
        el("b", { text: f.label }),
        el("span", { class: "muted small", text: `每页 ${f.rows_per_page} 行,超出的行续印在下一页` }),
        addButton
      ),
      el(
        "table",
        {},
        el(
          "thead",
          {},
          el("tr", {}, el("th", { text: "行" }), cols.map((c) => el("th", { text: c.label })), el("th"))
        ),
        tbody
      ),
      errorLine
    );
    table.block = block;
    tables.push(table);
    for (let i = 0; i < Math.min(2, f.rows_per_page || 2); i++) addRow(table);
    return block;
  }

  function addRow(table) {
    const cells = {};
    const tr = el("tr");
    const number = el("td", { class: "rn" });
    tr.append(number);
    for (const c of table.columns) {
      const input = inputFor(c, `${table.key}.${c.key}`);
      input.setAttribute("aria-label", c.label);
      input.addEventListener("input", () => {
        tr.classList.remove("bad");
        unmark(table.block);
      });
      cells[c.key] = { get: () => read(c, `${table.key}.${c.key}`, input, () => rowNumber(table, row)), input };
      tr.append(el("td", {}, input));
    }
    const row = { tr, cells };
    tr.append(
      el(
        "td",
        { class: "del" },
        el("button", {
          type: "button",
          text: "×",
          title: "删除这一行",
          disabled: !canWrite,
          onclick: () => {
            table.rows.splice(table.rows.indexOf(row), 1);
            tr.remove();
            renumber(table);
          },
        })
      )
    );
    table.rows.push(row);
    table.tbody.append(tr);
    renumber(table);
    return row;
  }

  /** The rows sent to the server, which numbers them: those with something filled in. */
  function filledRows(table) {
    const filled = (input) => (input.type === "checkbox" ? input.checked : input.value.trim() !== "");
    return table.rows.filter((r) => Object.values(r.cells).some((cell) => filled(cell.input)));
  }

  function rowNumber(table, row) {
    return filledRows(table).indexOf(row) + 1 || table.rows.indexOf(row) + 1;
  }

  /** valueOf, an unreadable box turned into the server's kind of reason, so it is shown
   * at its field like every other refusal. */
  function read(s, key, input, row) {
    try {
      return valueOf(s, input);
    } catch (err) {
      if (!(err instanceof Unreadable)) throw err;
      const where = row ? `第${row()}行 ` : "";
      throw new Error(`${where}${s.label}(${key}):内容无法识别,请按提示的格式重新填写`);
    }
  }

  function renumber(table) {
    table.rows.forEach((r, i) => (r.tr.firstChild.textContent = i + 1));
  }

  function values() {
    const out = {};
    for (const c of controls) {
      const v = c.get();
      if (v !== null) out[c.key] = v;
    }
    for (const t of tables) {
      const rows = [];
      for (const r of t.rows) {
        const row = {};
        for (const [k, cell] of Object.entries(r.cells)) {
          const v = cell.get();
          if (v !== null) row[k] = v;
        }
        if (Object.keys(row).length) rows.push(row);
      }
      if (rows.length) out[t.key] = rows;
    }
    return out;
  }

  // -- messages ----------------------------------------------------------------------------------------
  function unmark(box) {
    box.classList.remove("bad");
    const line = box.querySelector(".pf-error");
    if (line) line.hidden = true;
  }

  function clearMessages() {
    errorBox.hidden = true;
    okBox.hidden = true;
    for (const b of fieldsBox.querySelectorAll(".bad")) b.classList.remove("bad");
    for (const l of fieldsBox.querySelectorAll(".pf-error")) l.hidden = true;
  }

  /** A 422 names the field in Chinese ("第2行 项目:…", "车架号码:…") and by key in its
   * details ({field: "vin"} or {field: "items.name", row: 2}): the message goes there. */
  function showError(reason, data = {}) {
    errorBox.textContent = reason;
    errorBox.hidden = false;
    if (!data.field) return;
    const [key, column] = data.field.split(".");
    const row = data.row;
    const message = reason.replace(/^第\d+条记录\s*/, "").replace(/^第\d+行\s*/, "").replace(/^[^::]*[::]\s*/, "");
    const c = controls.find((x) => x.key === key);
    if (c) {
      c.box.classList.add("bad");
      c.errorLine.textContent = message;
      c.errorLine.hidden = false;
      c.input.focus();
      return;
    }
    const t = tables.find((x) => x.key === key);
    if (t) {
      t.block.classList.add("bad");
      t.errorLine.textContent = reason;
      t.errorLine.hidden = false;
      // the server numbers the rows it was sent, i.e. the non-empty ones
      const r = row ? filledRows(t)[Number(row) - 1] : null;
      if (r) {
        r.tr.classList.add("bad");
        const cell = column && r.cells[column];
        (cell ? cell.input : r.tr.querySelector("input, select")).focus();
      }
    }
  }

  function params() {
    const station = $("print-station");
    return query({
      copies: $("copies").value || 1,
      station: station ? station.value : "",
      paper: tagPaper() || "",
    });
  }

  async function fetchPdf(method, url, body, filename, button) {
    clearMessages();
    button.disabled = true;
    const label = button.textContent;
    button.textContent = "生成中…";
    try {
      if (typeof body === "function") body = body();
      const res = await api(method, url, body, { raw: true });
      const blob = await res.blob();
      filename = FD.attachmentName(res, filename);
      FD.download(blob, filename);
      const ids = (res.headers.get("X-Document-Ids") || "").split(",").filter(Boolean);
      okBox.textContent = `已生成 ${filename}(${ids.length} 份,文档号 ${ids.join("、")})。打印后填写,扫描上传即可识读。`;
      okBox.hidden = false;
    } catch (err) {
      showError(err.message, err.data);
    } finally {
      button.disabled = false;
      button.textContent = label;
    }
  }

  if (canWrite) {
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (!spec) return;
      fetchPdf("POST", `/api/print/${spec.slug}${params()}`, values, `${spec.slug}.pdf`, $("make-pdf"));
    });
    $("blank-pdf").addEventListener("click", () => {
      if (!spec) return;
      fetchPdf("POST", `/api/print/${spec.slug}/blank.pdf${params()}`, undefined, `${spec.slug}-blank.pdf`, $("blank-pdf"));
    });
  } else {
    form.addEventListener("submit", (e) => e.preventDefault());
  }

  // -- printing from a spreadsheet: check every row, print the good ones as a job -------------------
  const batchBox = $("batch-print");
  const batchError = $("batch-error");
  let batchFile = null;

  function resetBatch() {
    batchBox.hidden = false;
    batchFile = null;
    $("batch-file").value = "";
    $("batch-result").hidden = true;
    $("batch-progress").hidden = true;
    batchError.hidden = true;
  }

  function batchForm() {
    const body = new FormData();
    body.append("file", batchFile, batchFile.name);
    return body;
  }

  async function postForm(url, body) {
    const me = await FD.me();
    const res = await fetch(url, {
      method: "POST", body, credentials: "same-origin",
      headers: { "X-CSRF-Token": me.csrf || "", Accept: "application/json" },
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new FD.ApiError(data.reason || `请求失败(${res.status})`, res.status, data);
    return data;
  }

  async function checkBatch() {
    batchFile = $("batch-file").files[0] || null;
    $("batch-result").hidden = true;
    $("batch-progress").hidden = true;
    batchError.hidden = true;
    if (!batchFile || !spec) return;
    $("batch-summary").textContent = "检查中…";
    try {
      const checked = await postForm(`/api/print/${spec.slug}/check`, batchForm());
      const more = checked.bad > checked.problems.length ? [`还有 ${checked.bad - checked.problems.length} 行有错未列出`] : [];
      $("batch-summary").textContent = checked.bad
        ? `${checked.filename}:${checked.good} 行可以打印(共 ${checked.pages} 页),${checked.bad} 行有错(不会打印):`
        : `${checked.filename}:${checked.good} 行全部正确,共 ${checked.pages} 页。`;
      $("batch-problems").replaceChildren(...[...checked.problems, ...more].map((p) => el("li", { text: p })));
      $("batch-go").textContent = checked.bad ? `只打印正确的 ${checked.good} 份` : `打印 ${checked.good} 份`;
      $("batch-go").disabled = checked.good === 0;
      $("batch-result").hidden = false;
    } catch (err) {
      batchError.textContent = err.message;
      batchError.hidden = false;
    }
  }

  async function printBatch() {
    if (!batchFile || !spec) return;
    const go = $("batch-go");
    go.disabled = true;
    const progress = $("batch-progress");
    batchError.hidden = true;
    try {
      const station = $("print-station");
      const url =
        `/api/print/${spec.slug}/batch` +
        query({ skip_bad: "true", station: station ? station.value : "", paper: tagPaper() || "" });
      let job = await postForm(url, batchForm());
      progress.hidden = false;
      while (job.state === "queued" || job.state === "rendering") {
        progress.textContent = job.state === "queued" ? "排队等待生成…" : `正在生成 PDF:${job.done} / ${job.total} 份`;
        await new Promise((r) => setTimeout(r, 1000));
        job = await api("GET", job.status_url);
      }
      if (job.state === "failed") throw new FD.ApiError(job.error || "打印失败", 500);
      await FD.fetchDownload(job.file_url, `${spec.slug}.pdf`);
      const skipped = job.skipped.length ? `;跳过有错的 ${job.skipped.length} 行` : "";
      progress.textContent = `已生成 ${job.total} 份表单(已登记,文档号 ${job.document_ids.length} 个)${skipped}。`;
    } catch (err) {
      progress.hidden = true;
      batchError.textContent = err.message;
      batchError.hidden = false;
    } finally {
      go.disabled = false;
    }
  }

  if (canWrite) {
    $("batch-file").addEventListener("change", checkBatch);
    $("batch-go").addEventListener("click", printBatch);
  }

  loadList();
})();
