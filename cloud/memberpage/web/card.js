// The member's card: a short-lived member code as a QR code, fetched again
// before it expires (half-way through its life), with a visible countdown.
"use strict";
const T = {
  zh: { hint: "结账时请向收银员出示此二维码，二维码会自动刷新。", points: "积分", sv: "储值余额", coupons: "我的优惠券", none: "暂无优惠券",
    left: "秒后刷新", refreshing: "正在刷新…", expired: "二维码已过期，正在重新获取；请检查网络。", offline: "网络不可用，无法刷新二维码。", lang: "English", until: "有效期至" },
  en: { hint: "Show this QR code to the cashier at checkout. It refreshes by itself.", points: "Points", sv: "Stored value", coupons: "My coupons", none: "No coupons",
    left: "s until refresh", refreshing: "Refreshing…", expired: "The QR code expired; fetching a new one. Check the network.", offline: "No network: the QR code cannot refresh.", lang: "中文", until: "until" },
};
let lang = localStorage.getItem("mp.lang") || (navigator.language && navigator.language.startsWith("zh") ? "zh" : "zh");
let card = null, skew = 0, refreshAt = 0, timer = null, failures = 0;
const $ = id => document.getElementById(id);
const api = "/api" + location.pathname;
function yuan(f) { f = Number(f || 0); return "¥" + Math.floor(f / 100) + "." + String(f % 100).padStart(2, "0"); }
function render() {
  const t = T[lang];
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  $("lang").textContent = t.lang; $("hint").textContent = t.hint; $("l-points").textContent = t.points; $("l-sv").textContent = t.sv; $("l-coupons").textContent = t.coupons;
  if (!card) return;
  $("brand").textContent = card.brand; $("name").textContent = card.name || card.phone_masked; $("phone").textContent = card.phone_masked;
  const tier = lang === "zh" ? card.tier : (card.tier_en || card.tier);
  $("tier").textContent = tier || ""; $("tier").classList.toggle("hidden", !tier);
  $("points").textContent = card.points; $("sv").textContent = yuan(card.stored_value_fen);
  const cs = card.coupons || [];
  $("coupons").replaceChildren(...(cs.length ? cs.map(c => { const d = document.createElement("div"); d.className = "coupon";
    d.textContent = `${c.name} · ${c.detail}` + (c.expires_at ? ` · ${t.until} ${c.expires_at}` : ""); return d; }) : [Object.assign(document.createElement("p"), { className: "muted", textContent: t.none })]));
}
function tick() {
  if (!card) return;
  const now = Date.now() + skew;
  const exp = Date.parse(card.expires_at);
  const left = Math.max(0, Math.round((exp - now) / 1000));
  const untilRefresh = Math.max(0, Math.round((refreshAt - now) / 1000));
  $("countdown").textContent = `${untilRefresh} ${T[lang].left}`;
  $("bar").style.width = Math.max(0, Math.min(100, 100 * left / (card.ttl_seconds || 60))) + "%";
  $("qrbox").classList.toggle("stale", left <= 0);
  if (left <= 0) $("error").textContent = T[lang].expired;
  if (now >= refreshAt) load();
}
let loading = false;
async function load() {
  if (loading) return; loading = true;
  try {
    const r = await fetch(api, { cache: "no-store" });
    const data = await r.json();
    if (!r.ok) { $("error").textContent = lang === "zh" ? data.zh : data.en; refreshAt = Date.now() + skew + 10000; return; }
    card = data; failures = 0;
    skew = Date.parse(card.server_time) - Date.now();
    const exp = Date.parse(card.expires_at), life = (card.ttl_seconds || 60) * 1000;
    refreshAt = exp - life / 2; // half-way: the code on screen always has time to scan
    $("qr").src = card.qr; $("qr").dataset.code = card.code; $("error").textContent = "";
    render();
  } catch (e) {
    failures++; $("error").textContent = T[lang].offline;
    refreshAt = Date.now() + skew + Math.min(30000, 2000 * failures);
  } finally { loading = false; }
}
$("lang").addEventListener("click", () => { lang = lang === "zh" ? "en" : "zh"; localStorage.setItem("mp.lang", lang); render(); tick(); });
render();
load().then(() => { tick(); timer = setInterval(tick, 1000); });
document.addEventListener("visibilitychange", () => { if (!document.hidden) { refreshAt = 0; tick(); } });
