// excx dashboard: draws the Vega-Lite specs embedded in the page, and sends
// the login and logout requests of the JSON API. Nothing is loaded from
// anywhere but this server.
(function () {
  "use strict";

  function drawCharts() {
    document.querySelectorAll("script[type='application/json'][data-chart]")
      .forEach(function (source) {
        var target = document.getElementById(source.dataset.chart);
        var spec = JSON.parse(source.textContent);
        window.vegaEmbed(target, spec, { actions: false, renderer: "svg" })
          .then(function () { target.dataset.drawn = "true"; })
          .catch(function (error) {
            target.textContent = "This chart could not be drawn: " + error;
          });
      });
  }

  function login(form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var message = document.getElementById("login-error");
      message.textContent = "";
      fetch("/api/v1/login", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "same-origin",
        body: JSON.stringify({
          username: form.elements.username.value,
          password: form.elements.password.value
        })
      }).then(function (response) {
        if (response.ok) {
          window.location.assign(form.dataset.next || "/dashboard");
          return null;
        }
        return response.json().then(function (body) {
          message.textContent = body.detail || "The login failed.";
        });
      }).catch(function () { message.textContent = "The server did not answer."; });
    });
  }

  function logout(button) {
    button.addEventListener("click", function () {
      fetch("/api/v1/logout", {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": button.dataset.csrf }
      }).finally(function () { window.location.assign("/login"); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (window.vegaEmbed) { drawCharts(); }
    var form = document.getElementById("login");
    if (form) { login(form); }
    var button = document.getElementById("logout");
    if (button) { logout(button); }
  });
}());
