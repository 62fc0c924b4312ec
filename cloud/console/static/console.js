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
// A campaign's results: return rate of treated against holdout, and the
// return-rate lift with its 95% interval.
(function () {
  "use strict";
  var el = document.getElementById("lift-data");
  if (!el || !window.echarts) return;
  var d = JSON.parse(el.textContent);
  var g = document.getElementById("groups-chart");
  if (g) {
    echarts.init(g).setOption({
      animation: false, tooltip: { trigger: "axis" }, grid: { left: 48, right: 16, top: 16, bottom: 28 },
      xAxis: { type: "category", data: d.groups }, yAxis: { type: "value", name: "%" },
      series: [{ name: d.Labels["return"], type: "bar", data: d.return_pct, itemStyle: { color: "#b4232a" }, label: { show: true, position: "top" } }]
    });
  }
  var l = document.getElementById("lift-chart");
  if (l && d.metrics) {
    var iv = d.interval[0];
    echarts.init(l).setOption({
      animation: false, grid: { left: 150, right: 24, top: 16, bottom: 28 },
      tooltip: { trigger: "item" },
      xAxis: { type: "value", name: "pp", scale: true },
      yAxis: { type: "category", data: d.metrics },
      series: [
        { name: "95%", type: "line", data: [[iv[0], d.metrics[0]], [iv[1], d.metrics[0]]], lineStyle: { width: 6, color: "#e8a0a3" }, symbol: "rect", symbolSize: [3, 18],
          markLine: { silent: true, symbol: "none", lineStyle: { color: "#6b7280", type: "dashed" }, data: [{ xAxis: 0 }] } },
        { name: d.Labels.lift, type: "scatter", data: [[d.estimate[0], d.metrics[0]]], symbolSize: 14, itemStyle: { color: "#b4232a" }, label: { show: true, position: "top", formatter: function (p) { return p.value[0] + " pp"; } } }
      ]
    });
  }
  document.documentElement.setAttribute("data-charts", "ready");
})();
