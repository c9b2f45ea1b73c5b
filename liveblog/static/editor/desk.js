// The compose page's "Delete this live blog": the button stays disabled until the blog's
// slug is typed exactly (the server checks the same).

export function confirmDeletion() {
  const form = document.getElementById("delete-form");
  if (!form) return;
  const input = document.getElementById("delete-confirm");
  const button = document.getElementById("delete-button");
  const check = function () { button.disabled = input.value.trim() !== form.dataset.slug; };
  input.addEventListener("input", check);
  check();
}
