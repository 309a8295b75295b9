// Renders every element with a data-chart attribute through ECharts (served by SQM).
// Chart specs are small JSON objects produced server-side: {type, labels, values} or
// {type: "sunburst", data} or {type: "echarts", option} for a full ECharts option.
(function () {
  function optionFor(spec) {
    if (spec.type === "echarts") return spec.option;
    if (spec.type === "sunburst") {
      return { tooltip: { formatter: "{b}: {c}%" }, series: [{ type: "sunburst", data: spec.data, radius: [0, "95%"], label: { rotate: "radial", fontSize: 10 } }] };
    }
    if (spec.type === "line") {
      return { tooltip: { trigger: "axis" }, grid: { left: 40, right: 10, top: 20, bottom: 30 },
        xAxis: { type: "category", data: spec.labels }, yAxis: { type: "value", scale: true },
        series: (spec.series || [{ name: "", data: spec.values }]).map(function (s) { return { type: "line", name: s.name, data: s.data || s.values, smooth: true }; }),
        legend: spec.series ? {} : undefined };
    }
    return { tooltip: {}, grid: { left: 40, right: 10, top: 20, bottom: 40 },
      xAxis: { type: "category", data: spec.labels, axisLabel: { interval: 0, rotate: spec.labels.length > 6 ? 30 : 0 } },
      yAxis: { type: "value" }, series: [{ type: spec.type || "bar", data: spec.values, itemStyle: { color: "#2563eb" } }] };
  }
  function render(root) {
    if (typeof echarts === "undefined") return;
    (root || document).querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.rendered) return;
      var chart = echarts.init(el, null, { renderer: "svg" });
      chart.setOption(optionFor(JSON.parse(el.dataset.chart)));
      el.dataset.rendered = "1";
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { render(document); });
  document.addEventListener("htmx:afterSwap", function (e) { render(e.target); });
  window.sqmRenderCharts = render;
})();
