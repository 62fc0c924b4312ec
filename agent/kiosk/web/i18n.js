// Shared by the kiosk pages: language (Chinese by default), money, JSON calls.
"use strict";
const I18N = {
  zh: {
    counter: "收银台", manager: "店长", online: "在线", offline: "离线", pending: "待同步",
    recovered: "重启前已记录（当时未显示），请勿重复录入：", understood: "知道了",
    kind_visit: "到店", kind_purchase: "消费", kind_top_up: "充值", kind_enrolment: "入会", kind_voucher_redemption: "团购券",
    staff: "员工", signIn: "员工登录", signOut: "退出登录", pin: "密码（PIN）", noStaffSetUp: "本机尚未配置员工，请店长设置员工文件。",
    scanPrompt: "请扫描会员码或会员卡", scanHint: "会员在手机上打开会员卡，出示二维码",
    enrolByPhone: "手机号入会", points: "积分", storedValue: "储值余额", tier: "等级",
    visits: "到店次数", birthday: "本月生日：可赠生日礼遇", coupons: "可用优惠券", noCoupons: "暂无优惠券",
    noCoupon: "不用券", bill: "消费金额（元）", pointsUse: "使用积分", svUse: "储值支付（元）", max: "全部",
    tierDiscount: "会员折扣", couponDiscount: "优惠券", pointsDiscount: "积分抵扣", svPaid: "储值支付",
    toPay: "还需支付（现金/银行卡/钱包）", confirm: "确认结账", recorded: "已记录", nextCustomer: "下一位顾客",
    recording: "正在记录…", provisional: "新会员（待总部确认）", unknownMember: "会员尚未同步到本机",
    voucher: "团购券", redeemVoucher: "核销团购券", joinQ: "加入会员？请顾客扫码", faceValue: "面值",
    enrol: "登记入会", phone: "手机号", name: "姓名（可选）", consent: "顾客已同意会员条款和隐私政策",
    voucherCode: "团购券码（可选）", cancel: "取消", topUp: "充值（元）", topUpBtn: "确认充值", bonus: "赠送",
    enrolled: "已登记入会（待同步到总部）", toppedUp: "已充值", redeemed: "已核销",
    badMoney: "请输入金额，例如 88 或 88.50", badPoints: "请输入整数积分", badPhone: "手机号应为 11 位中国大陆手机号，例如 13800138000。",
    needConsent: "请勾选：顾客同意会员条款。", netError: "无法连接本机服务，请检查后重试（未记录）。",
    today: "今日", visitsToday: "到店", sales: "会员消费", newMembers: "新会员", redemptions: "核销",
    couponsUsed: "优惠券", pointsBurned: "积分", svUsed: "储值支付", vouchers: "团购券", topUps: "充值",
    sync: "同步状态", replicaAge: "会员数据更新于", lastError: "最近错误", devices: "设备",
    device: "设备", connected: "已连接", disconnected: "未连接", frames: "扫描次数", refused: "拒收",
    joinQR: "扫码入会", joinHint: "请顾客用微信或相机扫码，登记为会员", never: "从未同步", secondsAgo: "秒前",
    minutesAgo: "分钟前", hoursAgo: "小时前", lang: "English", back: "返回收银台"
  },
  en: {
    counter: "Counter", manager: "Manager", online: "Online", offline: "Offline", pending: "pending",
    recovered: "Recorded just before the restart (not shown then); do not enter again:", understood: "OK",
    kind_visit: "Visit", kind_purchase: "Purchase", kind_top_up: "Top-up", kind_enrolment: "Enrolment", kind_voucher_redemption: "Voucher",
    staff: "Staff", signIn: "Sign in", signOut: "Sign out", pin: "PIN", noStaffSetUp: "No staff are set up on this till; the manager sets up the staff file.",
    scanPrompt: "Scan the member code or card", scanHint: "The member opens their card on the phone and shows the QR code",
    enrolByPhone: "Enrol by phone", points: "Points", storedValue: "Stored value", tier: "Tier",
    visits: "Visits", birthday: "Birthday month: offer the birthday treat", coupons: "Usable coupons", noCoupons: "No coupons",
    noCoupon: "No coupon", bill: "Bill (yuan)", pointsUse: "Points to use", svUse: "Pay from stored value (yuan)", max: "All",
    tierDiscount: "Member discount", couponDiscount: "Coupon", pointsDiscount: "Points", svPaid: "Stored value",
    toPay: "Still to pay (cash / card / wallet)", confirm: "Confirm", recorded: "Recorded", nextCustomer: "Next customer",
    recording: "Recording…", provisional: "New member (provisional until HQ confirms)", unknownMember: "Member not synced to this till yet",
    voucher: "Group-buy voucher", redeemVoucher: "Redeem voucher", joinQ: "Join? Ask the customer to scan", faceValue: "Face value",
    enrol: "Enrol", phone: "Mobile number", name: "Name (optional)", consent: "The customer agrees to the membership terms and privacy policy",
    voucherCode: "Group-buy voucher code (optional)", cancel: "Cancel", topUp: "Top up (yuan)", topUpBtn: "Top up", bonus: "bonus",
    enrolled: "Enrolled (provisional until synced with HQ)", toppedUp: "Topped up", redeemed: "Redeemed",
    badMoney: "Enter an amount, e.g. 88 or 88.50", badPoints: "Enter whole points", badPhone: "Enter an 11-digit mainland China mobile number, e.g. 13800138000.",
    needConsent: "Tick the box: the customer agrees to the terms.", netError: "Cannot reach this till's service. Check and try again (nothing recorded).",
    today: "Today", visitsToday: "Visits", sales: "Member sales", newMembers: "New members", redemptions: "Redemptions",
    couponsUsed: "Coupons", pointsBurned: "Points", svUsed: "Stored value paid", vouchers: "Vouchers", topUps: "Top-ups",
    sync: "Sync", replicaAge: "Member data updated", lastError: "Last error", devices: "Devices",
    device: "Device", connected: "Connected", disconnected: "Not connected", frames: "Scans", refused: "Refused",
    joinQR: "Scan to join", joinHint: "Ask the customer to scan with WeChat or the camera to join", never: "never synced", secondsAgo: "s ago",
    minutesAgo: "min ago", hoursAgo: "h ago", lang: "中文", back: "Back to the counter"
  }
};
let LANG = localStorage.getItem("mp.lang") || "zh";
function t(key) { return (I18N[LANG] && I18N[LANG][key]) || I18N.zh[key] || key; }
function applyI18n(root) {
  document.documentElement.lang = LANG === "zh" ? "zh-CN" : "en";
  (root || document).querySelectorAll("[data-i18n]").forEach(el => { el.textContent = t(el.dataset.i18n); });
}
function toggleLang() { LANG = LANG === "zh" ? "en" : "zh"; localStorage.setItem("mp.lang", LANG); applyI18n(); if (window.render) window.render(); }
// A bilingual sentence from the agent: the chosen language first.
function sentence(r) {
  if (!r) return "";
  return LANG === "zh" ? r.zh : r.en;
}
function otherSentence(r) { return r ? (LANG === "zh" ? r.en : r.zh) : ""; }
function yuan(fen) {
  fen = Number(fen || 0); const neg = fen < 0; if (neg) fen = -fen;
  return (neg ? "-" : "") + "¥" + Math.floor(fen / 100) + "." + String(fen % 100).padStart(2, "0");
}
// parseYuan reads "88", "88.5" or "88.50" into fen, without floating point; null if not money.
function parseYuan(s) {
  s = String(s || "").trim().replace(/^¥/, "");
  const m = /^(\d{1,7})(?:\.(\d{1,2}))?$/.exec(s);
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] || "0").padEnd(2, "0"));
}
async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  let resp;
  try { resp = await fetch(path, opts); } catch (e) { return { ok: false, status: 0, data: { refusal: { code: "network", zh: I18N.zh.netError, en: I18N.en.netError } } }; }
  let data = null;
  try { data = await resp.json(); } catch (e) { data = null; }
  // Signed out (or timed out): the page asks for a sign-in.
  if (resp.status === 401 && path !== "/api/session" && window.onSignedOut) window.onSignedOut();
  return { ok: resp.ok, status: resp.status, data };
}
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v === true) e.setAttribute(k, ""); else if (v !== false && v != null) e.setAttribute(k, v);
  }
  for (const k of kids.flat()) if (k != null && k !== false) e.append(k.nodeType ? k : String(k));
  return e;
}
function newTxnID() {
  const b = new Uint8Array(12); crypto.getRandomValues(b);
  return "t-" + Array.from(b, x => x.toString(16).padStart(2, "0")).join("");
}
