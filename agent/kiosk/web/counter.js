// The counter view: scans arrive live (server-sent events); the cashier
// enters the bill, picks redemptions, confirms. The transaction lives in
// localStorage with its id, so a reload neither loses nor repeats it: the
// agent records each transaction id once.
"use strict";
const S = {
  store: null, online: false, pending: 0,
  account: null,      // the member at the counter (replica + pending)
  notice: null,       // a refusal sentence from the last scan
  voucher: null, joinQR: null,
  quote: null, quoteErr: null, fieldErr: {},
  txn: JSON.parse(localStorage.getItem("mp.txn") || "null"),
  enrolled: JSON.parse(localStorage.getItem("mp.enrolled") || "null"),
  topup: JSON.parse(localStorage.getItem("mp.topup") || "null"),
  lastSeq: Number(sessionStorage.getItem("mp.lastSeq") || 0),
};
function saveTxn() { localStorage.setItem("mp.txn", JSON.stringify(S.txn)); }
let me = null; // who is signed in here

function startTxn(memberID) {
  S.txn = { id: newTxnID(), memberId: memberID, bill: "", coupon: "", points: "", sv: "", status: "editing", receipt: null };
  S.quote = null; S.quoteErr = null; S.fieldErr = {};
  S.topup = null; S.topupOpen = undefined; localStorage.removeItem("mp.topup");
  saveTxn();
}
function clearCounter() {
  S.txn = null; S.account = null; S.notice = null; S.voucher = null; S.joinQR = null; S.quote = null; S.vcheck = null; S.vdone = null;
  S.enrolled = null; S.topup = null;
  localStorage.removeItem("mp.txn"); localStorage.removeItem("mp.enrolled"); localStorage.removeItem("mp.topup");
  render();
}

// onScan takes a scan from the agent.
function onScan(v) {
  refreshState().then(render);
  if (v.seq) { S.lastSeq = v.seq; sessionStorage.setItem("mp.lastSeq", v.seq); }
  S.notice = v.refusal || null; S.okText = null; S.info = v.notice || null;
  if (v.voucher) {
    S.voucher = v.voucher; S.joinQR = v.join_qr; S.vdone = null; S.vcheck = null;
    // Not a voucher the brand imported: ask its platform (voucher.js).
    if (!v.voucher.Title) checkVoucher(v.voucher.Code, v.voucher.Platform);
  }
  if (v.account) {
    S.account = v.account; S.enrolled = null; localStorage.removeItem("mp.enrolled");
    const id = v.account.member.ID;
    if (!S.txn || S.txn.memberId !== id || S.txn.status === "recorded") { startTxn(id); if (!v.voucher) { S.voucher = null; } }
    requestQuote();
  }
  render();
}

function render() {
  applyI18n();
  document.getElementById("lang").textContent = t("lang");
  const net = document.getElementById("net");
  net.className = "pill " + (S.online ? "online" : "offline");
  net.textContent = (S.online ? t("online") : t("offline")) + (S.pending ? ` · ${S.pending} ${t("pending")}` : "");
  renderWho();
  renderCustomer();
  renderBill();
}

function renderWho() {
  document.getElementById("who").textContent = me ? me.name + (me.role === "manager" ? " · " + t("manager") : "") : "";
  document.getElementById("signout").classList.toggle("hidden", !me);
}

// Sign-in: a staff member picks their name and types their PIN.
async function showSignIn() {
  me = null; renderWho();
  const d = document.getElementById("signin-dialog");
  if (d.open) return;
  const r = await api("GET", "/api/staff");
  const staff = (r.ok && r.data.staff) || [];
  const sel = document.getElementById("signin-staff");
  sel.replaceChildren(...staff.map(s => el("option", { value: s.id }, s.name + " (" + s.id + ")")));
  document.getElementById("signin-err").textContent = staff.length ? "" : t("noStaffSetUp");
  document.getElementById("signin-pin").value = "";
  applyI18n(d);
  if (!d.open) d.showModal();
  document.getElementById("signin-pin").focus();
}
async function submitSignIn(e) {
  e.preventDefault();
  const pin = document.getElementById("signin-pin");
  const r = await api("POST", "/api/session", { staff_id: document.getElementById("signin-staff").value, pin: pin.value });
  pin.value = "";
  if (!r.ok) { document.getElementById("signin-err").textContent = sentence(r.data && r.data.refusal); return; }
  me = r.data;
  document.getElementById("signin-dialog").close();
  if (new URLSearchParams(location.search).get("next") === "manager" && me.role === "manager") { location.href = "/manager"; return; }
  await startCounter();
}
async function signOut() {
  await api("DELETE", "/api/session");
  clearCounter();
  showSignIn();
}
window.onSignedOut = () => { if (me) showSignIn(); };

function noticeBox(r) {
  return el("div", { class: "notice bad", id: "refusal", role: "alert" }, sentence(r), el("small", {}, otherSentence(r)));
}

function renderCustomer() {
  const box = document.getElementById("customer");
  const kids = [];
  // What the till recorded just before a restart and never showed: recorded, not to be entered again.
  const seen = Number(localStorage.getItem("mp.recoveredSeen") || 0);
  const rec = ((S.store && S.store.recovered) || []).filter(r => r.seq > seen);
  if (rec.length) {
    kids.push(el("div", { class: "notice warn", id: "recovered" }, t("recovered"),
      ...rec.map(r => el("small", {}, `#${r.seq} · ${t("kind_" + r.kind) || r.kind} · ${r.member_name || r.member_id || ""} · ${new Date(r.occurred_at).toLocaleTimeString()}`)),
      el("button", { id: "recovered-ok", onclick: () => { localStorage.setItem("mp.recoveredSeen", String(Math.max(...rec.map(r => r.seq)))); render(); } }, t("understood"))));
  }
  if (S.notice) kids.push(noticeBox(S.notice));
  if (S.info) kids.push(el("div", { class: "notice warn", id: "scan-notice" }, sentence(S.info), el("small", {}, otherSentence(S.info))));
  if (S.okText) kids.push(el("div", { class: "notice ok", id: "voucher-done" }, "✓ " + S.okText));
  if (S.enrolled) {
    kids.push(el("div", { class: "notice ok", id: "enrolled" }, "✓ " + t("enrolled"),
      el("small", {}, `${S.enrolled.phone} · #${S.enrolled.seq}`)));
  }
  kids.push(...voucherView());
  if (S.account) {
    const a = S.account, m = a.member;
    const tierName = a.tier ? (LANG === "zh" ? a.tier.Name : (a.tier.NameEn || a.tier.Name)) : (m.TierID || "");
    kids.push(el("div", { class: "who" },
      el("span", { class: "name", id: "member-name" }, m.Name || (LANG === "zh" ? "会员 " : "Member ") + m.ID),
      el("span", { class: "phone" }, m.PhoneMasked || ""),
      tierName ? el("span", { class: "pill tier", id: "member-tier" }, tierName) : null));
    if (a.provisional) kids.push(el("div", { class: "notice warn", id: "provisional" }, t("provisional")));
    else if (!a.known) kids.push(el("div", { class: "notice warn" }, t("unknownMember")));
    if (a.birthday_month) kids.push(el("div", { class: "notice warn", id: "birthday" }, "★ " + t("birthday")));
    kids.push(el("div", { class: "balances" },
      el("div", { class: "balance" }, el("div", { class: "label" }, t("points")), el("div", { class: "value", id: "member-points" }, String(m.Points || 0))),
      el("div", { class: "balance" }, el("div", { class: "label" }, t("storedValue")), el("div", { class: "value", id: "member-sv" }, yuan(m.StoredValueFen)))));
    kids.push(el("h2", {}, t("coupons")));
    const usable = a.coupons || [];
    if (!usable.length) kids.push(el("p", { class: "muted" }, t("noCoupons")));
    const list = el("div", { class: "coupons", role: "group", "aria-label": t("coupons") });
    const editing = S.txn && S.txn.status === "editing";
    if (usable.length) list.append(el("button", { class: "coupon", "aria-pressed": String(!S.txn || !S.txn.coupon), disabled: !editing, onclick: () => pickCoupon("") },
      el("span", { class: "cname" }, t("noCoupon"))));
    for (const c of usable) {
      list.append(el("button", {
        class: "coupon", id: "coupon-" + c.Code, "aria-pressed": String(!!(S.txn && S.txn.coupon === c.Code)),
        disabled: !c.Usable || !editing, onclick: () => pickCoupon(c.Code)
      }, el("span", { class: "cname" }, c.Name || c.Code),
        el("span", { class: "cnote" }, c.Usable ? couponNote(c) : sentence(c.Why))));
    }
    kids.push(list);
  } else if (!S.voucher && !S.enrolled && !S.vcheck && !S.vdone) {
    kids.push(el("div", { class: "idle", id: "idle" }, el("div", { class: "icon", "aria-hidden": "true" }, "▣"),
      el("h2", {}, t("scanPrompt")), el("p", {}, t("scanHint")), typeVoucherBox()));
  }
  box.replaceChildren(...kids);
}

function couponNote(c) {
  const parts = [];
  if (c.Kind === "amount_off") parts.push("-" + yuan(c.AmountOffFen));
  if (c.Kind === "percent_off") parts.push("-" + (c.PercentOffBP / 100) + "%");
  if (c.Kind === "free_item") parts.push(c.FreeItem);
  if (c.MinSpendFen) parts.push((LANG === "zh" ? "满" : "min ") + yuan(c.MinSpendFen));
  if (c.ExpiresAt && !c.ExpiresAt.startsWith("0001")) parts.push((LANG === "zh" ? "至 " : "until ") + c.ExpiresAt.slice(0, 10));
  return parts.join(" · ");
}

function field(id, labelKey, value, attrs, extra) {
  const err = S.fieldErr[id];
  return [
    el("label", { class: "field", for: id }, t(labelKey)),
    el("div", { class: "row" },
      el("input", Object.assign({ id, value, inputmode: "decimal", autocomplete: "off", "aria-invalid": String(!!err), "aria-describedby": id + "-err",
        oninput: e => { S.txn[id === "bill" ? "bill" : id] = e.target.value; saveTxn(); validateAndQuote(); } }, attrs)),
      extra || null),
    el("div", { class: "err", id: id + "-err" }, err ? sentence(err) : ""),
  ];
}

function renderBill() {
  const box = document.getElementById("bill-panel");
  const kids = [];
  const tx = S.txn;
  if (tx && S.account && tx.memberId === S.account.member.ID) {
    if (tx.status === "recorded") {
      const q = tx.receipt && tx.receipt.quote, ev = tx.receipt.event;
      kids.push(el("div", { class: "notice ok", id: "recorded", role: "status" }, "✓ " + t("recorded") + " / " + (LANG === "zh" ? "Recorded" : "已记录"),
        el("small", {}, `#${ev.Seq} · ${ev.ID}`)));
      if (q) kids.push(summary(q));
      kids.push(el("button", { class: "primary big", id: "next", onclick: clearCounter }, t("nextCustomer")));
    } else {
      const busy = tx.status === "submitting";
      kids.push(...field("bill", "bill", tx.bill, { class: "money", placeholder: "0.00", disabled: busy }));
      kids.push(...field("points", "pointsUse", tx.points, { inputmode: "numeric", placeholder: "0", disabled: busy },
        el("button", { type: "button", id: "points-max", disabled: busy, onclick: () => { S.txn.points = String(S.quote ? S.quote.max_points : 0); saveTxn(); validateAndQuote(true); } }, t("max"))));
      kids.push(...field("sv", "svUse", tx.sv, { placeholder: "0.00", disabled: busy },
        el("button", { type: "button", id: "sv-max", disabled: busy, onclick: svMax }, t("max"))));
      if (S.quote) kids.push(summary(S.quote));
      if (S.quoteErr) kids.push(noticeBox(S.quoteErr));
      kids.push(el("button", { class: "primary big", id: "confirm", disabled: busy || !S.quote || !!S.quoteErr, onclick: confirmCheckout },
        busy ? t("recording") : t("confirm")));
      kids.push(topUpBox());
      kids.push(el("div", { class: "actions" }, el("button", { id: "next", disabled: busy, onclick: clearCounter }, t("nextCustomer"))));
    }
  } else {
    kids.push(el("div", { class: "idle" }, el("button", { class: "big", id: "enrol-open", onclick: () => openEnrol("") }, t("enrolByPhone"))));
  }
  const focused = document.activeElement && document.activeElement.id;
  const pos = focused && document.activeElement.selectionStart;
  box.replaceChildren(...kids);
  if (focused && document.getElementById(focused)) {
    const f = document.getElementById(focused); f.focus();
    try { if (pos != null) f.setSelectionRange(pos, pos); } catch (e) { }
  }
}

function summary(q) {
  const row = (k, v, id) => el("tr", {}, el("td", {}, t(k)), el("td", { id }, v));
  return el("table", { class: "sum", id: "summary" },
    row("bill", yuan(q.bill_fen), "sum-bill"),
    q.tier_discount_fen ? row("tierDiscount", "-" + yuan(q.tier_discount_fen) + ` (${q.tier_discount_bp / 100}%)`, "sum-tier") : null,
    q.coupon_discount_fen ? row("couponDiscount", "-" + yuan(q.coupon_discount_fen), "sum-coupon") : null,
    q.points_discount_fen ? row("pointsDiscount", `-${yuan(q.points_discount_fen)} (${q.points_burned})`, "sum-points") : null,
    q.stored_value_fen ? row("svPaid", "-" + yuan(q.stored_value_fen), "sum-sv") : null,
    el("tr", { class: "total" }, el("td", {}, t("toPay")), el("td", { id: "to-pay" }, yuan(q.paid_other_fen))));
}

function topUpBox() {
  const tp = S.topup;
  // The open state is taken on click, not on the (later) toggle event, so
  // a render in between cannot close the box under the cashier's finger.
  const open = typeof S.topupOpen === "boolean" ? S.topupOpen : !!(tp && (tp.amount || tp.done || tp.err));
  return el("details", { id: "topup-box", open },
    el("summary", { class: "field", onclick: e => { S.topupOpen = !e.currentTarget.parentElement.open; } }, t("topUp")),
    el("div", { class: "row" },
      el("input", { id: "topup", inputmode: "decimal", placeholder: "500.00", value: (tp && tp.amount) || "", autocomplete: "off",
        oninput: e => { S.topup = Object.assign(S.topup || { id: newTxnID() }, { amount: e.target.value }); localStorage.setItem("mp.topup", JSON.stringify(S.topup)); } }),
      el("button", { class: "primary", id: "topup-submit", onclick: submitTopUp }, t("topUpBtn"))),
    el("div", { class: "err", id: "topup-err" }, tp && tp.err ? sentence(tp.err) : ""),
    tp && tp.done ? el("div", { class: "notice ok", id: "topup-done" }, `✓ ${t("toppedUp")} ${yuan(tp.done.amount)} + ${t("bonus")} ${yuan(tp.done.bonus)}`) : null);
}

function pickCoupon(code) { if (!S.txn) return; S.txn.coupon = code; saveTxn(); validateAndQuote(true); }
function svMax() {
  if (!S.quote || !S.account) return;
  const fen = Math.max(0, Math.min(S.quote.due_fen, S.account.member.StoredValueFen || 0));
  S.txn.sv = (fen / 100).toFixed(2); saveTxn(); validateAndQuote(true);
}

// validate checks the form locally; the agent checks again.
function validate() {
  const tx = S.txn, errs = {};
  const bill = parseYuan(tx.bill);
  if (tx.bill.trim() === "" || bill === null || bill <= 0) errs.bill = { zh: I18N.zh.badMoney, en: I18N.en.badMoney };
  let points = 0;
  if (String(tx.points).trim() !== "") { if (!/^\d{1,9}$/.test(String(tx.points).trim())) errs.points = { zh: I18N.zh.badPoints, en: I18N.en.badPoints }; else points = Number(tx.points); }
  let sv = 0;
  if (String(tx.sv).trim() !== "") { sv = parseYuan(tx.sv); if (sv === null) errs.sv = { zh: I18N.zh.badMoney, en: I18N.en.badMoney }; }
  return { errs, req: { txn_id: tx.id, member_id: tx.memberId, bill_fen: bill || 0, coupon_code: tx.coupon || "", points, stored_value_fen: sv || 0 } };
}

let quoteTimer = null, quoteSeq = 0;
function validateAndQuote(now) {
  clearTimeout(quoteTimer);
  quoteTimer = setTimeout(requestQuote, now ? 0 : 150);
}
async function requestQuote() {
  if (!S.txn || S.txn.status !== "editing") return;
  const { errs, req } = validate();
  // An empty bill is not yet an error worth a red box.
  if (S.txn.bill.trim() === "") { S.fieldErr = {}; S.quote = null; S.quoteErr = null; render(); return; }
  S.fieldErr = errs;
  if (Object.keys(errs).length) { S.quote = null; S.quoteErr = null; render(); return; }
  const my = ++quoteSeq;
  const r = await api("POST", "/api/quote", req);
  if (my !== quoteSeq) return;
  if (r.ok) { S.quote = r.data.quote; S.account = r.data.account; S.quoteErr = null; }
  else {
    const ref = r.data && r.data.refusal;
    S.quote = null; S.quoteErr = null;
    const fieldOf = { bill: "bill", points: "points", stored_value: "sv" };
    if (ref && fieldOf[ref.field]) S.fieldErr[fieldOf[ref.field]] = ref; else S.quoteErr = ref;
  }
  render();
}

async function confirmCheckout() {
  const { errs, req } = validate();
  if (Object.keys(errs).length) { S.fieldErr = errs; render(); return; }
  S.txn.status = "submitting"; saveTxn(); render();
  const r = await api("POST", "/api/checkout", req);
  if (r.ok) {
    // The agent answers only once the event is on disk.
    S.txn.status = "recorded"; S.txn.receipt = r.data; saveTxn();
    refreshAccount(); refreshState().then(render);
  } else {
    S.txn.status = "editing"; saveTxn();
    S.quoteErr = (r.data && r.data.refusal) || { zh: I18N.zh.netError, en: I18N.en.netError };
  }
  render();
}

async function submitTopUp() {
  const tp = S.topup || { id: newTxnID(), amount: "" };
  S.topup = tp;
  const fen = parseYuan(tp.amount);
  if (fen === null || fen <= 0) { tp.err = { zh: I18N.zh.badMoney, en: I18N.en.badMoney }; render(); return; }
  tp.err = null;
  localStorage.setItem("mp.topup", JSON.stringify(tp));
  const r = await api("POST", "/api/topups", { txn_id: tp.id, member_id: S.txn.memberId, amount_fen: fen });
  if (r.ok) {
    const e = r.data.event.TopUp;
    S.topup = { id: newTxnID(), amount: "", done: { amount: e.AmountFen, bonus: e.BonusFen } };
    localStorage.setItem("mp.topup", JSON.stringify(S.topup));
    await refreshAccount(); await refreshState();
    validateAndQuote(true);
  } else { tp.err = r.data && r.data.refusal; }
  render();
}

async function redeemVoucher() {
  const v = S.voucher; if (!v) return;
  const key = "mp.voucherTxn." + v.Code;
  let id = localStorage.getItem(key); if (!id) { id = newTxnID(); localStorage.setItem(key, id); }
  const r = await api("POST", "/api/vouchers/redeem", { txn_id: id, code: v.Code, member_id: S.account ? S.account.member.ID : "" });
  if (r.ok) { refreshState().then(render); S.notice = null; S.voucher = null; S.vdone = { code: v.Code }; S.okText = t("redeemed") + " " + v.Code + " · #" + r.data.event.Seq; }
  else S.notice = r.data && r.data.refusal;
  render();
}

// Enrolment at the counter, by phone.
function openEnrol(voucherCode) {
  const d = document.getElementById("enrol-dialog");
  let draft = JSON.parse(localStorage.getItem("mp.enrolDraft") || "null");
  if (!draft) draft = { id: newTxnID(), phone: "", name: "", voucher: voucherCode || "", consent: false };
  if (voucherCode) draft.voucher = voucherCode;
  localStorage.setItem("mp.enrolDraft", JSON.stringify(draft));
  document.getElementById("enrol-phone").value = draft.phone;
  document.getElementById("enrol-name").value = draft.name;
  document.getElementById("enrol-voucher").value = draft.voucher;
  document.getElementById("enrol-consent").checked = draft.consent;
  for (const id of ["enrol-phone-err", "enrol-name-err", "enrol-consent-err", "enrol-err"]) document.getElementById(id).textContent = "";
  applyI18n(d);
  d.showModal();
}
function enrolDraft() {
  const draft = JSON.parse(localStorage.getItem("mp.enrolDraft") || "null") || { id: newTxnID() };
  draft.phone = document.getElementById("enrol-phone").value;
  draft.name = document.getElementById("enrol-name").value;
  draft.voucher = document.getElementById("enrol-voucher").value;
  draft.consent = document.getElementById("enrol-consent").checked;
  localStorage.setItem("mp.enrolDraft", JSON.stringify(draft));
  return draft;
}
async function submitEnrol() {
  const d = enrolDraft();
  const phoneOK = /^(\+?86)?1[3-9]\d{9}$/.test(d.phone.replace(/[\s-]/g, ""));
  document.getElementById("enrol-phone").setAttribute("aria-invalid", String(!phoneOK));
  document.getElementById("enrol-phone-err").textContent = phoneOK ? "" : t("badPhone");
  document.getElementById("enrol-consent-err").textContent = d.consent ? "" : t("needConsent");
  if (!phoneOK || !d.consent) return;
  const r = await api("POST", "/api/enrol", { txn_id: d.id, phone: d.phone, name: d.name, consent: d.consent, voucher_code: d.voucher });
  if (!r.ok) {
    const ref = r.data && r.data.refusal;
    const target = ref && ref.field ? "enrol-" + ref.field + "-err" : "enrol-err";
    (document.getElementById(target) || document.getElementById("enrol-err")).textContent = sentence(ref);
    return;
  }
  localStorage.removeItem("mp.enrolDraft");
  const en = r.data.event.Enrolment;
  S.enrolled = { phone: en.Phone.slice(0, 3) + "****" + en.Phone.slice(7), seq: r.data.event.Seq, ref: en.LocalRef };
  localStorage.setItem("mp.enrolled", JSON.stringify(S.enrolled));
  S.voucher = null; S.notice = null; S.vcheck = null; S.vdone = null;
  document.getElementById("enrol-dialog").close();
  // The new member can top up or pay at once, as "local:<ref>" until the
  // cloud's member id reaches this till.
  startTxn("local:" + en.LocalRef);
  await refreshAccount(); await refreshState();
  render();
}

async function refreshAccount() {
  if (!S.txn) return;
  const r = await api("GET", "/api/members/" + encodeURIComponent(S.txn.memberId));
  if (r.ok) { S.account = r.data; render(); }
}

async function refreshState() {
  const r = await api("GET", "/api/counter");
  if (!r.ok) { S.online = false; render(); return; }
  S.store = r.data; S.online = r.data.online; S.pending = r.data.pending;
  document.getElementById("store-name").textContent = (r.data.brand ? r.data.brand + " " : "") + (r.data.store_name || r.data.store);
}

let es = null;
function connectStream() {
  // A stream refused (signed out) is closed for good: open a new one.
  if (es && es.readyState !== EventSource.CLOSED) return;
  es = new EventSource("/api/stream");
  es.addEventListener("scan", e => onScan(JSON.parse(e.data)));
  es.onopen = async () => {
    // Catch up on a scan made while the page was away.
    const r = await api("GET", "/api/counter");
    if (r.ok && r.data.last && r.data.last.seq > S.lastSeq && Date.now() - Date.parse(r.data.last.at) < 120000) onScan(r.data.last);
  };
}

let started = false;
async function startCounter() {
  await refreshState();
  if (S.txn) {
    // A reload mid-transaction: find out whether it was recorded.
    if (S.txn.status === "submitting") {
      const r = await api("GET", "/api/transactions/" + encodeURIComponent(S.txn.id));
      if (r.ok) { S.txn.status = "recorded"; S.txn.receipt = r.data; } else { S.txn.status = "editing"; }
      saveTxn();
    }
    await refreshAccount();
    if (S.txn.status === "editing") requestQuote();
  }
  render();
  connectStream();
  if (started) return;
  started = true;
  setInterval(async () => {
    if (!me) return;
    await refreshState();
    // Balances change as pending events reach the cloud and the replica catches up.
    if (S.txn && S.txn.status === "editing" && !S.quote) await refreshAccount();
    render();
  }, 3000);
}

async function boot() {
  document.getElementById("signin-form").addEventListener("submit", submitSignIn);
  document.getElementById("signout").addEventListener("click", signOut);
  document.getElementById("enrol-cancel").addEventListener("click", () => { localStorage.removeItem("mp.enrolDraft"); document.getElementById("enrol-dialog").close(); });
  document.getElementById("enrol-submit").addEventListener("click", submitEnrol);
  document.getElementById("enrol-form").addEventListener("input", enrolDraft);
  render();
  const r = await api("GET", "/api/session");
  if (!r.ok) { showSignIn(); return; }
  me = r.data;
  if (new URLSearchParams(location.search).get("next") === "manager" && me.role === "manager") { location.href = "/manager"; return; }
  await startCounter();
}
window.render = render;
boot();
