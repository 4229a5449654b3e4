/* 待处理页面: the refused pages of every upload the user sees, by state. */
"use strict";

(() => {
  const { el, api, query } = FD;
  const state = document.getElementById("f-state");
  const list = document.getElementById("refusal-list");
  const params = new URLSearchParams(location.search);
  if (params.has("state")) state.value = params.get("state");

  async function load() {
    history.replaceState(null, "", location.pathname + query({ state: state.value }));
    let items;
    try {
      items = await api("GET", "/api/refusals" + query({ state: state.value }));
    } catch (err) {
      list.replaceChildren(el("p", { class: "refused", text: err.message }));
      return;
    }
    document.getElementById("refusal-count").textContent = `共 ${items.length} 页`;
    list.replaceChildren(
      ...(items.length
        ? items.map((r) =>
            el(
              "div",
              {},
              FD.refusalCard(r, load),
              el("a", { class: "small", href: `/batches/${encodeURIComponent(r.batch_id)}`, text: `批次 ${r.batch_id} →` })
            )
          )
        : [el("p", { class: "muted", text: "没有这样的页面。" })])
    );
    if (items.some((r) => r.state === "requeued")) setTimeout(load, 1500);
  }

  state.addEventListener("change", load);
  load();
})();
