// Dashboard: suggest the address from the title until the editor types one.

export function suggestSlug() {
  const title = document.getElementById("title");
  const slug = document.getElementById("slug");
  if (!title || !slug) return;
  let edited = slug.value !== "";
  slug.addEventListener("input", function () { edited = slug.value !== ""; });
  title.addEventListener("input", function () {
    if (edited) return;
    slug.value = title.value.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 80);
  });
}
