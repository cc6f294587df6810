// The operator's page: presence, claiming, the card of the held request (click-to-call, outcome,
// follow-up time, release) and the list, all through the JSON API (/api/v1, session cookie and
// CSRF header), kept current by server-sent events from /events. The page's words come from the
// server (the #labels JSON and the rendered page); times are shown in Moscow time.
"use strict";
(function () {
  const root = document.getElementById("operator");
  if (!root) return;
  const L = JSON.parse(document.getElementById("labels").textContent);
  const $ = (id) => document.getElementById(id);
  const login = document.body.dataset.login;
  const operatorId = root.dataset.operatorId ? Number(root.dataset.operatorId) : null;
  const maxAttempts = root.dataset.maxAttempts;
  const card = $("card");
  const msg = $("message");
  let dialPoll = null;

  const say = (text, kind) => pzv.say(msg, text, kind);
  const fmt = (iso) => {
    if (!iso) return "";
    return new Date(iso).toLocaleString("ru-RU", {
      timeZone: "Europe/Moscow", day: "2-digit", month: "2-digit", year: "numeric",
      hour: "2-digit", minute: "2-digit",
    }).replace(",", "");
  };
  const fmtTime = (iso) => new Date(iso).toLocaleTimeString("ru-RU",
    { timeZone: "Europe/Moscow", hour: "2-digit", minute: "2-digit" });
  const etaText = (it) => it.eta_window ? fmt(it.eta_window.from) + "–" + fmtTime(it.eta_window.to) : "";
  const whenText = (it) => etaText(it) || ("до " + fmt(it.deadline));
  const category = (c) => L.category[c || ""] || L.category[""];
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  };
  const failed = (what, e) => {
    let text = what;
    if (e.status === 403) text += ": нет прав или истекла сессия — обновите страницу.";
    else if (e.status === 409) text += ": заявка уже не у вас или действие сейчас невозможно.";
    else if (e.status === 503 || e.status === 502) text += ": телефония недоступна.";
    else if (e.status === 400) text += " (" + e.message + ").";
    else text += ".";
    say(text, "error");
  };

  // ---- presence ----
  function showPresence(state, label) {
    const badge = $("presence-state");
    if (!badge) return;
    badge.textContent = label || L.presence[state] || "";
    badge.dataset.state = state || "";
    badge.className = "badge " + (state || "");
    document.querySelectorAll("button[data-presence]").forEach((b) => {
      b.setAttribute("aria-pressed", String(b.dataset.presence === state));
    });
  }
  document.querySelectorAll("button[data-presence]").forEach((b) => {
    b.addEventListener("click", async () => {
      try {
        const op = await pzv.api("PUT", "/operators/" + encodeURIComponent(login) + "/presence",
          { state: b.dataset.presence });
        showPresence(op.presence);
        say("Статус: " + L.presence[op.presence] + ".", "notice");
      } catch (e) { failed("Не удалось сменить статус", e); }
    });
  });

  // ---- the card ----
  function clearCard(text) {
    if (!card) return;
    stopDialPoll();
    card.dataset.requestId = "";
    card.hidden = true;
    $("card-empty").hidden = false;
    $("voicemail-audio").removeAttribute("src");
    $("dial-status").textContent = "";
    $("note").value = "";
    $("topic").value = "";
    $("follow-up-box").hidden = true;
    $("mail-box").hidden = true;
    $("reply-text").value = "";
    if (text) say(text, "notice");
  }

  function fillCard(it) {
    card.dataset.requestId = String(it.id);
    const num = $("card-number");
    num.textContent = it.callback_number || "телефон не указан";
    if (it.callback_number) num.href = "tel:" + it.callback_number;
    else num.removeAttribute("href");
    $("dial").hidden = !it.callback_number;
    $("mail-box").hidden = !it.email;
    $("card-email").textContent = it.email || "";
    $("reply-status").textContent = "";
    if (it.email) loadLetters(it.id);
    $("card-reg").textContent = it.reg_number || "";
    $("card-category").textContent = category(it.caller_category);
    $("card-reason").textContent = it.reason || "";
    $("card-when").textContent = whenText(it);
    $("card-attempts").textContent = it.misses + " из " + maxAttempts;
    card.hidden = false;
    $("card-empty").hidden = true;
    loadContacts(it.id);
  }

  // ---- letters of a request by e-mail ----
  async function loadLetters(id) {
    const box = $("letters");
    try {
      const letters = await pzv.api("GET", "/callbacks/" + id + "/letters");
      if (card.dataset.requestId !== String(id)) return;
      box.replaceChildren();
      letters.forEach((l) => {
        const item = el("article", null, "letter " + l.direction);
        const who = l.direction === "in" ? "От " + (l.from_address || "") : "Ответ на " + (l.to_address || "");
        item.append(el("p", who + " · " + fmt(new Date(l.created_at_ms).toISOString()) + " · " + l.subject, "muted"));
        item.append(el("pre", l.body, "letter-body"));
        box.append(item);
      });
      if (!letters.length) box.append(el("p", "Писем нет.", "muted"));
    } catch (e) { box.replaceChildren(el("p", "Не удалось загрузить письма.", "muted")); }
  }

  async function sendReply() {
    const id = card.dataset.requestId;
    const text = $("reply-text").value.trim();
    if (!id) return;
    if (!text) { $("reply-status").textContent = "Напишите текст ответа."; return; }
    try {
      await pzv.api("POST", "/callbacks/" + id + "/reply", { text });
      $("reply-text").value = "";
      $("reply-status").textContent = "Ответ отправлен.";
      loadLetters(id);
    } catch (e) { failed("Не удалось отправить ответ", e); }
  }

  function attemptText(a) {
    if (!a) return "";
    if (a.error) return "Звонок не удался: " + a.error;
    const s = a.call_status ? (L.call_status[a.call_status] || a.call_status) : "вызов отправлен";
    return "Попытка " + fmtTime(a.started_at) + ": " + s;
  }

  async function loadContacts(id) {
    const box = $("contacts");
    try {
      const c = await pzv.api("GET", "/callbacks/" + id + "/contacts");
      if (card.dataset.requestId !== String(id)) return;
      const audio = $("voicemail-audio");
      if (c.audio_url) {
        if (audio.getAttribute("src") !== c.audio_url) audio.src = c.audio_url;
      } else {
        audio.removeAttribute("src");
      }
      $("voicemail-box").hidden = !c.audio_url;
      $("no-voicemail").hidden = !!c.audio_url;
      box.replaceChildren();
      const list = el("ul", null, "contacts");
      c.requests.forEach((r) => {
        const parts = ["Заявка от " + r.created_label, r.state_label];
        if (r.outcome_label) parts.push(r.outcome_label);
        if (r.topic_label) parts.push("тема: " + r.topic_label);
        if (r.closed_label) parts.push("закрыта " + r.closed_label);
        const li = el("li", parts.join(" · "));
        if (r.note) li.append(el("div", "Заметка: " + r.note, "muted"));
        list.append(li);
      });
      c.voicemails.forEach((v) => {
        const li = el("li", "Сообщение " + v.at_label + " · " + v.category_label +
          (v.current ? " · в этой заявке" : ""));
        if (v.audio_url) {
          const b = el("button", "Слушать", "link");
          b.type = "button";
          b.addEventListener("click", () => {
            $("voicemail-box").hidden = false;
            $("no-voicemail").hidden = true;
            audio.src = v.audio_url;
            audio.play().catch(() => {});
          });
          li.append(" ", b);
        }
        list.append(li);
      });
      c.calls.forEach((k) => {
        list.append(el("li", "Звонок " + k.at_label + (k.state_label ? " · " + k.state_label : "")));
      });
      if (!list.children.length) box.append(el("p", "Других обращений нет.", "muted"));
      else box.append(list);
    } catch (e) {
      box.replaceChildren(el("p", "Не удалось загрузить прежние обращения.", "error"));
    }
  }

  // Re-reads the held request; clears the card when it is no longer ours.
  async function refreshCard() {
    const id = card && card.dataset.requestId;
    if (!id) return null;
    try {
      const d = await pzv.api("GET", "/callbacks/" + id);
      if (d.state !== "claimed" || d.claimed_by !== operatorId) {
        clearCard("Заявка больше не у вас (" + (L.state[d.state] || d.state) + ").");
        return null;
      }
      $("card-attempts").textContent = d.misses + " из " + maxAttempts;
      const last = d.attempts[d.attempts.length - 1];
      if (last) $("dial-status").textContent = attemptText(last);
      return last || null;
    } catch (e) { return null; }
  }

  function stopDialPoll() {
    if (dialPoll) clearInterval(dialPoll);
    dialPoll = null;
  }
  function startDialPoll() {
    stopDialPoll();
    const until = Date.now() + 15 * 60 * 1000;
    dialPoll = setInterval(async () => {
      const a = await refreshCard();
      if (!a || a.ended_at || a.error || Date.now() > until) stopDialPoll();
    }, 2000);
  }

  async function claim() {
    try {
      const resp = await fetch("/api/v1/callbacks/claim", {
        method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": pzv.csrf() },
      });
      if (resp.status === 204) { say("Сейчас некому перезванивать: очередь пуста.", "notice"); return; }
      const data = await resp.json().catch(() => ({}));
      if (resp.status === 409 && data.next_window) {
        say("Горячая линия закрыта. Следующее рабочее время: " + fmt(data.next_window.start) + ".", "error");
        return;
      }
      if (!resp.ok) { failed("Не удалось взять заявку", { status: resp.status, message: data.error }); return; }
      fillCard(data);
      say(data.already_held ? "Это заявка, которая уже у вас." : "Заявка взята в работу.", "notice");
      refreshList();
    } catch (e) { failed("Не удалось взять заявку", e); }
  }

  async function dial() {
    const id = card.dataset.requestId;
    if (!id) return;
    $("dial-status").textContent = "Соединяем…";
    try {
      const resp = await fetch("/api/v1/callbacks/" + id + "/dial", {
        method: "POST", credentials: "same-origin",
        headers: { "X-CSRF-Token": pzv.csrf(), "Idempotency-Key": newKey() },
      });
      const data = await resp.json().catch(() => ({}));
      if (resp.status === 409 && data.attempt) {
        $("dial-status").textContent = "Звонок уже идёт. " + attemptText(data.attempt);
        startDialPoll();
        return;
      }
      if (!resp.ok) {
        $("dial-status").textContent = resp.status === 503 ? "Звонок из браузера недоступен: телефония не настроена."
          : resp.status === 502 ? "Оператор связи отклонил звонок."
          : resp.status === 409 ? "Заявка не у вас: возьмите её снова." : "Не удалось позвонить.";
        return;
      }
      $("dial-status").textContent = attemptText(data.attempt);
      startDialPoll();
    } catch (e) { $("dial-status").textContent = "Не удалось позвонить: нет связи с сервером."; }
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  async function loadSlots() {
    const sel = $("follow-up-slot");
    try {
      const slots = await pzv.api("GET", "/calendar/follow-up-slots?days=5");
      sel.replaceChildren();
      const groups = new Map();
      slots.forEach((s) => {
        let g = groups.get(s.date);
        if (!g) { g = document.createElement("optgroup"); g.label = s.day; groups.set(s.date, g); sel.append(g); }
        const o = el("option", s.time);
        o.value = s.at;
        g.append(o);
      });
    } catch (e) { say("Не удалось загрузить рабочее время.", "error"); }
  }

  async function outcome(name, needsTopic) {
    const id = card.dataset.requestId;
    if (!id) return;
    const box = $("follow-up-box");
    if (name === "follow_up" && box.hidden) {
      box.hidden = false;
      await loadSlots();
      $("follow-up-slot").focus();
      say("Выберите время перезвона и нажмите «Записать время перезвона».", "notice");
      return;
    }
    const topic = $("topic").value;
    if (needsTopic && !topic) { say("Выберите тему обращения.", "error"); $("topic").focus(); return; }
    const body = { outcome: name };
    if (topic) body.topic = topic;
    const note = $("note").value.trim();
    if (note) body.note = note;
    if (name === "follow_up") {
      const at = $("follow-up-slot").value;
      if (!at) { say("Выберите время перезвона.", "error"); return; }
      body.follow_up_at = at;
    }
    try {
      const r = await pzv.api("POST", "/callbacks/" + id + "/outcome", body);
      const stored = r.outcome ? (L.outcome[r.outcome] || r.outcome) : L.outcome[name];
      clearCard("Записано: " + stored + (r.state === "open" ? ". Заявка вернулась в очередь." : "."));
      refreshList();
    } catch (e) { failed("Не удалось записать итог", e); }
  }

  async function release() {
    const id = card.dataset.requestId;
    if (!id) return;
    try {
      await pzv.api("POST", "/callbacks/" + id + "/release");
      clearCard("Заявка возвращена в список.");
      refreshList();
    } catch (e) { failed("Не удалось вернуть заявку", e); }
  }

  if (card) {
    $("claim-next").addEventListener("click", claim);
    $("dial").addEventListener("click", dial);
    $("reply-send").addEventListener("click", sendReply);
    $("release").addEventListener("click", release);
    document.querySelectorAll("button[data-outcome]").forEach((b) => {
      b.addEventListener("click", () => outcome(b.dataset.outcome, b.dataset.needsTopic === "true"));
    });
    $("follow-up-save").addEventListener("click", () => outcome("follow_up", true));
    if (card.dataset.requestId) {
      loadContacts(card.dataset.requestId);
      refreshCard();
      if ($("card-email").textContent.trim()) loadLetters(card.dataset.requestId);
    }
  }

  // ---- the list ----
  async function refreshList() {
    try {
      const resp = await fetch("/api/v1/callbacks?limit=50", { credentials: "same-origin" });
      if (!resp.ok) return;
      const items = await resp.json();
      const tbody = document.querySelector("#queue tbody");
      const rows = items.map((it, i) => {
        const mine = it.state === "claimed" && operatorId !== null && it.claimed_by === operatorId;
        const tr = document.createElement("tr");
        tr.dataset.requestId = String(it.id);
        if (mine) tr.className = "mine";
        const who = el("td", category(it.caller_category));
        if (it.repeat_count > 0) { who.append(" "); who.append(el("span", "+" + it.repeat_count, "badge")); }
        if (it.silent) { who.append(" "); who.append(el("span", "без записи", "badge")); }
        tr.append(el("td", String(i + 1)), el("td", it.reg_number || ""), who,
          el("td", (L.state[it.state] || it.state) + (mine ? " (у вас)" : "")),
          el("td", it.reason), el("td", etaText(it)), el("td", fmt(it.created_at)));
        return tr;
      });
      tbody.replaceChildren(...rows);
      $("queue-empty").hidden = rows.length > 0;
      const total = resp.headers.get("x-total-count");
      if (total !== null) $("queue-total").textContent = total;
    } catch (e) { /* the next event or the minute timer retries */ }
  }

  // ---- live updates ----
  if (window.EventSource) {
    const es = new EventSource("/events");
    es.addEventListener("list", () => { refreshList(); refreshCard(); });
    es.addEventListener("presence", (ev) => {
      const p = JSON.parse(ev.data);
      if (p.state) showPresence(p.state, p.label);
    });
    es.addEventListener("hello", (ev) => {
      const p = JSON.parse(ev.data);
      if (p.state) showPresence(p.state, p.label);
      refreshList();
    });
  }
  setInterval(refreshList, 60000);
})();
