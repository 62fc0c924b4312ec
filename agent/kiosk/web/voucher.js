// Group-buy platform vouchers on the counter page: a scanned or typed
// code is checked with its platform through the cloud; the cashier sees
// the deal (name, price, uses left) and confirms how many uses to consume.
// The confirm's transaction id is kept per code in localStorage, so a
// double tap or a reload consumes once. Offline, the deals the brand
// allows are offered for provisional acceptance. After a voucher is
// consumed the guest is offered membership (join QR or enrolment by phone
// carrying the voucher).
"use strict";
const VOUCHER_WORDS = {
  zh: { checking: "正在向平台验券…", price: "售价", left: "剩余次数", uses: "核销次数", consume: "确认核销",
        offlineTitle: "连不上云端：可按门店规则先接受（恢复联网后向平台核销）", accept: "先接受", leftToday: "今日还可接受",
        consumed: "已核销", accepted: "已先接受（待向平台核销）", typeCode: "输入团购券码", check: "验券" },
  en: { checking: "Checking with the platform…", price: "Price", left: "Uses left", uses: "Uses to consume", consume: "Consume",
        offlineTitle: "The cloud cannot be reached: accept per the brand's rules (consumed with the platform when back online)", accept: "Accept", leftToday: "Left today",
        consumed: "Consumed", accepted: "Accepted provisionally (to be consumed with the platform)", typeCode: "Type a voucher code", check: "Check" },
};
function vt(k) { return (VOUCHER_WORDS[LANG] || VOUCHER_WORDS.zh)[k] || k; }

// S.vcheck: null | {code, loading} | the agent's VoucherCheck. S.vdone: the last consumed voucher code.
async function checkVoucher(code, platform) {
  S.vcheck = { code, loading: true }; S.notice = null; render();
  const r = await api("POST", "/api/vouchers/check", { code, platform: platform || "" });
  if (!S.vcheck || S.vcheck.code !== code) return;
  if (r.ok) { S.vcheck = r.data; S.vcheck.count = 1; }
  else { S.vcheck = null; S.notice = r.data && r.data.refusal; S.vdone = { code }; }
  render();
}

function voucherTxn(code) {
  const key = "mp.voucherTxn." + code;
  let id = localStorage.getItem(key); if (!id) { id = newTxnID(); localStorage.setItem(key, id); }
  return id;
}

async function consumeVoucher(provisionalDeal) {
  const c = S.vcheck; if (!c) return;
  const platform = provisionalDeal ? provisionalDeal.platform : c.deal.platform;
  const body = { txn_id: voucherTxn(c.code), code: c.code, platform, count: Number(c.count || 1),
    member_id: S.account ? S.account.member.ID : "" };
  if (provisionalDeal) body.deal_id = provisionalDeal.deal_id;
  const r = await api("POST", provisionalDeal ? "/api/vouchers/provisional" : "/api/vouchers/consume", body);
  if (r.ok) {
    localStorage.removeItem("mp.voucherTxn." + c.code);
    const v = r.data.event.Voucher;
    S.okText = (v.Provisional ? vt("accepted") : vt("consumed")) + " " + (v.Title || c.code) + " ×" + v.Count + " · #" + r.data.event.Seq;
    S.vdone = { code: c.code }; S.vcheck = null; S.voucher = null; S.notice = null;
    refreshState().then(render);
  } else S.notice = r.data && r.data.refusal;
  render();
}

// joinOffer invites a guest a voucher brought to become a member.
function joinOffer(code) {
  if (S.account) return null;
  const qr = "/join.png?voucher=" + encodeURIComponent(code);
  return el("div", { id: "join-offer" },
    el("p", {}, el("strong", {}, t("joinQ"))),
    el("img", { class: "qr", id: "join-qr", alt: t("joinQR"), src: qr }),
    el("div", { class: "actions" }, el("button", { id: "enrol-voucher-guest", onclick: () => openEnrol(code) }, t("enrolByPhone"))));
}

// voucherView is the voucher part of the counter's customer panel.
function voucherView() {
  const out = [];
  const c = S.vcheck;
  if (c && c.loading) {
    out.push(el("div", { id: "voucher", class: "notice warn" }, vt("checking"), " ", c.code));
  } else if (c && c.deal) {
    const d = c.deal, max = Math.max(1, d.count_left || 1);
    out.push(el("div", { id: "voucher" },
      el("h2", {}, t("voucher"), ": ", el("span", { id: "deal-title" }, d.title || d.code)),
      el("p", {}, `${d.platform} ${d.code} · ${vt("price")} `, el("span", { id: "deal-price" }, yuan(d.price_fen)),
        ` · ${vt("left")} `, el("span", { id: "deal-left" }, String(d.count_left))),
      el("label", { class: "field", for: "voucher-count" }, vt("uses")),
      el("input", { id: "voucher-count", type: "number", min: "1", max: String(max), value: String(c.count || 1), inputmode: "numeric",
        oninput: e => { c.count = Math.min(max, Math.max(1, Number(e.target.value) || 1)); } }),
      el("div", { class: "actions" }, el("button", { class: "primary", id: "consume-voucher", onclick: () => consumeVoucher(null) }, vt("consume")))));
  } else if (c && c.offline) {
    out.push(el("div", { id: "voucher" },
      el("div", { class: "notice warn", id: "voucher-offline" }, vt("offlineTitle")),
      el("p", {}, c.code, ` · ${vt("leftToday")} `, el("span", { id: "provisional-left" }, String(c.provisional_left || 0))),
      el("div", { class: "actions" }, ...(c.provisional_left > 0 ? (c.provisional_deals || []) : []).map(d =>
        el("button", { id: "provisional-" + d.deal_id, onclick: () => consumeVoucher(d) }, `${vt("accept")}: ${d.title} ${yuan(d.price_fen)}`)))));
  } else if (S.voucher && (S.voucher.Title || (c && c.imported))) {
    const v = (c && c.imported) || S.voucher;
    out.push(el("div", { id: "voucher" },
      el("h2", {}, t("voucher"), ": ", v.Title || v.Code),
      el("p", {}, `${v.Platform || ""} ${v.Code}` + (v.FaceValueFen ? ` · ${t("faceValue")} ${yuan(v.FaceValueFen)}` : "")),
      el("div", { class: "actions" }, el("button", { class: "primary", id: "redeem-voucher", onclick: redeemVoucher }, t("redeemVoucher"))),
      joinOffer(v.Code)));
    return out;
  }
  const code = (c && c.code) || (S.vdone && S.vdone.code);
  if (code) out.push(joinOffer(code));
  return out;
}

// typeVoucher lets the cashier type a code the scanner cannot read.
function typeVoucherBox() {
  const input = el("input", { id: "voucher-code-input", autocomplete: "off", maxlength: "64", placeholder: vt("typeCode") });
  return el("div", { class: "row", id: "type-voucher" }, input,
    el("button", { id: "check-voucher", onclick: () => { const v = input.value.trim(); if (v) { S.voucher = null; checkVoucher(v, ""); } } }, vt("check")));
}
