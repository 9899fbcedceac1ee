// The console's only script: drop files onto the upload box, and reload the month page when
// the ledger changes (a return collected by the console, the command line or fetch).
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("upload");
  if (form) {
    var input = document.getElementById("files");
    ["dragenter", "dragover"].forEach(function (t) {
      document.addEventListener(t, function (e) { e.preventDefault(); form.classList.add("over"); });
    });
    document.addEventListener("dragleave", function () { form.classList.remove("over"); });
    document.addEventListener("drop", function (e) {
      e.preventDefault();
      form.classList.remove("over");
      if (e.dataTransfer && e.dataTransfer.files.length) { input.files = e.dataTransfer.files; form.submit(); }
    });
  }
  var month = document.getElementById("month");
  if (month) {
    setInterval(function () {
      fetch(month.dataset.stampUrl, {credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (d) { if (d.stamp !== month.dataset.stamp) { location.reload(); } })
        .catch(function () {});
    }, 5000);
  }
});
