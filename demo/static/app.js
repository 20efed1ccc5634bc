// The Holdfast demo page: shows the emulated server as one person sees it and acts as them.
// Plain JavaScript, no build step and nothing from the internet.
"use strict";

const $ = (sel) => document.querySelector(sel);
const state = {
  me: new URLSearchParams(location.search).get("as") || localStorage.getItem("holdfast-demo-as"),
  channel: null, // a channel id, or "dm"
  view: null,
  fetchedAt: 0,
  version: -1,
  commands: [],
  notOffered: [],
  picked: null, // {command, path, leaf options}
  poll: null,
  seen: {},
};

// --- talking to the demo server ------------------------------------------------------------
async function api(path, body) {
  const res = await fetch(path, body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  let data = {};
  try { data = await res.json(); } catch (e) { data = { error: await res.text().catch(() => "") }; }
  return { status: res.status, data };
}

async function pollLoop() {
  const mine = {};
  state.poll = mine;
  let since = -1;
  while (state.poll === mine) {
    try {
      const who = state.me ? `user=${state.me}` : "user=";
      const res = await fetch(`/api/view?${who}&since=${since}`);
      if (state.poll !== mine) return;
      const view = await res.json();
      state.me = view.me.id;
      since = view.version;
      state.view = view;
      state.fetchedAt = Date.now();
      render();
    } catch (e) {
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

function restartPolling() {
  state.view = null;
  state.version = -1;
  pollLoop();
}

// --- time -------------------------------------------------------------------------------------
function demoNow() {
  if (!state.view) return new Date();
  return new Date(Date.parse(state.view.now) + (Date.now() - state.fetchedAt));
}

function formatTimestamp(unix, style) {
  const d = new Date(unix * 1000);
  const opts = {
    t: { hour: "2-digit", minute: "2-digit" },
    T: { hour: "2-digit", minute: "2-digit", second: "2-digit" },
    d: { day: "2-digit", month: "2-digit", year: "numeric" },
    D: { day: "numeric", month: "long", year: "numeric" },
    f: { day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit" },
    F: { weekday: "long", day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit" },
  };
  if (style === "R") return relative(d);
  return new Intl.DateTimeFormat("en-GB", opts[style] || opts.f).format(d);
}

function relative(d) {
  const seconds = Math.round((d - demoNow()) / 1000);
  const units = [["year", 31536000], ["month", 2592000], ["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
  const rtf = new Intl.RelativeTimeFormat("en-GB", { numeric: "auto" });
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size || unit === "second") return rtf.format(Math.round(seconds / size), unit);
  }
  return "";
}

// --- Discord markdown (the parts Holdfast uses) ----------------------------------------------
function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

function inline(text) {
  const names = state.view ? state.view.names : { users: {}, roles: {}, channels: {} };
  let html = escapeHtml(text);
  html = html.replace(/&lt;t:(-?\d+)(?::([tTdDfFR]))?&gt;/g, (m, unix, style) =>
    `<span class="ts" data-unix="${unix}" data-style="${style || "f"}" title="${escapeHtml(formatTimestamp(+unix, "F"))}">${escapeHtml(formatTimestamp(+unix, style || "f"))}</span>`);
  html = html.replace(/&lt;@!?(\d+)&gt;/g, (m, id) => `<span class="mention">@${escapeHtml(names.users[id] || "unknown-user")}</span>`);
  html = html.replace(/&lt;@&amp;(\d+)&gt;/g, (m, id) => `<span class="mention">@${escapeHtml(names.roles[id] || "deleted-role")}</span>`);
  html = html.replace(/&lt;#(\d+)&gt;/g, (m, id) => `<span class="mention">#${escapeHtml(names.channels[id] || "unknown")}</span>`);
  html = html.replace(/`([^`]+)`/g, "<code>$1</code>");
  html = html.replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>");
  html = html.replace(/__(.+?)__/g, "<u>$1</u>");
  html = html.replace(/(^|[^*])\*(?!\s)([^*]+?)\*/g, "$1<em>$2</em>");
  html = html.replace(/(^|\W)_(?!\s)([^_]+?)_(?=\W|$)/g, "$1<em>$2</em>");
  html = html.replace(/~~(.+?)~~/g, "<s>$1</s>");
  html = html.replace(/\[([^\]]+)\]\((https?:[^)\s]+)\)/g, '<a href="$2" target="_blank" rel="noopener">$1</a>');
  return html;
}

function markdown(text) {
  if (!text) return "";
  return String(text).split("\n").map((line) => {
    let m;
    if ((m = line.match(/^-# (.*)$/))) return `<span class="subtext">${inline(m[1])}</span>`;
    if ((m = line.match(/^(#{1,3}) (.*)$/))) return `<strong class="h${m[1].length}">${inline(m[2])}</strong>`;
    if ((m = line.match(/^> ?(.*)$/))) return `<blockquote>${inline(m[1])}</blockquote>`;
    if ((m = line.match(/^[-*] (.*)$/))) return `• ${inline(m[1])}`;
    return inline(line);
  }).join("<br>").replace(/<\/blockquote><br>/g, "</blockquote>");
}

// --- rendering --------------------------------------------------------------------------------
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "html") node.innerHTML = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function render() {
  const v = state.view;
  if (!v) return;
  $("#guild").textContent = v.guild;
  renderPeople(v);
  renderClock();
  $("#next").textContent = v.next.length ? `Next: ${v.next[0].what}, ${formatTimestamp(Date.parse(v.next[0].at) / 1000, "f")} (${relative(new Date(v.next[0].at))})` : "Nothing planned yet.";
  const states = { running: "", restarting: "Holdfast is restarting at the new time…", starting: "Holdfast is starting…", failed: "Holdfast stopped: " + (v.problem || ""), stopped: "The demo has stopped." };
  $("#botstate").textContent = states[v.bot] || "";
  $("#skip").disabled = v.bot !== "running" || !v.next.length;
  const channelIds = v.channels.filter((c) => c.kind === "text").map((c) => c.id);
  if (state.channel !== "dm" && !channelIds.includes(state.channel)) state.channel = channelIds[0] || "dm";
  renderSidebar(v);
  renderMessages(v);
  const key = `${v.me.id}:${state.channel}:${v.bot}`;
  if (state.commandsFor !== key && v.bot === "running") { state.commandsFor = key; loadCommands(); }
}

function renderPeople(v) {
  const select = $("#person");
  if (!select.options.length) {
    // The people never change: built once, so a choice being made is never pulled away.
    for (const [role, label] of [["admin", "Admin"], ["facilitator", "Facilitators"], ["member", "Members"]]) {
      const group = el("optgroup", { label });
      for (const p of v.people.filter((x) => x.role === role)) group.append(el("option", { value: p.id }, `${p.name} (${role})`));
      select.append(group);
    }
  }
  if (select.dataset.me === v.me.id) return;
  select.value = v.me.id;
  select.dataset.me = v.me.id;
}

function renderClock() {
  if (!state.view) return;
  $("#now").textContent = new Intl.DateTimeFormat("en-GB", { weekday: "long", day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" }).format(demoNow());
}

function renderSidebar(v) {
  const list = $("#channels");
  list.replaceChildren();
  for (const c of v.channels) {
    if (c.kind === "voice") { list.append(el("li", { class: "voice" }, `♪ ${c.name} (voice)`)); continue; }
    list.append(el("li", {}, channelButton(c.id, `# ${c.name}`, c.messages)));
  }
  $("#dms").replaceChildren(el("li", {}, channelButton("dm", "Holdfast (bot)", v.dm.messages)));
}

function channelButton(id, label, messages) {
  const last = messages.length ? messages[messages.length - 1].id : null;
  const key = `${state.view.me.id}:${id}`;
  if (id === state.channel) state.seen[key] = last;
  const unread = last !== null && state.seen[key] !== last ? messages.filter((m) => !state.seen[key] || BigInt(m.id) > BigInt(state.seen[key])).length : 0;
  return el("button", { type: "button", class: id === state.channel ? "current" : "", "data-channel": id, onclick: () => openChannel(id) },
    label, unread ? el("span", { class: "badge" }, String(unread)) : null);
}

function openChannel(id) {
  state.channel = id;
  closeOptions();
  hideNotice();
  render();
}

function currentChannel() {
  const v = state.view;
  if (state.channel === "dm") return { id: v.dm.id, title: "Direct messages with Holdfast", messages: v.dm.messages };
  const c = v.channels.find((x) => x.id === state.channel);
  return { id: c.id, title: `# ${c.name}` + (c.topic ? ` — ${c.topic}` : ""), messages: c.messages };
}

function renderMessages(v) {
  const box = $("#messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  const channel = currentChannel();
  $("#chat-title").textContent = channel.title;
  $("#command").placeholder = state.channel === "dm" ? "Type / to use a Holdfast command in this DM" : `Type / to use a Holdfast command in ${channel.title.split(" — ")[0]}`;
  box.replaceChildren(...channel.messages.map(renderMessage));
  if (!channel.messages.length) box.append(el("p", { class: "muted" }, "Nothing here yet."));
  if (atBottom || box.dataset.channel !== `${v.me.id}:${state.channel}`) box.scrollTop = box.scrollHeight;
  box.dataset.channel = `${v.me.id}:${state.channel}`;
}

function renderMessage(m) {
  const node = el("article", { class: "msg", "data-id": m.id });
  if (m.used && m.used.command) node.append(el("div", { class: "used" }, `${m.used.by} used `, el("strong", {}, `/${m.used.command}`)));
  node.append(el("div", { class: "head" }, m.author, m.bot ? el("span", { class: "app" }, "APP") : null,
    el("time", { datetime: m.timestamp }, formatTimestamp(Date.parse(m.timestamp) / 1000, "f") + (m.edited ? " (edited)" : ""))));
  if (m.loading) node.append(el("div", { class: "muted" }, "Holdfast is thinking…"));
  if (m.content) node.append(el("div", { class: "body", html: markdown(m.content) }));
  for (const e of m.embeds) node.append(renderEmbed(e, m));
  const embedded = new Set(m.embeds.flatMap((e) => [e.image, e.thumbnail]).filter(Boolean).map((i) => (i.url || "").replace("attachment://", "")));
  for (const a of m.attachments) if (!embedded.has(a.filename)) node.append(renderAttachment(a));
  for (const c of m.components) node.append(renderComponent(c, m));
  if (m.ephemeral) node.append(el("div", { class: "only" }, "Only you can see this"));
  return node;
}

function attachmentUrl(url, m) {
  if (url && url.startsWith("attachment://")) {
    const a = m.attachments.find((x) => x.filename === url.slice("attachment://".length));
    return a ? a.url : null;
  }
  return url;
}

function renderEmbed(e, m) {
  const color = e.color !== undefined && e.color !== null ? `#${Number(e.color).toString(16).padStart(6, "0")}` : "#1e1f22";
  const node = el("div", { class: "embed", style: `border-left-color: ${color}` });
  if (e.author && e.author.name) node.append(el("div", { class: "subtext" }, e.author.name));
  if (e.title) node.append(el("div", { class: "title", html: inline(e.title) }));
  if (e.description) node.append(el("div", { html: markdown(e.description) }));
  if (e.fields && e.fields.length) {
    node.append(el("div", { class: "fields" }, e.fields.map((f) =>
      el("div", { class: "field" + (f.inline ? " inline" : "") }, el("div", { class: "name", html: inline(f.name) }), el("div", { html: markdown(f.value) })))));
  }
  for (const key of ["image", "thumbnail"]) {
    const src = e[key] && attachmentUrl(e[key].url, m);
    if (src) node.append(el("img", { src, alt: key === "image" ? "chart" : "" }));
  }
  if (e.footer && e.footer.text) node.append(el("div", { class: "footer", html: inline(e.footer.text) }));
  return node;
}

function renderAttachment(a) {
  const image = (a.content_type || "").startsWith("image/") || /\.(png|jpe?g|gif)$/i.test(a.filename);
  return el("div", { class: "attachment" }, image ? el("img", { src: a.url, alt: a.filename }) : el("a", { href: a.url, target: "_blank" }, `${a.filename} (file)`));
}

function renderComponent(c, m) {
  if (c.type === 1) return el("div", { class: "row" }, (c.components || []).map((x) => renderComponent(x, m)));
  if (c.type === 2) {
    const label = `${c.emoji && c.emoji.name ? c.emoji.name + " " : ""}${c.label || ""}`.trim();
    if (c.style === 5) return el("a", { class: "s5", href: /^https?:/.test(c.url || "") ? c.url : null, target: "_blank", rel: "noopener" }, label + " ↗");
    return el("button", { type: "button", class: `s${c.style || 2}`, disabled: !!c.disabled, onclick: () => clickButton(m, c) }, label);
  }
  if ([3, 5, 6, 7, 8].includes(c.type)) return renderSelect(c, m);
  if (c.type === 10) return el("div", { html: markdown(c.content) });
  if (c.type === 17 || c.type === 9) return el("div", { class: "embed" }, [...(c.components || []), ...(c.accessory ? [c.accessory] : [])].map((x) => renderComponent(x, m)));
  return el("span");
}

function entityOptions(type) {
  const n = state.view.names;
  const people = state.view.people.map((p) => [p.id, p.name]);
  if (type === 5 || type === 6 && false) return people;
  if (type === 6) return Object.entries(n.roles).filter(([, name]) => name !== "@everyone");
  if (type === 7) return state.view.channels.map((c) => [c.id, c.name]);
  return people;
}

function renderSelect(c, m) {
  const multiple = (c.max_values || 1) > 1;
  const select = el("select", { "aria-label": c.placeholder || "Choose", multiple, disabled: !!c.disabled });
  if (!multiple) select.append(el("option", { value: "" }, c.placeholder || "Choose…"));
  const options = c.type === 3 ? (c.options || []).map((o) => [o.value, o.label]) : entityOptions(c.type);
  for (const [value, label] of options) select.append(el("option", { value }, label));
  const send = () => {
    const values = [...select.selectedOptions].map((o) => o.value).filter(Boolean);
    if (values.length) act("/api/select", { message: m.id, custom_id: c.custom_id, values });
  };
  if (!multiple) { select.addEventListener("change", send); return el("div", { class: "row" }, select); }
  return el("div", { class: "row" }, select, el("button", { type: "button", onclick: send }, "Choose"));
}

// --- acting -----------------------------------------------------------------------------------
async function act(path, body) {
  hideNotice();
  const { status, data } = await api(path, { user: state.me, ...body });
  if (data.modal) return openModal(data.modal, data.interaction);
  if (data.refused) return showNotice(data.refused, data.why);
  if (data.failed) return showNotice(data.failed, "Holdfast did not answer in time, as Discord would show it.");
  if (data.error) return showNotice(data.error);
  if (status >= 400) return showNotice("Something went wrong.");
  return data;
}

function clickButton(m, c) { return act("/api/click", { message: m.id, custom_id: c.custom_id }); }

function showNotice(text, why) {
  const n = $("#notice");
  n.replaceChildren(el("div", {}, text), why ? el("div", { class: "why" }, why) : null);
  n.hidden = false;
}
function hideNotice() { $("#notice").hidden = true; }

// --- modals -----------------------------------------------------------------------------------
function openModal(modal, interaction) {
  const dialog = $("#modal");
  const form = $("#modal-form");
  form.replaceChildren(el("h3", {}, modal.title || ""));
  const fields = [];
  const addField = (c, labelText, description) => {
    if (c.type === 4) {
      const attrs = { id: `f-${c.custom_id}`, name: c.custom_id, placeholder: c.placeholder, required: c.required !== false, minlength: c.min_length, maxlength: c.max_length };
      const input = c.style === 2 ? el("textarea", { ...attrs, rows: 4 }) : el("input", attrs);
      input.value = c.value || "";
      form.append(el("label", { for: attrs.id }, labelText || c.label || c.custom_id), description ? el("div", { class: "subtext" }, description) : null, input);
      fields.push(() => [c.custom_id, input.value]);
    } else if (c.type === 3) {
      const select = el("select", { id: `f-${c.custom_id}`, multiple: (c.max_values || 1) > 1 });
      for (const o of c.options || []) select.append(el("option", { value: o.value }, o.label));
      form.append(el("label", { for: `f-${c.custom_id}` }, labelText || c.placeholder || ""), select);
      fields.push(() => [c.custom_id, [...select.selectedOptions].map((o) => o.value)]);
    } else if (c.type === 10) {
      form.append(el("div", { html: markdown(c.content) }));
    }
  };
  for (const top of modal.components || []) {
    if (top.type === 1) for (const c of top.components || []) addField(c);
    else if (top.type === 18) addField(top.component, top.label, top.description);
    else addField(top);
  }
  const cancel = el("button", { type: "button", class: "cancel", onclick: () => dialog.close() }, "Cancel");
  const submit = el("button", { type: "submit", value: "submit" }, "Submit");
  form.append(el("div", { class: "buttons" }, cancel, submit));
  form.onsubmit = async (event) => {
    event.preventDefault();
    const values = Object.fromEntries(fields.map((f) => f()));
    dialog.close();
    await act("/api/modal", { interaction, values });
  };
  dialog.showModal();
}

// --- the slash-command box ----------------------------------------------------------------
async function loadCommands() {
  if (!state.view) return;
  const { data } = await api(`/api/commands?user=${state.view.me.id}&channel=${state.channel === "dm" ? "dm" : state.channel}`);
  state.commands = data.commands || [];
  state.notOffered = data.not_offered || [];
}

// Every command and subcommand a person can pick, as [path words, definition, leaf options].
function leaves() {
  const out = [];
  for (const cmd of state.commands) {
    const subs = (cmd.options || []).filter((o) => o.type === 1 || o.type === 2);
    if (!subs.length) { out.push({ words: [cmd.name], description: cmd.description, options: cmd.options || [] }); continue; }
    for (const sub of subs) {
      if (sub.type === 1) out.push({ words: [cmd.name, sub.name], description: sub.description, options: sub.options || [] });
      else for (const leaf of sub.options || []) out.push({ words: [cmd.name, sub.name, leaf.name], description: leaf.description, options: leaf.options || [] });
    }
  }
  return out;
}

function onCommandInput() {
  const text = $("#command").value;
  const box = $("#suggest");
  if (!text.startsWith("/") || state.picked) { box.hidden = true; return; }
  const typed = text.slice(1).trim().toLowerCase();
  const found = leaves().filter((l) => l.words.join(" ").startsWith(typed) || l.words[0].startsWith(typed.split(" ")[0]) && typed.split(" ").length === 1);
  box.replaceChildren(...found.slice(0, 30).map((l) => el("button", { type: "button", "data-command": l.words.join(" "), onclick: () => pick(l) },
    `/${l.words.join(" ")}`, el("span", { class: "desc" }, l.description || ""))));
  if (!found.length) box.append(el("div", { class: "muted" }, "No Holdfast command you can use matches."));
  box.hidden = false;
}

function pick(leaf) {
  state.picked = leaf;
  $("#suggest").hidden = true;
  $("#command").value = `/${leaf.words.join(" ")}`;
  const box = $("#options");
  box.replaceChildren(el("h4", {}, `/${leaf.words.join(" ")}`, el("span", { class: "desc muted" }, " " + (leaf.description || ""))));
  for (const o of leaf.options) box.append(optionRow(leaf, o));
  box.append(el("div", { class: "row" }, el("button", { type: "submit" }, "Send"), el("button", { type: "button", class: "s2", onclick: closeOptions }, "Cancel")));
  box.hidden = false;
  const first = box.querySelector("input, select");
  if (first) first.focus();
}

function closeOptions() {
  state.picked = null;
  $("#options").hidden = true;
  $("#suggest").hidden = true;
}

function optionRow(leaf, o) {
  const id = `opt-${o.name}`;
  let input;
  const types = { 5: [["true", "Yes"], ["false", "No"]] };
  const choose = (pairs, blank) => {
    const s = el("select", { id, name: o.name });
    s.append(el("option", { value: "" }, blank));
    for (const [v, l] of pairs) s.append(el("option", { value: v }, l));
    return s;
  };
  if (o.choices && o.choices.length) input = choose(o.choices.map((c) => [c.value, c.name]), o.required ? "Choose…" : "(none)");
  else if (o.type === 5) input = choose(types[5], o.required ? "Choose…" : "(none)");
  else if (o.type === 6 || o.type === 9) input = choose(state.view.people.map((p) => [p.id, p.name]), o.required ? "Choose…" : "(none)");
  else if (o.type === 8) input = choose(Object.entries(state.view.names.roles).filter(([, n]) => n !== "@everyone"), o.required ? "Choose…" : "(none)");
  else if (o.type === 7) {
    const kinds = o.channel_types;
    const all = state.view.channels.filter((c) => !kinds || kinds.includes(c.kind === "voice" ? 2 : 0));
    input = choose(all.map((c) => [c.id, c.name]), o.required ? "Choose…" : "(none)");
  } else input = el("input", { id, name: o.name, type: o.type === 4 || o.type === 10 ? "number" : "text", min: o.min_value, max: o.max_value, maxlength: o.max_length });
  const row = el("div", { class: "opt" }, el("label", { for: id }, o.name + (o.required ? " *" : "")), input, el("div", { class: "d" }, o.description || ""));
  if (o.autocomplete) {
    const choices = el("div", { class: "choices", "data-for": o.name });
    row.append(choices);
    let asked = 0;
    const suggest = async () => {
      const mine = ++asked;
      const { data } = await api("/api/autocomplete", { user: state.me, channel: state.channel, name: leaf.words[0], path: leaf.words.slice(1), options: readOptions(), focused: o.name });
      if (mine !== asked) return; // an older answer, overtaken by typing
      choices.replaceChildren(...(data.choices || []).map((c) => el("button", { type: "button", onclick: () => { input.value = c.value; choices.replaceChildren(); } }, c.name)));
    };
    input.addEventListener("input", debounce(suggest, 200));
    input.addEventListener("focus", suggest);
  }
  return row;
}

function readOptions() {
  const out = {};
  for (const node of $("#options").querySelectorAll("[name]")) if (node.value !== "") out[node.name] = node.value;
  return out;
}

function debounce(fn, ms) {
  let t = null;
  return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
}

async function submitCommand(event) {
  event.preventDefault();
  const text = $("#command").value.trim();
  if (!text) return;
  let leaf = state.picked;
  if (!leaf) {
    if (!text.startsWith("/")) return showNotice("Holdfast listens to slash commands: type / to see yours.");
    const typed = text.slice(1).trim();
    leaf = leaves().find((l) => l.words.join(" ") === typed);
    if (!leaf) {
      // Let Discord (the emulator) say why: a command this person is not offered, or none.
      const words = typed.split(/\s+/);
      await act("/api/run", { channel: state.channel, name: words[0], path: words.slice(1), options: {} });
      return;
    }
    if (leaf.options.length) return pick(leaf);
  }
  const options = state.picked ? readOptions() : {};
  closeOptions();
  $("#command").value = "";
  await act("/api/run", { channel: state.channel, name: leaf.words[0], path: leaf.words.slice(1), options });
}

// --- start ------------------------------------------------------------------------------------
$("#command").addEventListener("input", () => { if (state.picked && !$("#command").value.startsWith(`/${state.picked.words.join(" ")}`)) closeOptions(); onCommandInput(); });
$("#command").addEventListener("focus", () => { if (!state.commands.length) loadCommands(); });
$("#composer").addEventListener("submit", submitCommand);
$("#person").addEventListener("change", (event) => {
  state.me = event.target.value;
  localStorage.setItem("holdfast-demo-as", state.me);
  closeOptions();
  hideNotice();
  restartPolling();
});
$("#skip").addEventListener("click", async () => {
  $("#skip").disabled = true;
  const { data } = await api("/api/skip", {});
  if (data.error) showNotice(data.error);
});
setInterval(() => {
  renderClock();
  for (const ts of document.querySelectorAll('.ts[data-style="R"]')) ts.textContent = relative(new Date(+ts.dataset.unix * 1000));
}, 1000);
pollLoop().catch(() => {});
