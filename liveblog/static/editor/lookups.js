// After publishing: the server looks bare post and video links up in the background. If one
// cannot be found, the editor is told why, and may retry.
import { api, explain } from "./api.js";
import { el } from "./dom.js";

const POLL_MS = 1000;
const POLL_TIMES = 30;

export function LookupWarning(base) {
  this.base = base;
  this.box = document.getElementById("lookup-warning");
  const self = this;
  this.box.addEventListener("click", function (event) {
    const button = event.target.closest("button[data-retry]");
    if (!button) return;
    button.disabled = true;
    api("POST", self.base + "/entries/" + button.dataset.retry + "/lookups").then(function (result) {
      if (!result.ok) return self.show(button.dataset.retry, [], explain(result));
      self.watch(result.data);
    });
  });
}

LookupWarning.prototype.watch = function (entry) {
  const self = this;
  let times = 0;
  function check(current) {
    const pending = current.unresolved.filter(function (item) { return item.state === "pending"; });
    const failed = current.unresolved.filter(function (item) { return item.state === "failed"; });
    if (!pending.length || ++times > POLL_TIMES) return self.show(current.id, failed, null);
    setTimeout(function () {
      api("GET", self.base + "/entries/" + current.id).then(function (result) {
        if (result.ok) check(result.data);
      });
    }, POLL_MS);
  }
  check(entry);
};

LookupWarning.prototype.show = function (entryId, failed, problem) {
  this.box.textContent = "";
  this.box.hidden = !failed.length && !problem;
  if (this.box.hidden) return;
  const lines = failed.map(function (item) {
    return el("li", {}, [
      el("a", { href: item.url, rel: "noopener", text: item.url }),
      document.createTextNode(": " + item.reason)
    ]);
  });
  this.box.appendChild(el("p", { text: problem || "Readers see a link instead of the quote: these posts could not be looked up." }));
  this.box.appendChild(el("ul", {}, lines));
  this.box.appendChild(el("button", { type: "button", "data-retry": entryId, text: "Retry the look-up" }));
};
