// The service picker: a search box over the dispatch catalogue (rules/services.csv) for a service
// <select>. It ranks each 细项 by how well the typed words name it: its name, then its keywords,
// then its 小类 and its 大类, then its description. The list keeps only what matches, each shown as
// 大类 › 小类 › 细项. One best match is selected; a tie (供暖: 供暖不热 and 供暖收费), a match in a
// description only, or no match selects nothing: a stale or guessed choice must never be dispatched.
// Used by the call form and by the classify form of a 待分类 case.
(function () {
  function score(s, q) {
    if (!s) return 0;
    if (s.name === q) return 9;
    if (s.name.indexOf(q) >= 0 || q.indexOf(s.name) >= 0) return 7;
    if (s.keywords.indexOf(q) >= 0) return 6;
    if (s.keywords.some(function (k) { return k.indexOf(q) >= 0 || q.indexOf(k) >= 0; })) return 5;
    if (s.minor && (s.minor.indexOf(q) >= 0 || q.indexOf(s.minor) >= 0)) return 4;
    if (s.major && (s.major.indexOf(q) >= 0 || q.indexOf(s.major) >= 0)) return 3;
    return s.description.indexOf(q) >= 0 ? 1 : 0;
  }
  // select: the <select>; filter: the search box; noMatch, ambiguous: the two hints; changed: called
  // after each search has set (or cleared) the selection.
  function attach(select, filter, catalogue, noMatch, ambiguous, changed) {
    filter.addEventListener("input", function () {
      var q = filter.value.trim();
      var best = [], bestScore = 0, shown = 0;
      Array.prototype.forEach.call(select.options, function (option) {
        if (!option.value) { option.hidden = false; return; }
        var points = q ? score(catalogue[option.value], q) : 1;
        option.hidden = points === 0;
        if (points > 0) shown += 1;
        if (points > bestScore) { best = [option]; bestScore = points; }
        else if (points === bestScore && points > 0) best.push(option);
      });
      if (!q) { noMatch.hidden = true; ambiguous.hidden = true; return; }
      // Found only in a description: shown, never chosen for the operator.
      var chosen = best.length === 1 && bestScore > 1 ? best[0].value : "";
      select.value = chosen;
      noMatch.hidden = shown > 0;
      ambiguous.hidden = !!chosen || shown === 0;
      ambiguous.textContent = chosen || shown === 0 ? "" : "有 " + shown + " 项匹配，请在列表中选择";
      if (changed) changed();
    });
  }
  // A <select data-service-picker> without its own search box gets one (the classify form).
  function hint(className, text) {
    var p = document.createElement("p");
    p.className = className;
    p.setAttribute("role", "status");
    p.hidden = true;
    p.textContent = text;
    return p;
  }
  function attachAll() {
    Array.prototype.forEach.call(document.querySelectorAll("select[data-service-picker]"), function (select) {
      var catalogue = JSON.parse(select.dataset.catalogue || "{}");
      var filter = document.createElement("input");
      filter.type = "search";
      filter.className = "service-filter";
      filter.autocomplete = "off";
      filter.placeholder = "输入关键词、小类或大类筛选，如 噪音、油烟、供热";
      filter.setAttribute("aria-label", "筛选服务事项");
      var noMatch = hint("error service-no-match", "没有匹配的服务事项，请换个关键词，或在列表中选择");
      var ambiguous = hint("muted service-ambiguous", "");
      select.parentNode.insertBefore(filter, select);
      select.parentNode.insertBefore(noMatch, select.nextSibling);
      select.parentNode.insertBefore(ambiguous, noMatch.nextSibling);
      attach(select, filter, catalogue, noMatch, ambiguous, null);
    });
  }
  window.hotlineServicePicker = {attach: attach, score: score};
  attachAll();
})();
