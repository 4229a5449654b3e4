/* 复核: the aligned scan with every field box, the fields beside it, keyboard first.
 *
 * Tab / Shift+Tab   move between the value inputs
 * Enter             accept the value (saved if changed or doubtful), go to the next doubtful field
 * Ctrl+Enter        确认无误: verify the record, open the next record of the queue
 * J / K, PageDown / PageUp   next / previous record of the queue (when not typing)
 * Esc               give the field back its stored value and leave it (then J / K work)
 */
"use strict";

(() => {
  const { el, api, query, fmtTime, toast, FIELD_STATUS, RECORD_STATUS } = FD;
  const root = document.getElementById("review");
  const recordId = root.dataset.recordId;
  const canWrite = FD.canWrite;
  const search = new URLSearchParams(location.search);
  const queueFilters = { station: search.get("station") || "", template: search.get("template") || "" };

  const $ = (id) => document.getElementById(id);
  const scanImg = $("scan-img");
  const boxesLayer = $("boxes");
  const fieldsBox = $("fields");
  const verifyButton = $("verify");

  const IDENTIFIED = { qr: "二维码", ocr: "表单编号文字", text_layer: "PDF 文字层", manual: "人工指定", layout: "外部表单(已登记版式)" };
  const ACTIONS = { void: "作废", restore: "恢复", unverify: "撤销确认", set_station: "设置维修站" };
  const SELECT_TYPES = new Set(["choice", "circle_choice", "checkbox", "signature", "seal"]);

  let detail = null;
  let units = []; // one per editable value: a field, or a table cell that needs checking
  let current = null;
  let page = 1;
  let queueIds = [];
  let queueReady = null; // the queue's order, loaded once the record is shown
  let inflight = null; // the save under way (Enter), awaited by a verify
  let verifying = false;
  let leaving = false;

  // -- helpers -----------------------------------------------------------------------------------
  // whether a person must look at a reading: the server says so (formdesk.model.record)
  const needs = (r) => r.needs_check === true;

  function shown(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "boolean") return value ? "true" : "false";
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  function parsed(unit, text) {
    if (SELECT_TYPES.has(unit.type)) {
      if (text === "true") return true;
      if (text === "false") return false;
      return text === "" ? null : text;
    }
    return text.trim() === "" ? null : text;
  }

  function pct(v, total) {
    return `${((100 * v) / total).toFixed(3)}%`;
  }

  function where(c) {
    if (c.row === null || c.row === undefined) return "";
    return ` 第${c.row}行` + (c.column ? ` ${c.column}` : "");
  }

  // -- loading -------------------------------------------------------------------------------------
  async function load() {
    queueReady = loadQueue();
    try {
      detail = await api("GET", `/api/records/${encodeURIComponent(recordId)}`);
    } catch (err) {
      $("rec-title").textContent = err.message;
      return;
    }
    if (detail.damaged) {
      renderDamaged();
      return;
    }
    let spec = { fields: [] };
    try {
      const list = await FD.templates();
      const t = list.find((x) => x.code === detail.summary.template);
      if (t) spec = await api("GET", `/api/templates/${t.slug}`);
    } catch (_) {
      /* the record alone is enough to review */
    }
    buildUnits(spec);
    renderHeader(spec);
    renderFields();
    renderPageTabs();
    showPage(units.length ? units[0].page : 1);
    renderAudit();
    const first = asked() || units.find((u) => needs(u.reading)) || units[0];
    if (first) focusUnit(first);
  }

  /** A record whose file cannot be read: its summary, the reason and the original scan. */
  function renderDamaged() {
    const s = detail.summary;
    $("rec-title").textContent = `${s.template} ${s.document_id}`;
    document.title = `复核 ${s.template} ${s.document_id} · formdesk 售后表单`;
    const b = $("rec-status");
    b.className = "badge st-damaged";
    b.textContent = "已损坏";
    const meta = [
      ["文档号", s.document_id],
      ["联", s.copy_index],
      ["维修站", s.station || "—"],
      ["识读时间", fmtTime(s.created_at)],
    ];
    $("rec-meta").replaceChildren(...meta.map(([k, v]) => el("span", {}, `${k} `, el("b", { text: v }))));
    const scanUrl = `/api/scans/${encodeURIComponent(s.scan_id)}`;
    $("rec-problems").hidden = false;
    $("rec-problems").replaceChildren(
      `这条记录的识读结果无法读取:${detail.damaged}。`,
      el("a", { href: scanUrl, id: "damaged-scan", text: "下载原始扫描件" }),
      ";请通知管理员运行 formdesk check 检查数据,重新上传该扫描件即可再次识读。"
    );
    scanImg.hidden = true;
    $("scan-loading").textContent = "识读结果已损坏,无法显示对齐后的页面";
    fieldsBox.replaceChildren(
      el("div", { class: "notice" }, "没有可复核的栏目:识读结果已损坏。", el("a", { href: scanUrl, text: "下载原始扫描件" }))
    );
    $("fields-count").textContent = "";
    $("import-claims").hidden = true;
    if ($("reprint")) $("reprint").disabled = true;
    if (verifyButton) verifyButton.disabled = true;
    renderAudit();
  }

  /** The value a link points at (?field=vin, ?field=returned_parts&row=3[&column=vin]), e.g.
   * the evidence of a reconciliation difference; null when the link names none. */
  function asked() {
    const key = search.get("field");
    if (!key) return null;
    const row = search.get("row");
    const column = search.get("column");
    const hit = (u) =>
      !u.table && u.key === key && (!row || String(u.row) === row) && (!column || u.column === column);
    return units.find(hit) || null;
  }

  function renderHeader(spec) {
    const s = detail.summary;
    // a small tag is reprinted on the paper the clerk picks (A4 × 4 or one per A6 page)
    if ($("reprint-paper")) $("reprint-paper").hidden = !(spec.per_sheet > 1);
    const r = detail.record;
    $("rec-title").textContent = `${s.template} ${spec.title || ""}`.trim();
    document.title = `复核 ${s.template} ${s.document_id} · formdesk 售后表单`;
    updateStatus();
    const meta = [
      ["文档号", s.document_id],
      ["联", s.copy_index],
      ["维修站", s.station || "—"],
      ["识读", IDENTIFIED[r.identified_by] || r.identified_by],
      ["防伪", r.authentic === true ? "签名有效" : r.authentic === false ? "签名不符" : "未验证"],
      ["对齐残差", `${Number(r.residual_mm || 0).toFixed(2)} mm`],
      ["识读时间", fmtTime(s.created_at)],
    ];
    $("rec-meta").replaceChildren(
      ...meta.map(([k, v]) => el("span", {}, `${k} `, el("b", { text: v })))
    );
    const problems = [...(r.problems || [])];
    if (r.authentic === false) problems.unshift("二维码签名与本系统不符,请核实这份表单的来源");
    $("rec-problems").hidden = !problems.length;
    $("rec-problems").textContent = problems.join(";");
    const notes = r.notes || [];
    $("rec-notes").hidden = !notes.length;
    $("rec-notes").textContent = notes.join(";");
    renderIdentity();
    renderDesk();
    // a 月份维修信息反馈 lists warranty repairs: the back office turns it into claims
    $("import-claims").hidden = !(FD.role === "back_office" && s.template === "SH-ZH/BD-25");
  }

  /** Why the record is in the queue, and its links to other scans of the same document:
   * 重复扫描 (the first scan, or its later scans) and 疑似复印件 (the other paper). */
  function renderIdentity() {
    const filing = detail.record.filing || {};
    const link = (id, text) => el("a", { href: `/review/${encodeURIComponent(id)}`, text });
    const lines = [];
    if ((detail.reasons || []).length) lines.push(el("div", { id: "rec-reasons" }, "原因:", detail.reasons.join(";")));
    for (const note of filing.notes || []) lines.push(el("div", { class: "muted", text: note }));
    if (filing.ocr_document_id) lines.push(el("div", { class: "muted", text: `OCR 读到的文档号:${filing.ocr_document_id}` }));
    if (filing.duplicate_of)
      lines.push(el("div", { id: "rec-duplicate-of" }, "重复扫描:与 ", link(filing.duplicate_of, "首次扫描的记录"), " 为同一份表单,只计一次,无需另行复核。"));
    if ((detail.duplicates || []).length)
      lines.push(
        el("div", { id: "rec-rescans" }, `另有 ${detail.duplicates.length} 次重复扫描(不重复计数):`,
          ...detail.duplicates.flatMap((id, i) => [i ? "、" : "", link(id, `第 ${i + 2} 次扫描`)]))
      );
    if ((filing.photocopy_of || []).length)
      lines.push(
        el("div", { id: "rec-photocopies" }, "疑似复印件:同一文档号的其他表单 ",
          ...filing.photocopy_of.flatMap((id, i) => [i ? "、" : "", link(id, id)]))
      );
    $("rec-identity").hidden = !lines.length;
    $("rec-identity").replaceChildren(...lines);
  }

  /** Where the record came from (its uploads), and what a person may do with the whole
   * record: 作废 / 恢复, 撤销确认, 设置维修站 (back office); every such action listed. */
  function renderDesk() {
    const s = detail.summary;
    const box = $("rec-actions");
    const parts = [];
    const pages = (s.file_pages || []).map((p) => p + 1).join("、");
    for (const b of detail.batches || [])
      parts.push(el("a", { href: `/batches/${encodeURIComponent(b)}`, class: "batch-link", text: `批次 ${b}${pages ? `(第 ${pages} 页)` : ""}` }));
    const act = async (method, url, body, done) => {
      try {
        await api(method, url, body);
        FD.flash(done);
        leaving = true;
        location.reload();
      } catch (err) {
        toast(err.message, "error");
      }
    };
    const rid = encodeURIComponent(recordId);
    if (canWrite && s.status === "voided") {
      parts.push(el("button", { type: "button", id: "restore-record", text: "恢复记录", onclick: () => act("POST", `/api/records/${rid}/restore`, undefined, "记录已恢复") }));
    } else if (canWrite) {
      const reason = el("input", { type: "text", id: "void-reason", maxlength: 200, placeholder: "作废原因,如:重复上传" });
      const form = el("form", { class: "inline", id: "void-form" }, reason, el("button", { type: "submit", text: "作废" }));
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        if (!reason.value.trim()) {
          toast("请说明作废的原因", "error");
          reason.focus();
          return;
        }
        if (!confirm(`作废这条记录吗?(原因:${reason.value})记录会保留,但不再计入任何统计。`)) return;
        act("POST", `/api/records/${rid}/void`, { reason: reason.value }, "记录已作废");
      });
      parts.push(form);
      if (s.status === "verified")
        parts.push(el("button", { type: "button", id: "unverify", text: "撤销确认", onclick: () => act("POST", `/api/records/${rid}/unverify`, undefined, "已撤销确认") }));
    }
    const stationsNode = document.getElementById("stations");
    if (canWrite && FD.role === "back_office" && stationsNode && s.status !== "voided") {
      const list = JSON.parse(stationsNode.textContent);
      const select = el(
        "select",
        { id: "set-station", "aria-label": "维修站" },
        el("option", { value: "", text: "售后服务部(无维修站)" }),
        list.map((x) => el("option", { value: x.code, text: `${x.code} ${x.name}` }))
      );
      select.value = s.station || "";
      const form = el("form", { class: "inline", id: "station-form" }, "维修站 ", select, el("button", { type: "submit", text: "保存" }));
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        act("PUT", `/api/records/${rid}/station`, { station: select.value || null }, "维修站已更新");
      });
      parts.push(form);
    }
    box.replaceChildren(...parts);
    const events = detail.events || [];
    const list = $("rec-events");
    list.hidden = !events.length;
    list.replaceChildren(
      ...events.map((e) => {
        let what = ACTIONS[e.action] || e.action;
        if (e.action === "set_station") what += `:${e.old || "—"} → ${e.new || "—"}`;
        if (e.action === "void") what += `:${e.reason || ""}`;
        if (e.action === "unverify" && e.old) what += `(原确认人 ${e.old})`;
        return el("li", { text: `${fmtTime(e.at)} ${e.user} ${what}` });
      })
    );
    $("rec-desk").hidden = !parts.length && !events.length;
    if (s.status === "voided") {
      if (verifyButton) verifyButton.disabled = true;
      if ($("reprint")) $("reprint").disabled = true;
    }
  }

  /** 重新打印: the form again with the values as read and corrected, as a new document. */
  async function reprint() {
    const button = $("reprint");
    button.disabled = true;
    try {
      const paperBox = $("reprint-paper");
      const paper = paperBox && !paperBox.hidden ? `?paper=${encodeURIComponent(paperBox.value)}` : "";
      await FD.fetchDownload(`/api/records/${encodeURIComponent(recordId)}/reprint.pdf${paper}`, "reprint.pdf", "POST");
      toast("已重新打印(新的文档号已登记)", "ok");
    } catch (err) {
      toast(err.message, "error");
    } finally {
      button.disabled = !!(detail && detail.damaged);
    }
  }

  async function importClaims() {
    const button = $("import-claims");
    const table = (detail.record.fields || []).find((f) => Array.isArray(f.rows));
    const rows = table ? table.rows.length : 0;
    if (detail.summary.status !== "verified") {
      toast("请先复核这条记录并点“确认无误”,再导入为索赔单", "error");
      return;
    }
    if (!confirm(`把这份月份维修信息反馈的 ${rows} 行明细导入为索赔单吗?导入后可在“索赔单”页撤销。`)) return;
    button.disabled = true;
    try {
      const log = await api("POST", `/api/claims/from-record/${encodeURIComponent(recordId)}`);
      const added = log.claims - (log.replaced || 0);
      toast(`已导入索赔单:新增 ${added} 张,未变 ${log.unchanged} 张(可在“索赔单”页撤销)`, "ok");
    } catch (err) {
      toast(err.message, "error");
    } finally {
      button.disabled = false;
    }
  }

  function updateStatus() {
    const s = detail.summary;
    const b = $("rec-status");
    b.className = `badge st-${s.status}`;
    b.textContent = RECORD_STATUS[s.status] || s.status;
    if (s.status === "verified" && s.verified_by) {
      b.title = `${s.verified_by} 于 ${fmtTime(s.verified_at)} 确认`;
      b.textContent += `(${s.verified_by})`;
    }
    const left = units.filter((u) => needs(u.reading)).length;
    const fixed = units.filter((u) => u.reading.reviewed === "corrected").length;
    $("fields-count").replaceChildren(
      ...[
        left ? el("b", { class: "conf-mid", text: `${left} 处待核` }) : el("b", { text: "没有待核的栏目" }),
        fixed ? el("span", { class: "reviewed-count", text: ` · 已更正 ${fixed} 栏` }) : null,
        el("span", { class: "muted", text: ` · 共 ${units.length} 栏` }),
      ].filter(Boolean) // replaceChildren would write a null as the text "null"
    );
  }

  function buildUnits(spec) {
    const specs = Object.fromEntries((spec.fields || []).map((f) => [f.key, f]));
    units = [];
    for (const f of detail.record.fields) {
      const fs = specs[f.key] || {};
      if (Array.isArray(f.rows)) {
        // a table: its summary, then one line per cell that was read or needs checking
        const cols = Object.fromEntries((fs.columns || []).map((c) => [c.key, c]));
        const cells = [];
        f.rows.forEach((row, i) => {
          for (const [ck, cell] of Object.entries(row)) {
            if (cell.status === "empty" && !needs(cell)) continue;
            const cs = cols[ck] || {};
            cells.push({
              key: f.key,
              row: i + 1,
              column: ck,
              reading: cell,
              type: cs.type || cell.type,
              options: cs.options || [],
              label: f.label,
              sub: `第${i + 1}行 · ${cs.label || cell.label || ck}`,
              page: cell.page || 1,
            });
          }
        });
        units.push({ key: f.key, table: true, reading: f, label: f.label, page: f.page || 1, cells });
        units.push(...cells);
        continue;
      }
      units.push({
        key: f.key,
        row: null,
        column: null,
        reading: f,
        type: fs.type || f.type,
        options: fs.options || [],
        label: f.label,
        sub: "",
        page: f.page || 1,
      });
    }
    // doubtful values first (in the form's order), then the rest
    const first = units.filter((u) => !u.table && needs(u.reading));
    const rest = units.filter((u) => u.table || !needs(u.reading));
    units = [...first, ...rest];
    units.forEach((u, i) => (u.uid = String(i)));
  }

  // -- the field list ---------------------------------------------------------------------------------
  function renderFields() {
    fieldsBox.replaceChildren();
    let group = null;
    for (const u of units) {
      const g = needs(u.reading) && !u.table ? "needs" : "rest";
      if (g !== group) {
        group = g;
        fieldsBox.append(el("div", { class: "group-title", text: g === "needs" ? "需要核对" : "其余栏目" }));
      }
      fieldsBox.append(u.table ? tableRow(u) : fieldRow(u));
    }
  }

  function cropUrl(u) {
    return `/api/records/${encodeURIComponent(recordId)}/crop.png` + query({ key: u.key, row: u.row, column: u.column });
  }

  function fieldRow(u) {
    const r = u.reading;
    let input;
    if (SELECT_TYPES.has(u.type)) {
      let opts;
      if (u.type === "checkbox") opts = [["", "(空)"], ["true", "已勾选 √"], ["false", "未勾选"]];
      else if (u.type === "signature") opts = [["", "未签字"], ["true", "已签字"]];
      else if (u.type === "seal") opts = [["", "未盖章"], ["true", "已盖章"]];
      else opts = [["", "(空)"], ...u.options.map((o) => [o, o])];
      const value = shown(r.value);
      if (value && !opts.some(([v]) => v === value)) opts.push([value, value]);
      input = el("select", { disabled: !canWrite }, opts.map(([v, t]) => el("option", { value: v, text: t })));
      input.value = value;
    } else {
      // a value the reader could not accept starts from what it saw, to be completed
      const start = r.value === null && r.raw && needs(r) ? r.raw : shown(r.value);
      input = el("input", {
        type: "text",
        value: start,
        readonly: !canWrite,
        spellcheck: "false",
        autocomplete: "off",
      });
    }
    input.setAttribute("aria-label", `${u.label}${u.sub ? " " + u.sub : ""}`);
    input.dataset.uid = u.uid;
    u.initial = input.value;
    u.input = input;

    const img = el("img", { alt: `${u.label} 截图`, loading: "lazy" });
    img.dataset.src = cropUrl(u);
    const conf = el("span", { class: "f-conf" });
    const statusBadge = el("span");
    const raw = el("span", { class: "f-raw" });
    const reason = el("span", { class: "f-reason" });
    const evidence = el("span", { class: "f-evidence" });
    const error = el("div", { class: "f-error", role: "alert", hidden: true });
    const node = el(
      "div",
      { class: "field", dataset: { uid: u.uid, key: u.key, row: u.row ?? "", column: u.column ?? "" } },
      el(
        "div",
        { class: "f-head" },
        el("span", { class: "f-label", text: u.label }),
        u.sub ? el("span", { class: "f-where", text: u.sub }) : null,
        statusBadge,
        conf
      ),
      el("div", { class: "f-crop" }, img),
      el("div", { class: "f-input" }, input, el("div", { class: "f-foot" }, raw, reason, evidence)),
      error
    );
    u.node = node;
    u.parts = { conf, statusBadge, raw, reason, evidence, error, img };
    paintUnit(u);

    input.addEventListener("focus", () => setCurrent(u));
    input.addEventListener("keydown", (e) => onInputKey(e, u));
    input.addEventListener("input", () => {
      error.hidden = true;
    });
    node.addEventListener("click", (e) => {
      if (e.target !== input) input.focus();
    });
    return node;
  }

  function tableRow(u) {
    const f = u.reading;
    const n = (f.rows || []).filter((row) => Object.values(row).some((c) => c.value !== null && c.value !== undefined)).length;
    u.node = el(
      "div",
      { class: `field table-summary st-${f.status}`, dataset: { uid: u.uid, key: u.key } },
      el(
        "div",
        { class: "f-head" },
        el("span", { class: "f-label", text: u.label }),
        el("span", { class: "f-where", text: `表格 · 已填 ${n} 行` }),
        el("span", {
          class: "f-conf",
          text: u.cells.some((c) => needs(c.reading))
            ? `${u.cells.filter((c) => needs(c.reading)).length} 个单元格待核(见上方)`
            : "单元格均无疑问",
        })
      )
    );
    return u.node;
  }

  // what a field's status rests on (extract/evidence.py EVIDENCE_LABELS)
  const EVIDENCE = {
    ocr: "识别置信度",
    agree: "两次识读一致",
    ink: "墨迹全部识出",
    checksum: "校验位正确",
    text_layer: "本系统 PDF 文字层",
    printed: "与打印值一致",
    measured: "按墨迹测量",
    corrected: "人工更正",
    confirmed: "人工确认原值",
    unread: "有笔迹未识出",
    disagree: "两次识读不一致",
    abstain: "另一次识读的结果不成立(不作判断)",
    crossabstain: "另一识读模型的结果不成立(不作判断)",
    cross: "两个识读模型一致",
    crossdiff: "两个识读模型不一致",
    wider: "另一识读模型漏读了窄字(两个1读成一个,或漏了一个1),拉宽后重读",
    edge: "字迹写到格子边上",
    odd: "数值不合常理",
    unlisted: "不在已知名录中",
    rival: "已知名录中相近值的概率",
    alt: "易混字符的另一读法概率",
    fig: "逐个数字复核:更像别的数字的概率",
    claim: "与索赔单一致",
    stations: "与维修站名单一致",
    sum: "与合计相符",
    words: "与大写金额相符",
    lexicon: "与已知名录一致",
    history: "名录为本栏以往人工确认的填写",
    near: "与本栏以往多次确认的填写只差一个字",
    shape: "编号格式与已知的都不同,差一个易混或漏读的字母或数字",
  };

  function evidenceText(list) {
    return (list || [])
      .map((code) => {
        const [name, value] = String(code).split(":");
        const label = EVIDENCE[name] || name;
        return value ? `${label} ${value}` : label;
      })
      .join(" · ");
  }

  /** What the reader saw, in words: a mark field's ink figures ("空:1203 1/4:0",
   * "0.244") are never shown to a clerk — 已勾选 / 未勾选 / 不确定 (issue 12, point 4). */
  function readText(u) {
    const r = u.reading;
    if (!SELECT_TYPES.has(u.type)) return r.raw || "—";
    if (r.status === "check" || r.status === "invalid") return "不确定";
    if (u.type === "checkbox") return r.value === true ? "已勾选" : "未勾选";
    if (u.type === "signature") return r.value ? "已签字" : "未签字";
    if (u.type === "seal") return r.value ? "已盖章" : "未盖章";
    return r.value === null || r.value === undefined || r.value === "" ? "未勾选" : `已勾选 ${shown(r.value)}`;
  }

  function paintUnit(u) {
    const r = u.reading;
    const status = r.status;
    u.node.className = `field st-${status}` + (u.type === "multiline" ? " multi" : "") + (u === current ? " current" : "");
    if (r.reviewed) {
      // a person set or kept this value: never shown as the reader's 正常 1.00
      const word = r.reviewed === "corrected" ? "已更正" : "已确认";
      const badge = el("span", { class: `badge reviewed ${r.reviewed}`, text: word });
      badge.title = `${r.reviewed_by || ""} 于 ${fmtTime(r.reviewed_at)} ${word}`;
      u.parts.statusBadge.replaceChildren(badge);
      u.parts.conf.textContent = `${r.reviewed_by || ""} · ${fmtTime(r.reviewed_at)}`;
      u.parts.conf.className = "f-conf reviewed-by";
    } else {
      u.parts.statusBadge.replaceChildren(FD.badge(status, FIELD_STATUS));
      u.parts.conf.textContent = `置信度 ${FD.confText(r.confidence)}`;
      u.parts.conf.className = `f-conf ${FD.confClass(r.confidence)}`;
    }
    u.parts.raw.textContent = `识读:${readText(u)}`;
    u.parts.raw.title = SELECT_TYPES.has(u.type) ? "" : r.raw || "";
    u.parts.reason.textContent = r.reason || "";
    const said = evidenceText(r.evidence);
    u.parts.evidence.textContent = said ? `依据:${said}` : "";
    if (u.box) u.box.className = `fbox st-${status}` + (u === current ? " current" : "");
  }

  // -- the scan --------------------------------------------------------------------------------------------
  function renderPageTabs() {
    const pages = [...new Set((detail.record.pages || []).map((p) => p.form_page || 1))].sort((a, b) => a - b);
    const tabs = $("page-tabs");
    tabs.hidden = pages.length < 2;
    tabs.replaceChildren(
      ...pages.map((p) =>
        el("button", { type: "button", text: `第 ${p} 页`, dataset: { page: p }, onclick: () => showPage(p) })
      )
    );
  }

  function showPage(p) {
    const first = scanImg.dataset.page === undefined;
    if (String(p) === scanImg.dataset.page) return;
    page = p;
    scanImg.dataset.page = String(p);
    $("scan-loading").hidden = false;
    // a 外部表单 whose layout is gone: the scan as uploaded, its own shape, no boxes or crops
    const raw = Boolean(detail.page_note);
    $("page-note").hidden = !raw;
    $("page-note").textContent = detail.page_note || "";
    scanImg.onload = () => {
      $("scan-loading").hidden = true;
      if (raw && scanImg.naturalHeight) $("scan").style.setProperty("--ratio", String(scanImg.naturalWidth / scanImg.naturalHeight));
      if (first && !raw) startCrops();
    };
    scanImg.onerror = () => {
      $("scan-loading").textContent = "扫描件图像载入失败";
      if (first) startCrops();
    };
    scanImg.src = `/api/records/${encodeURIComponent(recordId)}/page.png?page=${p}`;
    for (const b of $("page-tabs").children) b.classList.toggle("active", b.dataset.page === String(p));
    drawBoxes();
  }

  /** Crops are cut from the aligned page the server keeps cached: ask for them once it exists. */
  function startCrops() {
    for (const u of units) {
      if (u.parts && !u.parts.img.src) u.parts.img.src = u.parts.img.dataset.src;
    }
  }

  function drawBoxes() {
    const { width, height } = detail.page;
    if (detail.page_note) {
      boxesLayer.replaceChildren(); // the field boxes do not lie on a page not aligned
      for (const u of units) u.box = null;
      return;
    }
    $("scan").style.setProperty("--ratio", String(width / height));
    const place = (node, box) => {
      const [x, y, w, h] = box;
      Object.assign(node.style, { left: pct(x, width), top: pct(y, height), width: pct(w, width), height: pct(h, height) });
      return node;
    };
    boxesLayer.replaceChildren();
    for (const u of units) {
      u.box = null;
      const r = u.reading;
      if (!r.box || r.box.length !== 4 || (u.page || 1) !== page) continue;
      if (u.table) {
        boxesLayer.append(place(el("div", { class: "fbox table", title: u.label }), r.box));
        continue;
      }
      const box = place(el("div", { class: `fbox st-${r.status}`, title: `${u.label}${u.sub ? " " + u.sub : ""}` }), r.box);
      box.dataset.uid = u.uid;
      box.addEventListener("click", () => u.input.focus());
      u.box = box;
      boxesLayer.append(box);
      if (u === current) box.classList.add("current");
    }
  }

  function setCurrent(u) {
    if (current === u) return;
    if (current) {
      current.node.classList.remove("current");
      if (current.box) current.box.classList.remove("current");
    }
    current = u;
    if (u.page !== page) showPage(u.page);
    u.node.classList.add("current");
    if (u.box) {
      u.box.classList.add("current");
      u.box.scrollIntoView({ block: "nearest", inline: "nearest" });
    }
  }

  function focusUnit(u) {
    if (!u || !u.input) return;
    u.input.focus();
    if (u.input.select && u.input.tagName === "INPUT") u.input.select();
  }

  function nextDoubtful(after) {
    const list = units.filter((u) => !u.table);
    const start = list.indexOf(after);
    for (let i = 1; i <= list.length; i++) {
      const u = list[(start + i) % list.length];
      if (u !== after && needs(u.reading)) return u;
    }
    return null;
  }

  // -- editing ------------------------------------------------------------------------------------------------
  function onInputKey(e, u) {
    if (e.key !== "Enter" || e.shiftKey || e.altKey) return;
    e.preventDefault();
    if (e.ctrlKey || e.metaKey) return; // handled on the document: verify
    accept(u, true);
  }

  /** Saves the unit if its value changed or it is still doubtful; true when all went well. */
  async function save(u) {
    const text = u.input.value;
    const changed = text !== u.initial;
    if (!canWrite || (!changed && !needs(u.reading))) return true;
    u.node.classList.add("saving");
    try {
      const fix = await api("PATCH", `/api/records/${encodeURIComponent(recordId)}/fields/${encodeURIComponent(u.key)}`, {
        value: parsed(u, text),
        row: u.row,
        column: u.column,
      });
      Object.assign(u.reading, fix.reading);  // the reading as the store now holds it
      u.initial = shown(u.reading.value);
      if (document.activeElement !== u.input || u.input.value === text) u.input.value = u.initial;
      u.parts.error.hidden = true;
      paintUnit(u);
      u.node.classList.remove("just-saved");
      void u.node.offsetWidth;
      u.node.classList.add("just-saved");
      detail.corrections.push(fix);
      renderAudit();
      if (detail.summary.status === "verified") detail.summary.status = "needs_review";
      updateStatus();
      refreshSummary();
      return true;
    } catch (err) {
      u.parts.error.textContent = err.message;
      u.parts.error.hidden = false;
      return false;
    } finally {
      u.node.classList.remove("saving");
    }
  }

  async function accept(u, move) {
    if (inflight || verifying) return;
    inflight = save(u);
    let ok;
    try {
      ok = await inflight;
    } finally {
      inflight = null;
    }
    if (!ok) {
      u.input.focus();
      if (u.input.select && u.input.tagName === "INPUT") u.input.select();
      return;
    }
    if (!move) return;
    const next = nextDoubtful(u);
    if (next) focusUnit(next);
    else if (canWrite) toast("全部栏目已核对。按 Ctrl+Enter 确认无误并打开下一条。", "ok");
  }

  async function refreshSummary() {
    try {
      const d = await api("GET", `/api/records/${encodeURIComponent(recordId)}`);
      detail.summary = d.summary;
      updateStatus();
    } catch (_) {
      /* the next action will say what is wrong */
    }
  }

  function renderAudit() {
    const list = detail.corrections || [];
    const box = $("audit");
    box.hidden = !list.length;
    $("audit-count").textContent = list.filter((c) => c.kind !== "confirmed").length;
    $("audit-confirmed").textContent = list.filter((c) => c.kind === "confirmed").length;
    const labels = Object.fromEntries((detail.record.fields || []).map((f) => [f.key, f.label]));
    box.querySelector("tbody").replaceChildren(
      ...list
        .slice()
        .reverse()
        .map((c) =>
          el(
            "tr",
            {},
            el("td", { text: fmtTime(c.at) }),
            el("td", { text: c.user }),
            el("td", { text: c.kind === "confirmed" ? "确认原值" : "更正" }),
            el("td", { text: (labels[c.field_key] || c.field_key) + where(c) }),
            el("td", { class: "mono", text: shown(c.old_value) || "—" }),
            el("td", { class: "mono", text: shown(c.new_value) || "—" })
          )
        )
    );
  }

  // -- the record and the queue ---------------------------------------------------------------------------------
  async function fetchQueue() {
    const list = await api(
      "GET",
      "/api/records" + query({ ...queueFilters, status: "needs_review", order: "least_confident", limit: 500 })
    );
    return FD.stableOrder(queueFilters, list.items.map((r) => r.record_id));
  }

  async function loadQueue() {
    try {
      queueIds = await fetchQueue();
    } catch (_) {
      queueIds = [];
    }
    const i = queueIds.indexOf(recordId);
    $("queue-pos").textContent =
      i >= 0 ? `队列第 ${i + 1} / ${queueIds.length} 条` : queueIds.length ? `队列中还有 ${queueIds.length} 条` : "复核队列已清空";
    $("prev-record").disabled = !(i > 0);
    $("next-record").disabled = !queueIds.some((id, j) => id !== recordId && j > i);
  }

  function open(id) {
    leaving = true;
    location.href = `/review/${encodeURIComponent(id)}${query(queueFilters)}`;
  }

  function unsaved() {
    return units.some((u) => u.input && u.input.value !== u.initial);
  }

  async function go(step) {
    if (queueReady) await queueReady;
    const i = queueIds.indexOf(recordId);
    let target = null;
    if (step > 0) target = queueIds.find((id, j) => id !== recordId && j > i) || null;
    else if (i > 0) target = queueIds[i - 1];
    if (!target) {
      toast(step > 0 ? "已经是队列中的最后一条" : "已经是队列中的第一条");
      return;
    }
    if (unsaved() && !confirm("有未保存的修改,仍要离开这一条吗?")) return;
    open(target);
  }

  async function verify() {
    if (!canWrite || verifying || !detail || detail.damaged) return;
    verifying = true;
    if (inflight) await inflight;
    // a value typed but not yet accepted is saved first
    for (const u of units) {
      if (u.input && u.input.value !== u.initial && !(await save(u))) {
        verifying = false;
        focusUnit(u);
        return;
      }
    }
    if (verifyButton) verifyButton.disabled = true;
    try {
      detail.summary = await api("POST", `/api/records/${encodeURIComponent(recordId)}/verify`);
      updateStatus();
      const before = queueIds.slice();
      const at = before.indexOf(recordId);
      let fresh = [];
      try {
        fresh = await fetchQueue();
      } catch (_) {
        fresh = [];
      }
      const left = fresh.filter((id) => id !== recordId);
      const next = before.slice(at + 1).find((id) => left.includes(id)) || left[0];
      FD.flash("记录已确认");
      if (next) open(next);
      else {
        leaving = true;
        location.href = "/review" + query(queueFilters);
      }
    } catch (err) {
      toast(err.message, "error");
      verifying = false;
      if (verifyButton) verifyButton.disabled = false;
    }
  }

  document.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      verify();
      return;
    }
    if (e.key === "Escape" && FD.typing(e.target)) {
      // Esc gives the field back its value as stored, then leaves it (J / K work again)
      const u = units.find((x) => x.input === e.target);
      if (u && u.input.value !== u.initial) {
        u.input.value = u.initial;
        u.parts.error.hidden = true;
      }
      e.target.blur();
      return;
    }
    const inField = FD.typing(e.target);
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "PageDown" || e.key === "PageUp") {
      const u = inField ? units.find((x) => x.input === e.target) : null;
      if (inField && (!u || u.input.value !== u.initial)) return;
      e.preventDefault();
      go(e.key === "PageDown" ? 1 : -1);
      return;
    }
    if (inField) return;
    if (e.key === "j" || e.key === "J") go(1);
    else if (e.key === "k" || e.key === "K") go(-1);
  });

  $("zoom").addEventListener("click", () => {
    const zoomed = $("scan").classList.toggle("zoomed");
    $("zoom").textContent = zoomed ? "适合窗口" : "放大";
    if (current && current.box) current.box.scrollIntoView({ block: "center", inline: "center" });
  });
  $("prev-record").addEventListener("click", () => go(-1));
  $("next-record").addEventListener("click", () => go(1));
  if (verifyButton) verifyButton.addEventListener("click", verify);
  $("import-claims").addEventListener("click", importClaims);
  if ($("reprint")) $("reprint").addEventListener("click", reprint);
  window.addEventListener("beforeunload", (e) => {
    if (unsaved() && !leaving) e.preventDefault();
  });

  load();
})();
