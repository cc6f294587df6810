// Perezvon live board: redraws from the snapshot in #board-data and from each `board` event of
// /board/events (the same JSON as GET /api/v1/stats/live), and counts the waiting and in-state
// seconds up between events. All text is set with textContent.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const pct = (v) => (v === null || v === undefined) ? "—" : (v * 100).toFixed(1).replace(".", ",") + " %";
  let base = Date.now();

  function item(text, secs, attrs) {
    const li = document.createElement("li");
    for (const [k, v] of Object.entries(attrs)) li.setAttribute(k, v);
    const s = document.createElement("span");
    s.className = "secs";
    s.dataset.secs = String(secs);
    s.textContent = String(secs);
    li.append(text[0], s, text[1]);
    return li;
  }

  function draw(b) {
    base = Date.now();
    $("board-status").textContent = b.open ? "линия работает" : "нерабочее время";
    $("waiting-count").textContent = String(b.waiting.length);
    $("waiting-count").dataset.value = String(b.waiting.length);
    $("waiting").replaceChildren(...b.waiting.map((w) =>
      item([w.number + " — ", " с (" + w.label + ")"], w.waited_secs, { "data-call": w.call_id })));
    $("board-operators").replaceChildren(...b.operators.map((o) =>
      item([o.name + ": " + o.label + ", ", " с"], o.secs_in_state,
        { "data-operator": o.id, "data-state": o.state })));
    const t = b.today;
    const figures = { offered: t.offered, answered: t.answered, abandoned: t.abandoned,
      voicemail: t.voicemail, service_level: t.service_level };
    for (const [k, v] of Object.entries(figures)) {
      const el = document.querySelector('#today [data-figure="' + k + '"]');
      if (!el) continue;
      el.dataset.value = (v === null || v === undefined) ? "" : String(v);
      el.textContent = k === "service_level" ? pct(v) : String(v);
    }
    $("due-today").textContent = String(b.callbacks_due_today);
    $("due-today").dataset.value = String(b.callbacks_due_today);
    $("overdue").textContent = String(b.callbacks_overdue);
    $("overdue").dataset.value = String(b.callbacks_overdue);
    $("oldest-due").textContent = b.oldest_due_at ? "с " + b.oldest_due_at.replace("T", " ") : "никто";
  }

  function tick() {
    const passed = Math.floor((Date.now() - base) / 1000);
    for (const s of document.querySelectorAll(".board .secs")) {
      s.textContent = String(Number(s.dataset.secs) + passed);
    }
  }

  const initial = $("board-data");
  if (initial) draw(JSON.parse(initial.textContent));
  setInterval(tick, 1000);
  const es = new EventSource("/board/events");
  es.addEventListener("board", (e) => {
    draw(JSON.parse(e.data));
    document.body.dataset.boardUpdated = String(Date.now());
  });
})();
