/* 账户: change one's password; list, create (shown once) and revoke one's API tokens. */
"use strict";

(() => {
  const { el, api, toast, fmtTime } = FD;
  const $ = (id) => document.getElementById(id);

  function show(node, text) {
    node.textContent = text;
    node.hidden = !text;
  }

  // -- password ------------------------------------------------------------------------------------
  $("password-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    show($("password-error"), "");
    show($("password-ok"), "");
    const oldPassword = $("old-password").value;
    const newPassword = $("new-password").value;
    if (newPassword !== $("new-password-2").value) {
      show($("password-error"), "两次输入的新密码不一致");
      return;
    }
    const button = $("password-save");
    button.disabled = true;
    try {
      const res = await api("POST", "/api/me/password", { old_password: oldPassword, new_password: newPassword });
      e.target.reset();
      show($("password-ok"), res.ended_sessions ? `密码已修改,其他 ${res.ended_sessions} 处登录已退出。` : "密码已修改。");
    } catch (err) {
      show($("password-error"), err.message);
    } finally {
      button.disabled = false;
    }
  });

  // -- tokens --------------------------------------------------------------------------------------
  async function loadTokens() {
    const tbody = $("tokens-table").querySelector("tbody");
    let tokens;
    try {
      tokens = await api("GET", "/api/tokens");
    } catch (err) {
      tbody.replaceChildren(el("tr", {}, el("td", { colspan: 5, class: "refused", text: err.message })));
      return;
    }
    if (!tokens.length) {
      tbody.replaceChildren(el("tr", {}, el("td", { colspan: 5, class: "muted", text: "还没有令牌" })));
      return;
    }
    tbody.replaceChildren(
      ...tokens.map((t) =>
        el(
          "tr",
          { dataset: { tokenId: t.id } },
          el("td", { class: "mono", text: t.id }),
          el("td", { text: t.label }),
          el("td", { text: t.scope_label }),
          el("td", { text: fmtTime(t.created_at) }),
          el("td", {}, el("button", { type: "button", class: "revoke", text: "撤销", onclick: () => revoke(t) }))
        )
      )
    );
  }

  async function revoke(t) {
    if (!confirm(`撤销令牌 ${t.id}(${t.label})?使用它的脚本将无法再访问。`)) return;
    try {
      await api("DELETE", `/api/tokens/${encodeURIComponent(t.id)}`);
      toast(`令牌 ${t.id} 已撤销`, "ok");
    } catch (err) {
      toast(err.message, "error");
    }
    loadTokens();
  }

  $("token-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    show($("token-error"), "");
    $("token-new").hidden = true;
    const form = new FormData();
    form.set("label", $("token-label").value);
    form.set("scope", $("token-scope").value);
    const button = $("token-create");
    button.disabled = true;
    try {
      const { csrf } = await FD.me();
      const res = await fetch("/api/tokens", {
        method: "POST",
        body: form,
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf || "", Accept: "application/json" },
      });
      const data = await res.json();
      if (!res.ok) throw new Error(data.reason || `请求失败(${res.status})`);
      $("token-value").textContent = data.token;
      $("token-new").hidden = false;
      $("token-label").value = "";
      loadTokens();
    } catch (err) {
      show($("token-error"), err.message);
    } finally {
      button.disabled = false;
    }
  });

  loadTokens();
})();
