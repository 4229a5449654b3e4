/* Importing the warranty system's claims file (back office), on the 核对 and 索赔单 pages:
 * the form #rc-import (file, 按新文件更新) posts to /api/claims/import; a refusal lists
 * every row problem, an import says what it brought and fires "claims-imported" on
 * document (detail: the import's log) for the page to reload what it shows. */
"use strict";

(() => {
  const { el } = FD;
  const importForm = document.getElementById("rc-import");
  if (!importForm) return;
  const result = document.getElementById("rc-import-result");
  const list = document.getElementById("rc-import-problems");
  importForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const file = document.getElementById("rc-claims-file").files[0];
    if (!file) return;
    const body = new FormData();
    body.append("file", file);
    body.append("replace", document.getElementById("rc-claims-replace").checked ? "true" : "false");
    result.textContent = "正在导入…";
    list.hidden = true;
    const button = importForm.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const res = await fetch("/api/claims/import", {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRF-Token": (await FD.me()).csrf || "" },
      });
      const data = await res.json().catch(() => ({}));
      if (!res.ok) {
        result.textContent = data.reason || `导入失败(${res.status})`;
        result.className = "small conf-low";
        const problems = data.problems || [];
        list.replaceChildren(
          ...problems.map((p) =>
            el("li", { text: `${p.line ? `第${p.line}行 ` : ""}${p.column ? `${p.column}:` : ""}${p.reason}` })
          )
        );
        list.hidden = !problems.length;
        return;
      }
      const added = data.claims - (data.replaced || 0);
      const parts = [`新增 ${added} 张`];
      if (data.replaced) parts.push(`更新 ${data.replaced} 张`);
      parts.push(`未变 ${data.unchanged} 张`);
      if ((data.stations_added || []).length) parts.push(`新登记维修站 ${data.stations_added.join("、")}`);
      result.textContent = `已导入 ${data.filename}:${parts.join(",")}`;
      result.className = "small rc-import-ok";
      importForm.reset();
      document.dispatchEvent(new CustomEvent("claims-imported", { detail: data }));
    } catch (_) {
      result.textContent = "无法连接服务器,请检查网络后重试";
      result.className = "small conf-low";
    } finally {
      button.disabled = false;
    }
  });
})();
