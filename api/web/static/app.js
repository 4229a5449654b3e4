/* formdesk: helpers shared by every page (no framework, no build step). */
"use strict";

const FD = (() => {
  const body = document.body;
  let mePromise = null;

  const RECORD_STATUS = { ready: "识读完成", needs_review: "待复核", verified: "已确认", voided: "已作废" };
  const REFUSAL_STATE = { open: "待处理", requeued: "重新识读中", resolved: "已识读", discarded: "已放弃" };
  const FIELD_STATUS = { ok: "正常", check: "需核对", invalid: "不合格", empty: "空白" };
  const BATCH_STATE = { queued: "排队中", reading: "识读中", done: "完成" };

  function toLogin() {
    const here = location.pathname + location.search;
    location.href = "/login?next=" + encodeURIComponent(here);
  }

  /** GET /api/me once per page: who is signed in, and the CSRF token for writes. */
  function me() {
    if (!mePromise) {
      mePromise = fetch("/api/me", { credentials: "same-origin", cache: "no-store" }).then(
        async (res) => {
          if (res.status === 401) {
            toLogin();
            throw new ApiError("请先登录", 401);
          }
          return res.json();
        }
      );
    }
    return mePromise;
  }

  class ApiError extends Error {
    constructor(reason, status, data) {
      super(reason);
      this.status = status;
      this.data = data || {};
    }
  }

  async function reasonOf(res) {
    try {
      const data = await res.json();
      const reason = typeof data.reason === "string" ? data.reason : JSON.stringify(data.reason);
      return new ApiError(reason || `请求失败(${res.status})`, res.status, data);
    } catch (_) {
      return new ApiError(`请求失败(${res.status})`, res.status);
    }
  }

  /**
   * Calls the JSON API. `body` (an object) is sent as JSON; non-GET requests carry the
   * X-CSRF-Token header. Returns parsed JSON, or the Response itself with {raw: true}.
   */
  async function api(method, url, body, { raw = false } = {}) {
    const headers = { Accept: "application/json" };
    const init = { method, headers, credentials: "same-origin", cache: "no-store" };
    if (method !== "GET" && method !== "HEAD") {
      headers["X-CSRF-Token"] = (await me()).csrf || "";
    }
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(url, init);
    } catch (_) {
      throw new ApiError("无法连接服务器,请检查网络后重试", 0);
    }
    if (res.status === 401) {
      toLogin();
      throw new ApiError("请先登录", 401);
    }
    if (!res.ok) throw await reasonOf(res);
    if (raw) return res;
    if (res.status === 204) return null;
    return res.json();
  }

  /** Saves a Blob as a file (used for PDFs fetched with the session). */
  function download(blob, filename) {
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = filename;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  /** Fetches a file with the session (GET, or POST for what registers a printed document)
   * and saves it under the server's name (RFC 5987 filename* first), so a refusal shows its
   * reason instead of downloading an error as a file. */
  async function fetchDownload(url, fallback, method = "GET") {
    const res = await api(method, url, undefined, { raw: true });
    download(await res.blob(), attachmentName(res, fallback));
  }

  /** The file name a response's Content-Disposition gives (RFC 5987 filename* first). */
  function attachmentName(res, fallback) {
    const cd = res.headers.get("content-disposition") || "";
    const star = cd.match(/filename\*=UTF-8''([^;]+)/i);
    const plain = cd.match(/filename="([^"]+)"/i);
    return star ? decodeURIComponent(star[1]) : plain ? plain[1] : fallback;
  }

  /** el("td", {class: "num", text: "3"}, child, ...) */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else if (k === "dataset") Object.assign(node.dataset, v);
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (v === true) node.setAttribute(k, "");
      else node.setAttribute(k, v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function badge(status, labels) {
    return el("span", { class: `badge st-${status}`, text: (labels || {})[status] || status });
  }

  // times are shown in Beijing time whatever the browser's own zone (a clerk's laptop, an
  // auditor abroad, a headless test browser in UTC)
  const BEIJING = new Intl.DateTimeFormat("zh-CN", {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hour12: false,
  });

  /** "2026-03-05 14:07" in Beijing time, of an ISO time; "" for none. */
  function fmtTime(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return iso;
    const p = Object.fromEntries(BEIJING.formatToParts(d).map((x) => [x.type, x.value]));
    return `${p.year}-${p.month}-${p.day} ${p.hour === "24" ? "00" : p.hour}:${p.minute}`;
  }

  function fmtBytes(n) {
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
    return `${(n / 1024 / 1024).toFixed(1)} MB`;
  }

  function confText(c) {
    return c === null || c === undefined ? "" : Number(c).toFixed(2);
  }

  function confClass(c) {
    return c < 0.6 ? "conf-low" : c < 0.85 ? "conf-mid" : "";
  }

  let toastTimer = null;
  function toast(message, kind = "") {
    const t = document.getElementById("toast");
    if (!t) return;
    t.textContent = message;
    t.className = "toast " + kind;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (t.hidden = true), kind === "error" ? 6000 : 3000);
  }

  function stations() {
    const node = document.getElementById("stations");
    return node ? JSON.parse(node.textContent) : [];
  }

  let templatesPromise = null;
  function templates() {
    if (!templatesPromise) templatesPromise = api("GET", "/api/templates");
    return templatesPromise;
  }

  /** Fills a <select> with the catalog's forms (value: form code). */
  async function fillTemplateSelect(select, current) {
    const list = await templates();
    for (const t of list) {
      select.append(el("option", { value: t.code, text: `${t.code} ${t.title}` }));
    }
    if (current) select.value = current;
  }

  /** Query string of the non-empty entries of `params`. */
  function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (v !== undefined && v !== null && v !== "") q.set(k, v);
    }
    const s = q.toString();
    return s ? "?" + s : "";
  }

  /** True when the key press goes to something the user types into. */
  /** The review queue's order, kept for this browser session (issue 12, point 4): records
   * already seen keep their place whatever a correction does to their confidence; new ones
   * come after.  `filters` names the queue (station, template); `ids` are in the server's
   * order (least confident first).  Returns `ids` reordered. */
  function stableOrder(filters, ids) {
    const key = "fd-queue:" + JSON.stringify([filters.station || "", filters.template || ""]);
    let saved = [];
    try {
      saved = JSON.parse(sessionStorage.getItem(key) || "[]");
    } catch (_) {
      saved = [];
    }
    if (!Array.isArray(saved)) saved = [];
    const known = new Set(saved);
    const added = ids.filter((id) => !known.has(id));
    const fresh = new Set(ids);
    try {
      sessionStorage.setItem(key, JSON.stringify([...saved, ...added].slice(-5000)));
    } catch (_) {
      /* private mode: the server's order then */
    }
    return [...saved.filter((id) => fresh.has(id)), ...added];
  }

  function typing(target) {
    if (!target || !(target instanceof Element)) return false;
    const tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  /** A message left by the previous page (e.g. 记录已确认 before opening the next record). */
  function flash(message) {
    sessionStorage.setItem("formdesk-flash", message);
  }
  document.addEventListener("DOMContentLoaded", () => {
    const left = sessionStorage.getItem("formdesk-flash");
    if (left) {
      sessionStorage.removeItem("formdesk-flash");
      toast(left, "ok");
    }
  });

  /** Paging controls under a list: "第 a–b 条,共 n 条", 上一页, 下一页; onPage(newOffset). */
  function renderPager(pager, list, offset, limit, onPage) {
    pager.replaceChildren(
      el("span", {
        class: "muted",
        text: list.total ? `第 ${offset + 1}–${offset + list.items.length} 条,共 ${list.total} 条` : "共 0 条",
      }),
      el("button", {
        type: "button",
        text: "上一页",
        disabled: offset === 0,
        onclick: () => onPage(Math.max(0, offset - limit)),
      }),
      el("button", {
        type: "button",
        text: "下一页",
        disabled: offset + limit >= list.total,
        onclick: () => onPage(offset + limit),
      })
    );
  }

  /** The month before this one ("2026-10" in November): what is reconciled and summed up
   * once its manifests and repair orders are in. */
  function previousMonth() {
    const d = new Date();
    d.setDate(1);
    d.setMonth(d.getMonth() - 1);
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}`;
  }

  /** The month a monthly page opens on: the station's latest with data (the server
   * knows; all stations when `station` is empty), else `previousMonth()`. */
  async function openingMonth(station) {
    try {
      const found = await api("GET", "/api/months/latest" + query({ station }));
      return found.month || found.previous_month;
    } catch (_) {
      return previousMonth();
    }
  }

  /* On a phone the tables marked `cards` show each row as a card, each cell under its
   * column's heading (app.css): the heading goes in the cell's data-label, for the rows
   * a page's script adds at any time. */
  function labelCells(table) {
    const heads = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
    for (const tr of table.querySelectorAll("tbody tr")) {
      [...tr.children].forEach((td, i) => {
        if (!td.hasAttribute("colspan") && td.dataset.label === undefined) td.dataset.label = heads[i] || "";
      });
    }
  }
  const labelAll = () => document.querySelectorAll("table.cards").forEach(labelCells);
  new MutationObserver(labelAll).observe(body, { childList: true, subtree: true });
  labelAll();

  return {
    previousMonth,
    openingMonth,
    renderPager,
    flash,
    role: body.dataset.role,
    canWrite: body.dataset.canWrite === "true",
    station: body.dataset.station || null,
    stationName: body.dataset.stationName || null,
    RECORD_STATUS,
    FIELD_STATUS,
    BATCH_STATE,
    REFUSAL_STATE,
    ApiError,
    api,
    me,
    attachmentName,
    download,
    fetchDownload,
    el,
    badge,
    fmtTime,
    fmtBytes,
    confText,
    confClass,
    toast,
    stations,
    templates,
    fillTemplateSelect,
    query,
    typing,
    stableOrder,
  };
})();
