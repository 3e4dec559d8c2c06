// The call form: caller history and knowledge-base suggestions as the operator types.
(function () {
  var form = document.getElementById("call-form");
  if (!form) return;
  var phone = form.querySelector("[name=caller_phone]");
  var service = form.querySelector("[name=service_code]");
  var filter = document.getElementById("service-filter");
  var panel = document.getElementById("caller-history");
  var catalogue = JSON.parse(form.dataset.catalogue || "{}");
  var noMatch = document.getElementById("service-no-match");
  var token = form.querySelector("[name=csrf_token]").value;
  // Posted, never put in a URL: what the caller said and their number stay out of access logs.
  function post(url, fields) {
    var body = new URLSearchParams(fields);
    body.set("csrf_token", token);
    return fetch(url, {method: "POST", body: body, credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : ""; });
  }
  var timer = null;
  function loadHistory() {
    var value = phone.value.trim();
    if (value.length < 5) { panel.innerHTML = ""; return; }
    post(panel.dataset.url, {phone: value, service_code: service.value})
      .then(function (html) { panel.innerHTML = html; });
  }
  phone.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(loadHistory, 300); });
  service.addEventListener("change", loadHistory);
  // The service picker: rank the catalogue (rules/services.csv) by how well the typed words name
  // each 细项: its name, then its keywords, then its 小类 and its 大类, then its description. The
  // list keeps only what matches, each shown as 大类 › 小类 › 细项. One best match is selected; a tie
  // (供暖: 供暖不热 and 供暖收费), a match in a description only, or no match selects nothing: a
  // stale or guessed choice must never be dispatched.
  var ambiguous = document.getElementById("service-ambiguous");
  function score(code, q) {
    var s = catalogue[code];
    if (!s) return 0;
    if (s.name === q) return 9;
    if (s.name.indexOf(q) >= 0 || q.indexOf(s.name) >= 0) return 7;
    if (s.keywords.indexOf(q) >= 0) return 6;
    if (s.keywords.some(function (k) { return k.indexOf(q) >= 0 || q.indexOf(k) >= 0; })) return 5;
    if (s.minor && (s.minor.indexOf(q) >= 0 || q.indexOf(s.minor) >= 0)) return 4;
    if (s.major && (s.major.indexOf(q) >= 0 || q.indexOf(s.major) >= 0)) return 3;
    return s.description.indexOf(q) >= 0 ? 1 : 0;
  }
  filter.addEventListener("input", function () {
    var q = filter.value.trim();
    var best = [], bestScore = 0, shown = 0;
    Array.prototype.forEach.call(service.options, function (option) {
      if (!option.value) { option.hidden = false; return; }
      var points = q ? score(option.value, q) : 1;
      option.hidden = points === 0;
      if (points > 0) shown += 1;
      if (points > bestScore) { best = [option]; bestScore = points; }
      else if (points === bestScore && points > 0) best.push(option);
    });
    if (!q) { noMatch.hidden = true; ambiguous.hidden = true; return; }
    // Found only in a description: shown, never chosen for the operator.
    var chosen = best.length === 1 && bestScore > 1 ? best[0].value : "";
    service.value = chosen;
    noMatch.hidden = shown > 0;
    ambiguous.hidden = !!chosen || shown === 0;
    ambiguous.textContent = chosen || shown === 0 ? "" : "有 " + shown + " 项匹配，请在列表中选择";
    loadHistory();
  });
  // Knowledge-base suggestions as the description is typed; a click answers the call from the article.
  var description = form.querySelector("[name=description]");
  var kbPanel = document.getElementById("kb-panel");
  var kbTimer = null, kbAsked = 0;
  function loadSuggestions() {
    var text = description.value.trim();
    if (text.length < 2) { kbPanel.innerHTML = ""; return; }
    var asked = ++kbAsked;
    post(kbPanel.dataset.url, {q: text})
      .then(function (html) {
        if (asked !== kbAsked) return;  // a later keystroke asked again
        kbPanel.innerHTML = html ? "<h3>知识库推荐</h3>" + html : "";
      });
  }
  description.addEventListener("input", function () { clearTimeout(kbTimer); kbTimer = setTimeout(loadSuggestions, 150); });
  kbPanel.addEventListener("click", function (event) {
    var button = event.target.closest(".kb-use");
    if (!button) return;
    form.querySelector("[name=answer_article]").value = button.dataset.article;
    form.requestSubmit();
  });
  if (description.value) loadSuggestions();
  form.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); form.requestSubmit(); }
  });
  if (phone.value) loadHistory();
})();
