"use strict";
const T = {
  zh: { title: "加入会员", intro: "登记手机号即可成为会员，积分、优惠券和储值都在手机上。", phone: "手机号", name: "姓名（可选）",
    consent: "我同意会员条款和隐私政策，并同意接收会员消息", submit: "加入会员", sendCode: "获取验证码", code: "短信验证码", sent: "验证码已发送，请查看短信。", badCode: "请输入短信中的 6 位验证码。", badPhone: "请输入 11 位中国大陆手机号，例如 13800138000。",
    longName: "姓名最多 40 个字。", needConsent: "请先阅读并勾选同意会员条款。", done: "欢迎加入！请收藏下面的会员卡链接。", open: "打开我的会员卡", net: "网络不可用，请稍后再试。", lang: "English" },
  en: { title: "Join", intro: "Join with your mobile number: points, coupons and stored value on your phone.", phone: "Mobile number", name: "Name (optional)",
    consent: "I agree to the membership terms and privacy policy, and to member messages", submit: "Join", sendCode: "Text me a code", code: "Code from the text message", sent: "Code sent. Check your text messages.", badCode: "Enter the 6-digit code from the text message.", badPhone: "Enter an 11-digit mainland China mobile number, e.g. 13800138000.",
    longName: "The name can have at most 40 characters.", needConsent: "Please read and tick the box to agree to the terms.", done: "Welcome! Bookmark your card link below.", open: "Open my member card", net: "No network. Try again shortly.", lang: "中文" },
};
let lang = localStorage.getItem("mp.lang") || "zh";
const $ = id => document.getElementById(id);
const parts = location.pathname.split("/"); // /join/<brand>/<store>
const q = new URLSearchParams(location.search);
function render() {
  const t = T[lang];
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const [id, k] of [["title", "title"], ["intro", "intro"], ["l-phone", "phone"], ["l-name", "name"], ["l-consent", "consent"], ["submit", "submit"], ["send-code", "sendCode"], ["l-code", "code"], ["lang", "lang"], ["done-text", "done"], ["card-link", "open"]]) $(id).textContent = t[k];
}
function validate() {
  const t = T[lang], phone = $("phone").value.replace(/[\s-]/g, ""), name = $("name").value.trim();
  const errs = {};
  if (!/^(\+?86)?1[3-9]\d{9}$/.test(phone)) errs.phone = t.badPhone;
  if ([...name].length > 40) errs.name = t.longName;
  if (!$("consent").checked) errs.consent = t.needConsent;
  if (!/^\d{6}$/.test($("code").value.trim())) errs.code = t.badCode;
  for (const f of ["phone", "name", "consent", "code"]) { $(f + "-err").textContent = errs[f] || ""; $(f).setAttribute("aria-invalid", String(!!errs[f])); }
  return Object.keys(errs).length === 0;
}
$("form").addEventListener("submit", async e => {
  e.preventDefault();
  $("form-err").textContent = "";
  if (!validate()) return;
  $("submit").disabled = true;
  try {
    const r = await fetch(`/api/join/${parts[2]}/${parts[3]}`, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ phone: $("phone").value, name: $("name").value, consent: $("consent").checked, staff: q.get("staff") || "", voucher: q.get("voucher") || "", code: $("code").value.trim() }) });
    const data = await r.json();
    if (!r.ok) { $("form-err").textContent = lang === "zh" ? data.zh : data.en; return; }
    $("form").classList.add("hidden"); $("done").classList.remove("hidden"); $("card-link").href = data.card_path;
  } catch (err) { $("form-err").textContent = T[lang].net; } finally { $("submit").disabled = false; }
});
$("send-code").addEventListener("click", async () => {
  const t = T[lang], phone = $("phone").value.replace(/[\s-]/g, "");
  $("form-err").textContent = "";
  if (!/^(\+?86)?1[3-9]\d{9}$/.test(phone)) { $("phone-err").textContent = t.badPhone; return; }
  $("send-code").disabled = true;
  try {
    const r = await fetch(`/api/join/${parts[2]}/${parts[3]}/code`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ phone }) });
    const data = await r.json();
    $("code-err").textContent = r.ok ? t.sent : (lang === "zh" ? data.zh : data.en);
  } catch (err) { $("form-err").textContent = t.net; } finally { $("send-code").disabled = false; }
});
$("lang").addEventListener("click", () => { lang = lang === "zh" ? "en" : "zh"; localStorage.setItem("mp.lang", lang); render(); });
render();
