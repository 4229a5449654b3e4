/* 用户 (back office): list users, add one, disable / enable, reset a password; and the
 * installation's names (设置). Times in Beijing time. */
"use strict";

(() => {
  const { el, api, toast } = FD;
  const $ = (id) => document.getElementById(id);
  const BEIJING = new Intl.DateTimeFormat("zh-CN", {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hour12: false,
  });

  /** ISO UTC → "2026-12-01 14:30" in Beijing time. */
  function beijing(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return iso;
    const p = Object.fromEntries(BEIJING.formatToParts(d).map((x) => [x.type, x.value]));
    return `${p.year}-${p.month}-${p.day} ${p.hour === "24" ? "00" : p.hour}:${p.minute}`;
  }

  function show(node, text) {
    node.textContent = text;
    node.hidden = !text;
  }

  // -- the list -----------------------------------------------------------------------------------
  async function load() {
    const tbody = $("users-table").querySelector("tbody");
    let list;
    try {
      list = await api("GET", "/api/users");
    } catch (err) {
      tbody.replaceChildren(el("tr", {}, el("td", { colspan: 6, class: "refused", text: err.message })));
      return;
    }
    const me = (await FD.me()).username;
    tbody.replaceChildren(
      ...list.map((u) =>
        el(
          "tr",
          { dataset: { username: u.username }, class: u.disabled ? "user-disabled" : "" },
          el("td", { class: "mono", text: u.username }),
          el("td", { text: u.role_label }),
          el("td", { text: u.station ? `${u.station} ${u.station_name || ""}`.trim() : "—" }),
          el("td", {}, el("span", { class: `badge ${u.disabled ? "st-failed" : "st-ok"}`, text: u.status_label })),
          el("td", { text: beijing(u.created_at) }),
          el(
            "td",
            { class: "actions" },
            u.username === me
              ? el("span", { class: "muted small", text: "(本人)" })
              : el("button", {
                  type: "button",
                  class: u.disabled ? "enable" : "disable",
                  text: u.disabled ? "启用" : "停用",
                  onclick: () => toggle(u),
                }),
            u.username === me
              ? el("a", { href: "/account", class: "small", text: "修改密码" })
              : el("button", { type: "button", class: "reset", text: "重设密码", onclick: () => reset(u) })
          )
        )
      )
    );
  }

  async function toggle(u) {
    const action = u.disabled ? "enable" : "disable";
    if (!u.disabled && !confirm(`停用用户 ${u.username}?TA 将不能登录,已登录的会话立即结束。`)) return;
    try {
      const res = await api("POST", `/api/users/${encodeURIComponent(u.username)}/${action}`);
      toast(
        u.disabled
          ? `已启用 ${u.username}`
          : `已停用 ${u.username}` + (res.ended_sessions ? `,结束 ${res.ended_sessions} 个登录会话` : ""),
        "ok"
      );
    } catch (err) {
      toast(err.message, "error");
    }
    load();
  }

  async function reset(u) {
    const typed = prompt(`为 ${u.username} 设置新密码(至少 10 个字符;留空则自动生成):`, "");
    if (typed === null) return;
    try {
      const res = await api("POST", `/api/users/${encodeURIComponent(u.username)}/password`, {
        password: typed || null,
      });
      const ended = res.ended_sessions ? `;已结束 ${res.ended_sessions} 个登录会话` : "";
      if (res.password) {
        $("user-ok").replaceChildren(
          el("p", { text: `已重设 ${res.username} 的密码${ended}。新密码(只显示这一次):` }),
          el("p", {}, el("code", { id: "shown-password", text: res.password }))
        );
      } else {
        $("user-ok").replaceChildren(el("p", { text: `已重设 ${res.username} 的密码${ended}。` }));
      }
      $("user-ok").hidden = false;
      show($("user-error"), "");
    } catch (err) {
      show($("user-error"), err.message);
      $("user-ok").hidden = true;
    }
  }

  // -- adding a user -----------------------------------------------------------------------------------
  function roleChanged() {
    const station = $("u-role").value === "station";
    for (const node of document.querySelectorAll(".u-station")) node.hidden = !station;
  }
  $("u-role").addEventListener("change", roleChanged);
  roleChanged();

  $("user-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    show($("user-error"), "");
    $("user-ok").hidden = true;
    const role = $("u-role").value;
    const body = {
      username: $("u-name").value,
      role,
      station: role === "station" ? $("u-station").value : null,
      station_name: role === "station" ? $("u-station-name").value : null,
      password: $("u-password").value || null,
    };
    const button = $("u-add");
    button.disabled = true;
    try {
      const res = await api("POST", "/api/users", body);
      const u = res.user;
      const lines = [el("p", { text: `已添加用户 ${u.username}(${u.role_label}${u.station ? " · " + u.station : ""})。` })];
      if (res.password) {
        lines.push(el("p", {}, "初始密码(只显示这一次):", el("code", { id: "shown-password", text: res.password })));
      }
      $("user-ok").replaceChildren(...lines);
      $("user-ok").hidden = false;
      e.target.reset();
      roleChanged();
      load();
    } catch (err) {
      show($("user-error"), err.message);
    } finally {
      button.disabled = false;
    }
  });

  // -- settings -----------------------------------------------------------------------------------
  function showSettings(list) {
    const info = [];
    for (const s of list) {
      const input = $(`s-${s.name}`);
      if (input) input.value = s.value;
      if (s.updated_by) info.push(`${s.label}:${s.updated_by} 于 ${beijing(s.updated_at)} 设置`);
    }
    $("settings-info").textContent = info.join(";");
  }

  async function loadSettings() {
    try {
      showSettings(await api("GET", "/api/settings"));
    } catch (err) {
      show($("settings-error"), err.message);
    }
  }

  $("settings-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    show($("settings-error"), "");
    const body = {
      company_name: $("s-company_name").value,
      service_center_name: $("s-service_center_name").value,
      letter_contact: $("s-letter_contact").value,
      letter_phone: $("s-letter_phone").value,
    };
    const button = $("s-save");
    button.disabled = true;
    try {
      showSettings(await api("PUT", "/api/settings", body));
      toast("设置已保存", "ok");
    } catch (err) {
      show($("settings-error"), err.message);
    } finally {
      button.disabled = false;
    }
  });

  load();
  loadSettings();
})();
