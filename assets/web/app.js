// Perezvon workspace: shared helpers for pages. Every state-changing call to the API carries the
// session's CSRF token from <meta name="csrf-token">.
"use strict";
const pzv = {
  csrf() {
    const m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.content : "";
  },
  async api(method, path, body) {
    const opts = { method, headers: { "X-CSRF-Token": pzv.csrf() }, credentials: "same-origin" };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const resp = await fetch("/api/v1" + path, opts);
    const text = await resp.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = { error: text }; }
    if (!resp.ok) {
      const err = new Error((data && data.error) || ("HTTP " + resp.status));
      err.status = resp.status;
      err.data = data;
      throw err;
    }
    return data;
  },
  say(el, text, kind) {
    if (!el) return;
    el.textContent = text;
    el.className = "live " + (kind || "");
  },
  moscow(iso, withDate) {
    if (!iso) return "";
    const opts = { timeZone: "Europe/Moscow", hour: "2-digit", minute: "2-digit" };
    if (withDate !== false) { opts.day = "numeric"; opts.month = "long"; }
    return new Date(iso).toLocaleString("ru-RU", opts);
  },
};
window.pzv = pzv;
