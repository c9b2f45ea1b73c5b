// A blog's clock in its form: a preset label format or a custom one, and an example of
// the label at the current time in the chosen zone and language, as the server formats it.

export function labelFormats() {
  const preset = document.getElementById("label_preset");
  if (!preset) return;
  const custom = document.getElementById("label-custom");
  const format = document.getElementById("label_format");
  const timezone = document.getElementById("timezone");
  const language = document.getElementById("language");
  const example = document.getElementById("label-example");
  let asked = 0;
  function showExample() {
    const count = ++asked;
    const query = new URLSearchParams({
      label_format: format.value, timezone: timezone.value.trim(), language: language.value.trim()
    });
    fetch(preset.dataset.exampleUrl + "?" + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      })
      .then(function (result) {
        if (count !== asked) return;
        example.textContent = result.ok ? "A label posted now reads: " + result.data.label : result.data.detail;
        example.classList.toggle("error", !result.ok);
      }, function () {
        if (count === asked) example.textContent = "";
      });
  }
  preset.addEventListener("change", function () {
    custom.hidden = preset.value !== "custom";
    if (preset.value === "custom") format.focus();
    else format.value = preset.value;
    showExample();
  });
  let timer = null;
  [format, timezone, language].forEach(function (input) {
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(showExample, 250);
    });
  });
  showExample();
}
