// The console's small scripts: the dashboard's charts (ECharts) and a
// confirmation before destructive forms. Pages work without them.
(function () {
  "use strict";
  document.querySelectorAll("form.confirm").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) e.preventDefault();
    });
  });
  var dataEl = document.getElementById("chart-data");
  if (!dataEl || !window.echarts) return;
  var d = JSON.parse(dataEl.textContent);
  var charts = [];
  var trend = document.getElementById("trend-chart");
  if (trend) {
    var c = echarts.init(trend, null, { renderer: "canvas" });
    c.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 48, right: 56, top: 32, bottom: 28 },
      xAxis: { type: "category", data: d.days },
      yAxis: [{ type: "value", name: d.labels.visits, minInterval: 1 }, { type: "value", name: "¥", position: "right" }],
      series: [
        { name: d.labels.net, type: "bar", yAxisIndex: 1, data: d.net_yuan.map(Number), itemStyle: { color: "#e8a0a3" } },
        { name: d.labels.visits, type: "line", data: d.visits, itemStyle: { color: "#b4232a" } },
        { name: d.labels.new_members, type: "line", data: d.new_members, itemStyle: { color: "#0b5cad" } }
      ]
    });
    charts.push(c);
  }
  var stores = document.getElementById("store-chart");
  if (stores) {
    var s = echarts.init(stores, null, { renderer: "canvas" });
    s.setOption({
      animation: false,
      tooltip: { trigger: "axis", valueFormatter: function (v) { return "¥" + Number(v).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 }); } },
      grid: { left: 110, right: 24, top: 12, bottom: 28 },
      xAxis: { type: "value" },
      yAxis: { type: "category", data: (d.stores || []).slice().reverse() },
      series: [{ name: d.labels.net, type: "bar", data: (d.store_net_yuan || []).map(Number).reverse(), itemStyle: { color: "#b4232a" } }]
    });
    charts.push(s);
  }
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  document.documentElement.setAttribute("data-charts", "ready");
})();
