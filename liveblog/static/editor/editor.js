// The editor's pages: slug suggestion, the composer with its server-rendered preview, and
// the stream of entries. Everything goes through the JSON API with the session cookie and
// the CSRF header, so the API's rules are the only rules. No dependencies.
import { labelFormats } from "./blog-settings.js";
import { Composer } from "./composer.js";
import { suggestSlug } from "./dashboard.js";
import { confirmDeletion } from "./desk.js";
import { Stream } from "./stream.js";

function init() {
  suggestSlug();
  confirmDeletion();
  labelFormats();
  const root = document.getElementById("editor");
  if (root) {
    new Composer(root);
    new Stream(root);
  }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
