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
  // The service picker (service_picker.js): a stale or guessed choice is never left selected.
  window.hotlineServicePicker.attach(
    service, filter, catalogue, noMatch, document.getElementById("service-ambiguous"), loadHistory);
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
