// The manager view: today's numbers at this counter, sync and device health.
"use strict";
let status = null, today = null;
function stat(id, label, value) {
  return el("div", { class: "stat" }, el("div", { class: "value", id }, value), el("div", { class: "label" }, label));
}
function age(sec) {
  if (sec < 0) return t("never");
  if (sec < 120) return Math.round(sec) + " " + t("secondsAgo");
  if (sec < 7200) return Math.round(sec / 60) + " " + t("minutesAgo");
  return Math.round(sec / 3600) + " " + t("hoursAgo");
}
function render() {
  applyI18n();
  document.getElementById("lang").textContent = t("lang");
  if (status) {
    const net = document.getElementById("net");
    net.className = "pill " + (status.sync.online ? "online" : "offline");
    net.textContent = status.sync.online ? t("online") : t("offline");
    document.getElementById("sync").replaceChildren(
      stat("sync-online", t("sync"), status.sync.online ? t("online") : t("offline")),
      stat("sync-pending", t("pending"), status.outbox.Pending),
      stat("sync-age", t("replicaAge") + (status.replica_stale ? " ⚠" : ""), age(status.replica_age_seconds)));
    // What the manager should know (a stale replica, a rebuild), then the last sync error.
    const lines = [];
    if (status.notice) lines.push(sentence(status.notice));
    if (status.sync.last_error) lines.push(t("lastError") + ": " + status.sync.last_error);
    document.getElementById("sync-error").textContent = lines.join(" · ");
    const devs = status.devices || [];
    document.getElementById("devices").replaceChildren(...devs.map(d => el("tr", {},
      el("td", {}, d.name, el("div", { class: "muted" }, d.path)),
      el("td", {}, el("span", { class: "pill " + (d.connected ? "online" : "offline") }, d.connected ? t("connected") : t("disconnected"))),
      el("td", {}, d.frames), el("td", { class: "refused" }, d.refused), el("td", {}, d.last_error || ""))));
  }
  if (today) {
    document.getElementById("date").textContent = today.date;
    document.getElementById("today").replaceChildren(
      stat("today-visits", t("visitsToday"), today.visits),
      stat("today-sales", t("sales"), yuan(today.sales_fen)),
      stat("today-new", t("newMembers"), today.new_members),
      stat("today-coupons", t("redemptions") + " · " + t("couponsUsed"), today.coupons_used),
      stat("today-points", t("redemptions") + " · " + t("pointsBurned"), today.points_burned),
      stat("today-sv", t("svUsed"), yuan(today.stored_value_fen)),
      stat("today-vouchers", t("redemptions") + " · " + t("vouchers"), today.vouchers),
      stat("today-topups", t("topUps"), yuan(today.top_up_fen)));
  }
}
async function refresh() {
  const [s, d] = await Promise.all([api("GET", "/api/status"), api("GET", "/api/today")]);
  if (s.ok) { status = s.data; if (!storeNamed) document.getElementById("store-name").textContent = status.store; }
  if (d.ok) today = d.data;
  render();
}
let storeNamed = false;
api("GET", "/api/counter").then(r => {
  if (r.ok && r.data.store_name) { storeNamed = true; document.getElementById("store-name").textContent = (r.data.brand ? r.data.brand + " " : "") + r.data.store_name; }
});
// Signed out or timed out: sign in again on the counter page.
window.onSignedOut = () => { location.href = "/?next=manager"; };
window.render = render;
refresh();
setInterval(refresh, 2000);
