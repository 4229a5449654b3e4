/* 工作台: what waits for this user, each line a link to the list that shows it. */
"use strict";

(() => {
  const { el, api } = FD;
  const box = document.getElementById("desk");

  function card(c) {
    return el(
      "section",
      { class: "desk-card", dataset: { card: c.key } },
      el("h2", {}, el("a", { href: c.href, text: c.title }), el("span", { class: `big ${c.total ? "conf-mid" : "muted"}`, text: c.total })),
      c.note ? el("p", { class: "small muted", text: c.note }) : null,
      c.items.length
        ? el(
            "ul",
            {},
            c.items.slice(0, 12).map((i) =>
              el("li", {}, el("a", { href: i.href, text: i.label }), i.count ? el("b", { text: i.count }) : null)
            ),
            c.items.length > 12 ? el("li", {}, el("a", { href: c.href, text: `还有 ${c.items.length - 12} 项…` })) : null
          )
        : el("p", { class: "muted small", text: "没有待办。" })
    );
  }

  async function load() {
    let desk;
    try {
      desk = await api("GET", "/api/desk");
    } catch (err) {
      box.replaceChildren(el("p", { class: "refused", text: err.message }));
      return;
    }
    box.replaceChildren(...desk.cards.map(card));
  }
  load();
})();
