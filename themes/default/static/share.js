// The permalink's share box: the device's own share sheet where the browser has one
// (navigator.share, on phones mostly) and a copy button where it may write to the
// clipboard. Without them, the plain links and the address field do it all.
(function () {
  "use strict";

  var box = document.querySelector(".share[data-url]");
  if (!box) return;
  var url = box.getAttribute("data-url");
  var title = box.getAttribute("data-title");

  var native = box.querySelector(".share-native");
  if (native && navigator.share) {
    native.hidden = false;
    native.querySelector("button").addEventListener("click", function () {
      navigator.share({ title: title, url: url }).catch(function () {
        // Dismissed by the reader, or refused: the links are still there.
      });
    });
  }

  var copy = box.querySelector(".share-copy-button");
  var field = box.querySelector("#share-url");
  var status = box.querySelector(".share-status");
  if (field) {
    field.addEventListener("focus", function () {
      field.select();
    });
  }
  if (copy && navigator.clipboard && navigator.clipboard.writeText) {
    copy.hidden = false;
    copy.addEventListener("click", function () {
      navigator.clipboard.writeText(url).then(
        function () {
          status.textContent = copy.getAttribute("data-copied");
        },
        function () {
          field.focus();
        }
      );
    });
  }
})();
